//! The GET rules of OSS: Range (legacy and `x-oss-range-behavior: standard`) and
//! conditional headers.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::error::OssError;
use crate::time::parse_http_date;

/// What a GET answers with respect to Range.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RangeDecision {
    /// 200, the whole object.
    Whole,
    /// 206, inclusive byte range.
    Partial { first: u64, last: u64 },
    /// 416 InvalidRange.
    Unsatisfiable,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Spec {
    FromTo(u64, Option<u64>),
    Suffix(u64),
}

fn parse_spec(h: &str) -> Option<Spec> {
    let h = h.trim();
    let rest = h.strip_prefix("bytes=")?;
    let rest = rest.trim();
    if rest.contains(',') {
        return None; // one range only
    }
    let (a, b) = rest.split_once('-')?;
    let (a, b) = (a.trim(), b.trim());
    let num = |s: &str| -> Option<u64> {
        if !s.is_empty() && s.bytes().all(|c| c.is_ascii_digit()) {
            s.parse().ok()
        } else {
            None
        }
    };
    if a.is_empty() {
        return Some(Spec::Suffix(num(b)?));
    }
    let first = num(a)?;
    if b.is_empty() {
        return Some(Spec::FromTo(first, None));
    }
    let last = num(b)?;
    if last < first {
        return None;
    }
    Some(Spec::FromTo(first, Some(last)))
}

/// Applies the OSS Range table.
///
/// * A syntactically invalid header (not `bytes=`, several ranges, last < first,
///   garbage) is ignored in both modes: 200 with the whole object.
/// * Legacy (no `standard`): any range that does not fit inside the object is ignored
///   (200 whole object); a fitting one gives 206.
/// * `standard`: the end is clamped to the object (206); a start at/after the size,
///   a zero-length suffix, or any range on a 0-byte object is 416.
pub fn decide_range(header: Option<&str>, standard: bool, size: u64) -> RangeDecision {
    let Some(h) = header else {
        return RangeDecision::Whole;
    };
    let Some(spec) = parse_spec(h) else {
        return RangeDecision::Whole;
    };
    match spec {
        Spec::FromTo(first, last) => {
            if first >= size {
                return if standard {
                    RangeDecision::Unsatisfiable
                } else {
                    RangeDecision::Whole
                };
            }
            match last {
                None => RangeDecision::Partial {
                    first,
                    last: size - 1,
                },
                Some(l) if l < size => RangeDecision::Partial { first, last: l },
                Some(_) => {
                    if standard {
                        RangeDecision::Partial {
                            first,
                            last: size - 1,
                        }
                    } else {
                        RangeDecision::Whole
                    }
                }
            }
        }
        Spec::Suffix(n) => {
            if n == 0 || size == 0 {
                return if standard {
                    RangeDecision::Unsatisfiable
                } else {
                    RangeDecision::Whole
                };
            }
            if n <= size {
                RangeDecision::Partial {
                    first: size - n,
                    last: size - 1,
                }
            } else if standard {
                RangeDecision::Partial {
                    first: 0,
                    last: size - 1,
                }
            } else {
                RangeDecision::Whole
            }
        }
    }
}

/// The conditional-request outcome.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CondOutcome {
    Proceed,
    NotModified,
    PreconditionFailed(&'static str),
}

#[derive(Debug, Default, Clone)]
pub struct Conditions<'a> {
    pub if_match: Option<&'a str>,
    pub if_none_match: Option<&'a str>,
    pub if_modified_since: Option<&'a str>,
    pub if_unmodified_since: Option<&'a str>,
}

fn strip_etag(s: &str) -> &str {
    let s = s.trim();
    let s = s.strip_prefix("W/").unwrap_or(s);
    s.trim_matches('"')
}

/// True when `etag` (quoted) is in the comma-separated list `header` (or it is `*`).
pub fn etag_matches(header: &str, etag: &str) -> bool {
    let want = strip_etag(etag);
    header.split(',').any(|t| {
        let t = t.trim();
        t == "*" || (!t.is_empty() && strip_etag(t) == want)
    })
}

fn secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// RFC 7232 section 6 order, which OSS follows:
/// 1. If-Match fails -> 412; else (no If-Match) If-Unmodified-Since fails -> 412.
/// 2. If-None-Match matches -> 304; else (no If-None-Match) If-Modified-Since not modified -> 304.
///
/// Unparseable dates are ignored.
pub fn evaluate_conditions(
    c: &Conditions<'_>,
    etag: &str,
    last_modified: SystemTime,
) -> CondOutcome {
    let lm = secs(last_modified);
    if let Some(im) = c.if_match {
        if !etag_matches(im, etag) {
            return CondOutcome::PreconditionFailed("If-Match");
        }
    } else if let Some(ius) = c.if_unmodified_since {
        if let Some(t) = parse_http_date(ius) {
            if lm > secs(t) {
                return CondOutcome::PreconditionFailed("If-Unmodified-Since");
            }
        }
    }
    if let Some(inm) = c.if_none_match {
        if etag_matches(inm, etag) {
            return CondOutcome::NotModified;
        }
    } else if let Some(ims) = c.if_modified_since {
        if let Some(t) = parse_http_date(ims) {
            if lm <= secs(t) {
                return CondOutcome::NotModified;
            }
        }
    }
    CondOutcome::Proceed
}

