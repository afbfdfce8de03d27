//! Generated object content: deterministic pseudo-random bytes for a seed and an offset.
//!
//! Nothing here is shared with the client library on purpose: the emulator is an independent
//! implementation of the protocol.

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
    fn pseudo_random_is_chunking_independent() {
        let mut a = vec![0u8; 100];
        fill_pseudo_random(7, 3, &mut a);
        let mut b = vec![0u8; 100];
        fill_pseudo_random(7, 3, &mut b[..33]);
        fill_pseudo_random(7, 36, &mut b[33..]);
        assert_eq!(a, b);
    }
}
