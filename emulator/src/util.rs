//! Small self-contained helpers: CRC-64/XZ, time formats, URI encoding, XML escaping.
//!
//! Nothing here is shared with the client library on purpose: the emulator is an
//! independent implementation of the protocol.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// CRC-64/XZ ("ECMA" in Go, `x-oss-hash-crc64ecma` in OSS): reflected polynomial
/// 0xC96C5795D7870F42, init and xorout all ones. Slicing-by-8 for speed.
pub struct Crc64 {
    state: u64,
}

const CRC64_POLY: u64 = 0xC96C_5795_D787_0F42;

static CRC64_TABLES: std::sync::OnceLock<Box<[[u64; 256]; 8]>> = std::sync::OnceLock::new();

fn crc64_tables() -> &'static [[u64; 256]; 8] {
    CRC64_TABLES.get_or_init(|| {
        let mut t = Box::new([[0u64; 256]; 8]);
        for i in 0..256u64 {
            let mut c = i;
            for _ in 0..8 {
                c = if c & 1 == 1 {
                    (c >> 1) ^ CRC64_POLY
                } else {
                    c >> 1
                };
            }
            t[0][i as usize] = c;
        }
        for i in 0..256 {
            for k in 1..8 {
                let prev = t[k - 1][i];
                t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            }
        }
        t
    })
}

impl Default for Crc64 {
    fn default() -> Self {
        Self::new()
    }
}

impl Crc64 {
    pub fn new() -> Self {
        Crc64 { state: !0 }
    }

    pub fn update(&mut self, data: &[u8]) {
        let t = crc64_tables();
        let mut crc = self.state;
        let mut chunks = data.chunks_exact(8);
        for c in &mut chunks {
            let v = u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]) ^ crc;
            crc = t[7][(v & 0xff) as usize]
                ^ t[6][((v >> 8) & 0xff) as usize]
                ^ t[5][((v >> 16) & 0xff) as usize]
                ^ t[4][((v >> 24) & 0xff) as usize]
                ^ t[3][((v >> 32) & 0xff) as usize]
                ^ t[2][((v >> 40) & 0xff) as usize]
                ^ t[1][((v >> 48) & 0xff) as usize]
                ^ t[0][(v >> 56) as usize];
        }
        for &b in chunks.remainder() {
            crc = t[0][((crc ^ b as u64) & 0xff) as usize] ^ (crc >> 8);
        }
        self.state = crc;
    }

    pub fn finish(&self) -> u64 {
        !self.state
    }
}

pub fn crc64(data: &[u8]) -> u64 {
    let mut c = Crc64::new();
    c.update(data);
    c.finish()
}

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

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~')
}

/// Percent-encodes every byte except `A-Z a-z 0-9 - _ . ~` (and `/` when `keep_slash`).
pub fn uri_encode(s: &str, keep_slash: bool) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for &b in s.as_bytes() {
        if is_unreserved(b) || (keep_slash && b == b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{:02X}", b));
        }
    }
    out
}

/// Percent-decodes (no `+` to space translation) into raw bytes.
pub fn percent_decode_bytes(s: &str) -> Vec<u8> {
    percent_encoding::percent_decode_str(s).collect()
}

/// Percent-decodes into a UTF-8 string; `None` if the bytes are not UTF-8.
pub fn percent_decode_utf8(s: &str) -> Option<String> {
    String::from_utf8(percent_decode_bytes(s)).ok()
}

pub fn xml_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&apos;"),
            c => out.push(c),
        }
    }
    out
}

pub fn hex_upper(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{:02X}", b)).collect()
}

pub fn hex_lower(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{:02x}", b)).collect()
}

/// Deterministic pseudo-random content (xorshift64*), used by `--create-object`
/// and the content-mutation fault.
pub fn fill_pseudo_random(seed: u64, offset: u64, buf: &mut [u8]) {
    // Content is a function of (seed, absolute 8-byte block index) so that any
    // chunking gives the same bytes.
    let mut pos = offset;
    let mut i = 0;
    while i < buf.len() {
        let block = pos / 8;
        let mut x = block
            .wrapping_add(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .wrapping_add(1);
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        let v = x.wrapping_mul(0x2545_F491_4F6C_DD1D).to_le_bytes();
        let start = (pos % 8) as usize;
        let n = (8 - start).min(buf.len() - i);
        buf[i..i + n].copy_from_slice(&v[start..start + n]);
        i += n;
        pos += n as u64;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn crc64_vectors() {
        assert_eq!(crc64(b""), 0);
        assert_eq!(crc64(b"123456789"), 0x995D_C9BB_DF19_39FA);
        assert_eq!(crc64(b"123456789"), 11051210869376104954);
        assert_eq!(crc64(b"hello world!"), 0x8483_c0fa_3260_7d61);
        assert_eq!(crc64(b"12345"), 0x5da7_46ff_a504_5ce9);
        assert_eq!(crc64(b"67890"), 0x573a_0a56_c70b_c2dd);
        assert_eq!(crc64(b"1234567890"), 0xb1cb_31bb_b4a2_b2be);
        // incremental == one shot, across odd chunk boundaries
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + 3) as u8).collect();
        let mut c = Crc64::new();
        for ch in data.chunks(13) {
            c.update(ch);
        }
        assert_eq!(c.finish(), crc64(&data));
        let mut slow = !0u64;
        for &b in &data {
            slow ^= b as u64;
            for _ in 0..8 {
                slow = if slow & 1 == 1 {
                    (slow >> 1) ^ CRC64_POLY
                } else {
                    slow >> 1
                };
            }
        }
        assert_eq!(!slow, crc64(&data));
    }

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

    #[test]
    fn encoding() {
        assert_eq!(uri_encode("1234+-/123/1.txt", true), "1234%2B-/123/1.txt");
        assert_eq!(uri_encode("a b/ü", false), "a%20b%2F%C3%BC");
        assert_eq!(percent_decode_utf8("a%20b+c").unwrap(), "a b+c");
        assert_eq!(xml_escape("<a&'\">"), "&lt;a&amp;&apos;&quot;&gt;");
    }

    #[test]
    fn pseudo_random_is_chunking_independent() {
        let mut a = vec![0u8; 100];
        fill_pseudo_random(7, 3, &mut a);
        let mut b = vec![0u8; 100];
        fill_pseudo_random(7, 3, &mut b[..33]);
        fill_pseudo_random(7, 36, &mut b[33..]);
        assert_eq!(a, b);
    }
}
