//! Text encodings of the protocol: URI percent-encoding and decoding, XML escaping, hex.
//!
//! Nothing here is shared with the client library on purpose: the emulator is an independent
//! implementation of the protocol.

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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encoding() {
        assert_eq!(uri_encode("1234+-/123/1.txt", true), "1234%2B-/123/1.txt");
        assert_eq!(uri_encode("a b/ü", false), "a%20b%2F%C3%BC");
        assert_eq!(percent_decode_utf8("a%20b+c").unwrap(), "a b+c");
        assert_eq!(xml_escape("<a&'\">"), "&lt;a&amp;&apos;&quot;&gt;");
    }
}
