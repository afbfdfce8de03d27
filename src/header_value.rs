//! The one rule for a value that goes into an HTTP header (credentials, the user agent, a
//! request's conditions and overrides): no control characters.

/// Whether `value` holds a control character (below 0x20, or DEL): such a value cannot go
/// into an HTTP header.
pub(crate) fn has_control_chars(value: &str) -> bool {
    value.bytes().any(|b| b < 0x20 || b == 0x7f)
}
