//! Dates of the protocol, in one place: the HTTP date (`Date`, `Last-Modified`, V1 signing), the
//! ISO 8601 basic form V4 signs, the RFC 3339 form of `ServerTime` in error bodies, and the
//! civil-date arithmetic under them. Times outside 1970..=9999 are clamped when formatted.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// 9999-12-31T23:59:59Z in Unix seconds: the last time both date formats can write (four-digit
/// years); later times are clamped to it.
pub(crate) const LAST_SECOND: u64 = 253_402_300_799;

/// RFC 1123 date as OSS wants it: `Fri, 13 Nov 2015 14:47:53 GMT`. Times outside 1970..=9999
/// (which `httpdate` cannot format) are clamped, so this never panics.
pub fn http_date(t: SystemTime) -> String {
    let last = UNIX_EPOCH + Duration::from_secs(LAST_SECOND);
    httpdate::fmt_http_date(t.clamp(UNIX_EPOCH, last))
}

/// `yyyymmddThhmmssZ` of a time.
pub fn iso8601(t: SystemTime) -> String {
    let secs = t
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
        .min(LAST_SECOND);
    let days = (secs / 86400) as i64;
    let rem = secs % 86400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}{m:02}{d:02}T{:02}{:02}{:02}Z",
        rem / 3600,
        (rem % 3600) / 60,
        rem % 60
    )
}

/// Parses `2023-12-16T16:20:57.000Z` or an RFC 1123 date.
pub fn parse_time(v: &str) -> Option<SystemTime> {
    if let Ok(t) = httpdate::parse_http_date(v) {
        return Some(t);
    }
    let v = v.trim();
    if v.len() < 19 {
        return None;
    }
    let num = |r: std::ops::Range<usize>| v.get(r)?.parse::<i64>().ok();
    let (y, mo, d) = (num(0..4)?, num(5..7)?, num(8..10)?);
    let (h, mi, s) = (num(11..13)?, num(14..16)?, num(17..19)?);
    // `9999-12-99T99:99:99` is no time at all (leap seconds may say :60).
    if !(1970..=9999).contains(&y)
        || !(1..=12).contains(&mo)
        || !(1..=31).contains(&d)
        || h > 23
        || mi > 59
        || s > 60
    {
        return None;
    }
    let days = days_from_civil(y, mo, d);
    let secs = days * 86400 + h * 3600 + mi * 60 + s;
    if secs < 0 {
        return None;
    }
    Some(UNIX_EPOCH + Duration::from_secs(secs as u64))
}

/// Days since 1970-01-01 to (year, month, day) (Howard Hinnant's algorithm).
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = z.div_euclid(146097);
    let doe = z.rem_euclid(146097);
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

/// (year, month, day) to days since 1970-01-01 (Howard Hinnant's algorithm; the inverse of
/// `civil_from_days`).
fn days_from_civil(y: i64, mo: i64, d: i64) -> i64 {
    let y2 = if mo <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (mo + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn civil_dates_round_trip() {
        for days in [-1000i64, 0, 1, 59, 60, 365, 10957, 19707, 50000, 2_932_896] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m as i64, d as i64), days, "day {days}");
        }
    }

    #[test]
    fn dates_out_of_range_are_clamped_not_panics() {
        let far = UNIX_EPOCH + Duration::from_secs(1 << 40);
        assert_eq!(http_date(far), "Fri, 31 Dec 9999 23:59:59 GMT");
        assert_eq!(iso8601(far), "99991231T235959Z");
        let before = UNIX_EPOCH - Duration::from_secs(86400);
        assert_eq!(http_date(before), "Thu, 01 Jan 1970 00:00:00 GMT");
    }

    #[test]
    fn the_three_forms() {
        let t = UNIX_EPOCH + Duration::from_secs(1702743657);
        assert_eq!(http_date(t), "Sat, 16 Dec 2023 16:20:57 GMT");
        assert_eq!(iso8601(t), "20231216T162057Z");
        assert_eq!(parse_time("Sat, 16 Dec 2023 16:20:57 GMT"), Some(t));
        assert_eq!(parse_time("2023-12-16T16:20:57.000Z"), Some(t));
        assert_eq!(parse_time("9999-12-99T99:99:99"), None);
    }
}
