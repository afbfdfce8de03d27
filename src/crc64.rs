//! CRC-64/XZ (OSS's `x-oss-hash-crc64ecma`) and its combine function.
//!
//! Parameters: polynomial 0x42F0E1EBA9EA3693 (reflected 0xC96C5795D7870F42), reflected input and
//! output, init and xorout 0xFFFFFFFFFFFFFFFF. The CRC of the empty string is 0.
//!
//! The convention is zlib's (and the C++ SDK's `ComputeCRC64(crc, buf, len)`): the value passed in
//! and returned is the finished CRC, so `update(0, data)` is the CRC of `data` and
//! `update(update(0, a), b) == update(0, a ++ b)`.
//!
//! `update` hands inputs of 4 KiB and more to the `crc-fast` crate (CRC-64/XZ with VPCLMULQDQ on
//! x86_64 with AVX-512, PCLMULQDQ without, PMULL on AArch64, chosen at run time, a table fallback
//! elsewhere: ~57 GB/s on an AVX-512 core, 4x the `crc64fast` crate used before), continuing the
//! CRC passed in: the crate's register is the finished CRC with the xorout undone. Shorter inputs
//! use our own tables (16 tables of 256 entries, 32 KiB, built at compile time; slicing-by-16),
//! where the digest set-up would cost more than the bytes; the tests cross-check both paths
//! against a bitwise reference. The SIMD code and its raw-pointer work are the crate's.
//!
//! `combine(crc1, crc2, len2)` gives the CRC of `a ++ b` from `crc(a)`, `crc(b)` and `len(b)`, as
//! zlib's `crc32_combine`. It multiplies `crc1` by x^(8 * len2) modulo the polynomial in GF(2)
//! using a table of x^(2^k), which is the same linear map as zlib's classic 64x64 GF(2) matrix
//! method (the unit tests cross-check both) but costs O(log len2) 64-bit multiplications instead
//! of O(log len2) matrix squarings.

/// The reflected polynomial.
pub const POLY: u64 = 0xC96C_5795_D787_0F42;

const fn make_tables() -> [[u64; 256]; 16] {
    let mut t = [[0u64; 256]; 16];
    let mut i = 0;
    while i < 256 {
        let mut crc = i as u64;
        let mut j = 0;
        while j < 8 {
            crc = if crc & 1 != 0 {
                (crc >> 1) ^ POLY
            } else {
                crc >> 1
            };
            j += 1;
        }
        t[0][i] = crc;
        i += 1;
    }
    let mut k = 1;
    while k < 16 {
        let mut i = 0;
        while i < 256 {
            let prev = t[k - 1][i];
            t[k][i] = (prev >> 8) ^ t[0][(prev & 0xff) as usize];
            i += 1;
        }
        k += 1;
    }
    t
}

/// `TABLES[k][b]`: the CRC register contribution of byte `b` followed by `k` zero bytes.
static TABLES: [[u64; 256]; 16] = make_tables();

/// From this many bytes on `update` uses `crc-fast` (below, its set-up costs more than the tables).
const SIMD_MIN_LEN: usize = 4096;

/// Makes `crc-fast` choose its code now. It keeps its choice in a lazily initialised global (a
/// `OnceLock`), set by its first CRC: were that first CRC computed on a library thread while the
/// host forks, the child would inherit the global half-initialised and wait for ever at its
/// own first CRC (the hang `tests/core_rules.rs` forbids in our own globals). Called by
/// `runtime::initialize` before any library thread exists.
pub fn prepare() {
    let _ = update(0, &[0u8; SIMD_MIN_LEN]);
}

/// Continues the CRC `crc` (of the bytes before) over `data`; `update(0, data)` is the CRC of `data`.
pub fn update(crc: u64, data: &[u8]) -> u64 {
    if data.len() < SIMD_MIN_LEN {
        return update_table(crc, data);
    }
    // CRC-64/XZ's init and xorout are both all ones: the register after the bytes so far is
    // their finished CRC with the xorout undone (`!crc`; `!0` = the init for no bytes).
    let mut digest = crc_fast::Digest::new_with_init_state(crc_fast::CrcAlgorithm::Crc64Xz, !crc);
    digest.update(data);
    digest.finalize()
}

