//! CRC-64/XZ (`x-oss-hash-crc64ecma`), slicing-by-8.
//!
//! Nothing here is shared with the client library on purpose: the emulator is an independent
//! implementation of the protocol.

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
}