/// Validates `x-oss-traffic-limit` (bit/s); returns bytes per second.
pub fn parse_traffic_limit(v: &str) -> Result<u64, OssError> {
    let bad = || {
        OssError::invalid_argument(
            "Invalid traffic limit, should be between 245760 and 838860800 bit/s.",
            "x-oss-traffic-limit",
            v,
        )
    };
    let n: u64 = v.trim().parse().map_err(|_| bad())?;
    if !(245_760..=838_860_800).contains(&n) {
        return Err(bad());
    }
    Ok(n / 8)
}

#[cfg(test)]
mod tests {
    use super::*;
    use RangeDecision::*;

    fn p(first: u64, last: u64) -> RangeDecision {
        Partial { first, last }
    }

    #[test]
    fn range_table() {
        let size = 1000;
        // (header, standard?, expected)
        let table: &[(&str, bool, RangeDecision)] = &[
            ("bytes=0-499", false, p(0, 499)),
            ("bytes=0-499", true, p(0, 499)),
            ("bytes=500-999", false, p(500, 999)),
            ("bytes=500-2000", false, Whole),
            ("bytes=500-2000", true, p(500, 999)),
            ("bytes=1000-2000", false, Whole),
            ("bytes=1000-2000", true, Unsatisfiable),
            ("bytes=1000-", true, Unsatisfiable),
            ("bytes=1000-", false, Whole),
            ("bytes=999-", true, p(999, 999)),
            ("bytes=100-", false, p(100, 999)),
            ("bytes=-100", false, p(900, 999)),
            ("bytes=-100", true, p(900, 999)),
            ("bytes=-1000", true, p(0, 999)),
            ("bytes=-2000", false, Whole),
            ("bytes=-2000", true, p(0, 999)),
            ("bytes=-0", true, Unsatisfiable),
            ("bytes=-0", false, Whole),
            ("bytes=5-2", true, Whole),
            ("bytes=0-1,3-4", true, Whole),
            ("bytes=abc", true, Whole),
            ("items=0-1", true, Whole),
            ("bytes=", true, Whole),
            ("bytes=-", true, Whole),
        ];
        for (h, std, want) in table {
            assert_eq!(
                &decide_range(Some(h), *std, size),
                want,
                "range {h} standard={std}"
            );
        }
        assert_eq!(decide_range(None, true, size), Whole);
        // 0-byte objects
        assert_eq!(decide_range(Some("bytes=0-"), true, 0), Unsatisfiable);
        assert_eq!(decide_range(Some("bytes=0-0"), true, 0), Unsatisfiable);
        assert_eq!(decide_range(Some("bytes=-1"), true, 0), Unsatisfiable);
        assert_eq!(decide_range(Some("bytes=0-"), false, 0), Whole);
        assert_eq!(decide_range(None, true, 0), Whole);
    }

    #[test]
    fn conditions() {
        let etag = "\"ABC\"";
        let lm = UNIX_EPOCH + Duration::from_secs(1_447_426_073); // Fri, 13 Nov 2015 14:47:53 GMT
        let before = "Fri, 13 Nov 2015 14:47:52 GMT";
        let same = "Fri, 13 Nov 2015 14:47:53 GMT";
        let after = "Fri, 13 Nov 2015 14:47:54 GMT";
        let c = |im, inm, ims, ius| Conditions {
            if_match: im,
            if_none_match: inm,
            if_modified_since: ims,
            if_unmodified_since: ius,
        };
        use CondOutcome::*;
        let table: Vec<(Conditions, CondOutcome)> = vec![
            (c(None, None, None, None), Proceed),
            (c(Some("\"ABC\""), None, None, None), Proceed),
            (c(Some("ABC"), None, None, None), Proceed),
            (c(Some("*"), None, None, None), Proceed),
            (c(Some("\"X\", \"ABC\""), None, None, None), Proceed),
            (
                c(Some("\"abc\""), None, None, None),
                PreconditionFailed("If-Match"),
            ),
            (
                c(Some("\"X\""), None, None, None),
                PreconditionFailed("If-Match"),
            ),
            (c(None, Some("\"ABC\""), None, None), NotModified),
            (c(None, Some("\"X\""), None, None), Proceed),
            (c(None, None, Some(same), None), NotModified),
            (c(None, None, Some(after), None), NotModified),
            (c(None, None, Some(before), None), Proceed),
            (c(None, None, None, Some(same)), Proceed),
            (c(None, None, None, Some(after)), Proceed),
            (
                c(None, None, None, Some(before)),
                PreconditionFailed("If-Unmodified-Since"),
            ),
            (c(None, None, None, Some("garbage")), Proceed),
            // If-Match wins over If-Unmodified-Since
            (c(Some("\"ABC\""), None, None, Some(before)), Proceed),
            // If-None-Match wins over If-Modified-Since
            (c(None, Some("\"X\""), Some(after), None), Proceed),
            // 412 before 304
            (
                c(Some("\"X\""), Some("\"ABC\""), None, None),
                PreconditionFailed("If-Match"),
            ),
            (c(Some("\"ABC\""), Some("\"ABC\""), None, None), NotModified),
        ];
        for (i, (cond, want)) in table.into_iter().enumerate() {
            assert_eq!(evaluate_conditions(&cond, etag, lm), want, "case {i}");
        }
    }

    #[test]
    fn traffic_limit() {
        assert_eq!(parse_traffic_limit("245760").unwrap(), 30720);
        assert_eq!(parse_traffic_limit("838860800").unwrap(), 104857600);
        assert!(parse_traffic_limit("245759").is_err());
        assert!(parse_traffic_limit("838860801").is_err());
        assert!(parse_traffic_limit("abc").is_err());
        assert_eq!(
            parse_traffic_limit("1").unwrap_err().code,
            "InvalidArgument"
        );
    }
}