/// `update` with the tables only: slicing-by-16 over one stream (also the tests' independent
/// reference for `crc-fast` at every length).
fn update_table(crc: u64, data: &[u8]) -> u64 {
    let t = &TABLES;
    let mut crc = !crc;
    let mut blocks = data.chunks_exact(16);
    for b in &mut blocks {
        let lo = u64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]) ^ crc;
        let hi = u64::from_le_bytes([b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]]);
        crc = t[15][(lo & 0xff) as usize]
            ^ t[14][((lo >> 8) & 0xff) as usize]
            ^ t[13][((lo >> 16) & 0xff) as usize]
            ^ t[12][((lo >> 24) & 0xff) as usize]
            ^ t[11][((lo >> 32) & 0xff) as usize]
            ^ t[10][((lo >> 40) & 0xff) as usize]
            ^ t[9][((lo >> 48) & 0xff) as usize]
            ^ t[8][(lo >> 56) as usize]
            ^ t[7][(hi & 0xff) as usize]
            ^ t[6][((hi >> 8) & 0xff) as usize]
            ^ t[5][((hi >> 16) & 0xff) as usize]
            ^ t[4][((hi >> 24) & 0xff) as usize]
            ^ t[3][((hi >> 32) & 0xff) as usize]
            ^ t[2][((hi >> 40) & 0xff) as usize]
            ^ t[1][((hi >> 48) & 0xff) as usize]
            ^ t[0][(hi >> 56) as usize];
    }
    for &byte in blocks.remainder() {
        crc = t[0][((crc ^ byte as u64) & 0xff) as usize] ^ (crc >> 8);
    }
    !crc
}

/// The CRC of `data` (same as `update(0, data)`).
pub fn checksum(data: &[u8]) -> u64 {
    update(0, data)
}

/// `a * b mod P` in the reflected representation (bit 63 is x^0).
const fn mult_mod_p(a: u64, mut b: u64) -> u64 {
    let mut m: u64 = 1 << 63;
    let mut p: u64 = 0;
    loop {
        if a & m != 0 {
            p ^= b;
            if a & (m - 1) == 0 {
                break;
            }
        }
        m >>= 1;
        if m == 0 {
            break;
        }
        b = if b & 1 != 0 { (b >> 1) ^ POLY } else { b >> 1 };
    }
    p
}

/// Number of x^(2^k) entries: len2 < 2^64 bytes is < 2^67 bits.
const X2N_LEN: usize = 67;

const fn make_x2n() -> [u64; X2N_LEN] {
    let mut t = [0u64; X2N_LEN];
    let mut p: u64 = 1 << 62; // x^1
    t[0] = p;
    let mut n = 1;
    while n < X2N_LEN {
        p = mult_mod_p(p, p);
        t[n] = p;
        n += 1;
    }
    t
}

/// `X2N[k]` = x^(2^k) mod P.
static X2N: [u64; X2N_LEN] = make_x2n();

/// x^(n * 2^k) mod P.
fn x2n_mod_p(mut n: u64, mut k: usize) -> u64 {
    let mut p: u64 = 1 << 63; // x^0
    while n != 0 {
        if n & 1 != 0 {
            p = mult_mod_p(X2N[k], p);
        }
        n >>= 1;
        k += 1;
    }
    p
}

/// The CRC of a stream of pieces, continued piece by piece without a combine per piece (the
/// prefetching reader's parts: hyper hands over pieces of a few KiB, and a combine per piece cost
/// more than the CRC itself). `Stream::new().write(a).write(b).sum()` is `checksum(a ++ b)`.
#[derive(Clone)]
pub struct Stream(crc_fast::Digest);

impl Default for Stream {
    fn default() -> Self {
        Stream::new()
    }
}

impl Stream {
    pub fn new() -> Self {
        Stream(crc_fast::Digest::new(crc_fast::CrcAlgorithm::Crc64Xz))
    }

