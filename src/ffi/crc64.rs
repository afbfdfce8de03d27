//! CRC-64/XZ for C: continue a CRC over a buffer, combine two.

use crate::ffi::boundary::ffi_boundary;

/// Continues a CRC-64/XZ (`x-oss-hash-crc64ecma`): `oss_crc64(0, buf, len)` is the CRC of buf,
/// `oss_crc64(oss_crc64(0, a, n), b, m)` that of a followed by b. `buf` may be NULL when len is 0.
///
/// # Safety
/// `buf` must be valid for `len` bytes (or len == 0).
#[no_mangle]
pub unsafe extern "C" fn oss_crc64(crc: u64, buf: *const u8, len: usize) -> u64 {
    ffi_boundary! {
        if buf.is_null() || len == 0 {
            return crc;
        }
        // SAFETY: buf is non-NULL and valid for len bytes per the contract.
        let data = unsafe { std::slice::from_raw_parts(buf, len) };
        crate::crc64::update(crc, data)
    }
}

/// The CRC of A followed by B from crc(A), crc(B) and len(B).
#[no_mangle]
pub extern "C" fn oss_crc64_combine(crc1: u64, crc2: u64, len2: u64) -> u64 {
    ffi_boundary! { crate::crc64::combine(crc1, crc2, len2) }
}
