//! Dates: civil-date arithmetic and the formats the protocol uses (ISO 8601 basic, RFC 3339
//! with milliseconds, HTTP dates), and the distance between two instants.
//!
//! Nothing here is shared with the client library on purpose: the emulator is an independent
//! implementation of the protocol.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Days since 1970-01-01 for a civil date (proleptic Gregorian).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = if y >= 0 { y } else { y - 399 } / 400;
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146097 + doe - 719468
}

pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719468;
    let era = if z >= 0 { z } else { z - 146096 } / 146097;
    let doe = z - era * 146097;
    let yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

fn split_time(t: SystemTime) -> (i64, u32, u32, u64, u32) {
    let d = t.duration_since(UNIX_EPOCH).unwrap_or_default();
    let secs = d.as_secs();
    let (y, m, day) = civil_from_days((secs / 86400) as i64);
    (y, m, day, secs % 86400, d.subsec_millis())
}

/// `20231216T162057Z`
pub fn fmt_iso8601_basic(t: SystemTime) -> String {
    let (y, m, d, s, _) = split_time(t);
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        y,
        m,
        d,
        s / 3600,
        (s / 60) % 60,
        s % 60
    )
}

/// `2023-12-16T16:20:57.123Z`
pub fn fmt_rfc3339_millis(t: SystemTime) -> String {
    let (y, m, d, s, ms) = split_time(t);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
        y,
        m,
        d,
        s / 3600,
        (s / 60) % 60,
        s % 60,
        ms
    )
}

/// Parses `yyyymmddThhmmssZ`.
pub fn parse_iso8601_basic(s: &str) -> Option<SystemTime> {
    let b = s.as_bytes();
    if b.len() != 16 || b[8] != b'T' || b[15] != b'Z' {
        return None;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        let part = &s[r];
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse().ok()
        } else {
            None
        }
    };
    let (y, mo, d) = (num(0..4)?, num(4..6)?, num(6..8)?);
    let (h, mi, se) = (num(9..11)?, num(11..13)?, num(13..15)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || se > 60 {
        return None;
    }
    let days = days_from_civil(y as i64, mo, d);
    if days < 0 {
        return None;
    }
    let secs = days as u64 * 86400 + h as u64 * 3600 + mi as u64 * 60 + se as u64;
    Some(UNIX_EPOCH + Duration::from_secs(secs))
}

/// RFC 1123 GMT date (`Fri, 13 Nov 2015 14:47:53 GMT`).
pub fn fmt_http_date(t: SystemTime) -> String {
    httpdate::fmt_http_date(t)
}

pub fn parse_http_date(s: &str) -> Option<SystemTime> {
    httpdate::parse_http_date(s.trim()).ok()
}

/// Absolute difference between two times.
pub fn abs_diff(a: SystemTime, b: SystemTime) -> Duration {
    match a.duration_since(b) {
        Ok(d) => d,
        Err(e) => e.duration(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_formats() {
        let t = UNIX_EPOCH + Duration::from_secs(1702743657);
        assert_eq!(fmt_iso8601_basic(t), "20231216T162057Z");
        assert_eq!(parse_iso8601_basic("20231216T162057Z"), Some(t));
        assert_eq!(parse_iso8601_basic("20231216T162057"), None);
        assert_eq!(parse_iso8601_basic("2023121xT162057Z"), None);
        assert_eq!(fmt_http_date(t), "Sat, 16 Dec 2023 16:20:57 GMT");
        assert_eq!(fmt_rfc3339_millis(t), "2023-12-16T16:20:57.000Z");
        for days in [-1000i64, 0, 1, 59, 60, 365, 10957, 19707, 50000] {
            let (y, m, d) = civil_from_days(days);
            assert_eq!(days_from_civil(y, m, d), days);
        }
    }
}