    pub fn write(&mut self, data: &[u8]) -> &mut Self {
        self.0.update(data);
        self
    }

    pub fn sum(&self) -> u64 {
        self.0.finalize()
    }
}

/// The CRC of `a ++ b` given `crc1 = crc(a)`, `crc2 = crc(b)` and `len2 = len(b)` in bytes.
pub fn combine(crc1: u64, crc2: u64, len2: u64) -> u64 {
    if len2 == 0 {
        return crc1;
    }
    mult_mod_p(x2n_mod_p(len2, 3), crc1) ^ crc2
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_stream_of_pieces_is_the_crc_of_their_concatenation() {
        let data: Vec<u8> = (0..100_000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for cut in [0, 1, 100, 4095, 4096, 50_000, 99_999] {
            let mut s = Stream::new();
            s.write(&data[..cut]).write(&data[cut..]);
            assert_eq!(s.sum(), checksum(&data), "cut at {cut}");
        }
        assert_eq!(Stream::new().sum(), 0);
    }

    /// Bit-at-a-time reference.
    fn slow(data: &[u8]) -> u64 {
        let mut crc = !0u64;
        for &b in data {
            crc ^= b as u64;
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ POLY
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }

    /// zlib's classic crc32_combine, transposed to 64 dimensions: the reference for `combine`.
    fn matrix_combine(mut crc1: u64, crc2: u64, mut len2: u64) -> u64 {
        fn times(mat: &[u64; 64], mut vec: u64) -> u64 {
            let mut sum = 0;
            let mut i = 0;
            while vec != 0 {
                if vec & 1 != 0 {
                    sum ^= mat[i];
                }
                vec >>= 1;
                i += 1;
            }
            sum
        }
        fn square(sq: &mut [u64; 64], mat: &[u64; 64]) {
            for n in 0..64 {
                sq[n] = times(mat, mat[n]);
            }
        }
        if len2 == 0 {
            return crc1;
        }
        let mut even = [0u64; 64];
        let mut odd = [0u64; 64];
        odd[0] = POLY;
        let mut row = 1u64;
        for item in odd.iter_mut().skip(1) {
            *item = row;
            row <<= 1;
        }
        square(&mut even, &odd);
        square(&mut odd, &even);
        loop {
            square(&mut even, &odd);
            if len2 & 1 != 0 {
                crc1 = times(&even, crc1);
            }
            len2 >>= 1;
            if len2 == 0 {
                break;
            }
            square(&mut odd, &even);
            if len2 & 1 != 0 {
                crc1 = times(&odd, crc1);
            }
            len2 >>= 1;
            if len2 == 0 {
                break;
            }
        }
        crc1 ^ crc2
    }

    #[test]
    fn spec_vectors() {
        assert_eq!(update(0, b""), 0);
        assert_eq!(update(0, b"123456789"), 0x995D_C9BB_DF19_39FA);
        assert_eq!(update(0, b"123456789"), 11051210869376104954);
        assert_eq!(update(0, b"hello world!"), 0x8483_c0fa_3260_7d61);
        assert_eq!(update(0, b"12345"), 0x5da7_46ff_a504_5ce9);
        assert_eq!(update(0, b"67890"), 0x573a_0a56_c70b_c2dd);
        assert_eq!(update(0, b"1234567890"), 0xb1cb_31bb_b4a2_b2be);
        assert_eq!(
            combine(0x5da7_46ff_a504_5ce9, 0x573a_0a56_c70b_c2dd, 5),
            0xb1cb_31bb_b4a2_b2be
        );
    }

    #[test]
    fn update_continues() {
        let data: Vec<u8> = (0..1000u32).map(|i| (i * 7 + i / 13) as u8).collect();
        for split in [0, 1, 7, 15, 16, 17, 100, 999, 1000] {
            let (a, b) = data.split_at(split);
            assert_eq!(update(update(0, a), b), update(0, &data));
        }
    }

    #[test]
    fn table_matches_bitwise_for_all_lengths() {
        let data: Vec<u8> = (0..3000u32)
            .map(|i| (i.wrapping_mul(2654435761) >> 13) as u8)
            .collect();
        for len in 0..data.len() {
            assert_eq!(update(0, &data[..len]), slow(&data[..len]), "len {len}");
        }
    }

    #[test]
    fn simd_path_matches_tables_and_bitwise() {
        let data: Vec<u8> = (0..(1u32 << 20) + 333)
            .map(|i| (i.wrapping_mul(2654435761) >> 11) as u8)
            .collect();
        for len in [
            SIMD_MIN_LEN - 1,
            SIMD_MIN_LEN,
            SIMD_MIN_LEN + 1,
            5000,
            65_536 + 7,
            data.len(),
        ] {
            let d = &data[..len];
            assert_eq!(update(0, d), update_table(0, d), "len {len}");
            assert_eq!(update(0, d), slow(d), "len {len}");
            for crc in [1u64, 0x995D_C9BB_DF19_39FA, u64::MAX] {
                assert_eq!(
                    update(crc, d),
                    update_table(crc, d),
                    "len {len} crc {crc:x}"
                );
            }
        }
        for split in [0usize, 1, 4095, 4096, 70_000, data.len()] {
            let (a, b) = data.split_at(split);
            assert_eq!(update(update(0, a), b), slow(&data), "split {split}");
        }
    }

    /// `crc-fast` picks its code at run time from the CPU's features (AVX-512 VPCLMULQDQ,
    /// PCLMULQDQ, PMULL, tables) and folds in blocks of 16 to 256 bytes: the path this CPU takes
    /// is checked against our tables at lengths around those block sizes, from unaligned
    /// addresses, continuing a CRC (the register set from a finished CRC) and piece by piece
    /// (`Stream`).
    #[test]
    fn crc_fast_continues_any_crc_at_any_length_and_alignment() {
        let data: Vec<u8> = (0..300_001u32)
            .map(|i| (i.wrapping_mul(2246822519) >> 9) as u8)
            .collect();
        for start in [0usize, 1, 7, 63] {
            for len in [
                4096usize, 4097, 4111, 4223, 4351, 8191, 65_537, 262_144, 299_000,
            ] {
                let d = &data[start..start + len];
                assert_eq!(update(0, d), update_table(0, d), "start {start} len {len}");
                let seed = update_table(0, &data[..start + 5]);
                assert_eq!(
                    update(seed, d),
                    update_table(seed, d),
                    "continued, start {start} len {len}"
                );
                let mut stream = Stream::new();
                for piece in d.chunks(1000 + start) {
                    stream.write(piece);
                }
                assert_eq!(
                    stream.sum(),
                    update_table(0, d),
                    "stream, start {start} len {len}"
                );
            }
        }
    }

    #[test]
    fn combine_matches_concatenation_and_zlib_matrix_method() {
        let data: Vec<u8> = (0..5000u32)
            .map(|i| (i.wrapping_mul(40503) >> 7) as u8)
            .collect();
        for split in [0usize, 1, 2, 3, 8, 16, 255, 256, 1024, 4095, 4999, 5000] {
            let (a, b) = data.split_at(split);
            let (ca, cb) = (update(0, a), update(0, b));
            assert_eq!(
                combine(ca, cb, b.len() as u64),
                update(0, &data),
                "split {split}"
            );
            assert_eq!(matrix_combine(ca, cb, b.len() as u64), update(0, &data));
        }
        for len2 in [
            1u64,
            5,
            1 << 20,
            8 << 20,
            (5u64 << 30) + 3,
            u64::MAX / 3,
            u64::MAX,
        ] {
            for crc1 in [0u64, 1, 0x995D_C9BB_DF19_39FA, u64::MAX] {
                assert_eq!(combine(crc1, 7, len2), matrix_combine(crc1, 7, len2));
            }
        }
        assert_eq!(combine(42, 0, 0), 42);
    }

    #[test]
    fn combine_of_zero_blocks() {
        let zeros = vec![0u8; 3 << 16];
        let c = update(0, b"abc");
        assert_eq!(
            combine(c, update(0, &zeros), zeros.len() as u64),
            update(c, &zeros)
        );
    }
}
