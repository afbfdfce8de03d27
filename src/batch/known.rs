//! What a batch's journal says about each key, held for the whole run in 32 bytes per key
//! whatever the key's length: a re-run of a batch of a million objects holds 32 MB of it, not
//! the journal's text and its strings (several hundred bytes per key).
//!
//! A key is known by a 128-bit digest of its name (the first half of its SHA-256) and its ETag by
//! a 64-bit one: a re-run asks only "is this key's object the one recorded?", which the size
//! and the ETag's digest answer. Two keys of one journal would have to share 128 bits of
//! SHA-256 to be confused, and a changed object would have to keep its size and give an ETag
//! whose digest matches the old one's in 64 bits to be taken for the recorded one.
//!
//! The keys themselves stay in the journal file: the keys a prefix no longer lists (deleted
//! since) are found at the end by reading it once more ([`super::journal::Journal::unseen_keys`]).

use sha2::{Digest, Sha256};

/// What the journal recorded for one key.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KnownObject {
    size: u64,
    etag: u64,
}

impl KnownObject {
    /// Whether the listed object (its size and ETag) is the one recorded.
    pub fn is(&self, size: u64, etag: &str) -> bool {
        self.size == size && self.etag == etag_digest(etag)
    }
}

#[derive(Clone, Copy, Debug)]
struct Record {
    id: [u64; 2],
    object: KnownObject,
}

/// The keys of a journal with their objects, sorted by digest; each can be taken once.
#[derive(Debug, Default)]
pub struct Known {
    records: Vec<Record>,
    /// One bit per record: taken.
    taken: Vec<u64>,
}

impl Known {
    /// Keys known.
    pub fn len(&self) -> usize {
        self.records.len()
    }

    pub fn is_empty(&self) -> bool {
        self.records.is_empty()
    }

    /// The heap bytes held (the index's cost, for its tests and the docs).
    pub fn heap_bytes(&self) -> usize {
        self.records.capacity() * std::mem::size_of::<Record>()
            + self.taken.capacity() * std::mem::size_of::<u64>()
    }

    /// The object recorded for `key`, once: a key taken before (listed twice, or already
    /// reported) answers `None`.
    pub fn take(&mut self, key: &str) -> Option<KnownObject> {
        let id = digest(key);
        let i = self.records.binary_search_by(|r| r.id.cmp(&id)).ok()?;
        let (word, bit) = (i / 64, 1u64 << (i % 64));
        if self.taken[word] & bit != 0 {
            return None;
        }
        self.taken[word] |= bit;
        Some(self.records[i].object)
    }
}

/// Builds a [`Known`] from a journal's lines in their order: a key's last entry wins, a forget
/// line removes it.
#[derive(Default)]
pub struct KnownBuilder {
    /// (record, line number, entry (true) or forget (false)).
    lines: Vec<(Record, u64, bool)>,
}

impl KnownBuilder {
    /// Line `line` recorded `key` with `size` and `etag`.
    pub fn entry(&mut self, line: u64, key: &str, size: u64, etag: &str) {
        let object = KnownObject {
            size,
            etag: etag_digest(etag),
        };
        let record = Record {
            id: digest(key),
            object,
        };
        self.lines.push((record, line, true));
    }

    /// Line `line` forgot `key`.
    pub fn forget(&mut self, line: u64, key: &str) {
        let record = Record {
            id: digest(key),
            object: KnownObject { size: 0, etag: 0 },
        };
        self.lines.push((record, line, false));
    }

    /// The index, and the line numbers (ascending) of the lines it keeps: one per key known.
    pub fn finish(mut self) -> (Known, Vec<u64>) {
        // Each key's lines in file order, its last one kept when it is an entry.
        self.lines
            .sort_unstable_by_key(|(r, line, _)| (r.id, *line));
        // In place: the lines are the journal's, the index must not cost them twice.
        let mut lines = self.lines;
        let mut kept = 0;
        for i in 0..lines.len() {
            let last_of_its_key = lines
                .get(i + 1)
                .is_none_or(|next| next.0.id != lines[i].0.id);
            if last_of_its_key && lines[i].2 {
                lines[kept] = lines[i];
                kept += 1;
            }
        }
        lines.truncate(kept);
        let mut line_numbers: Vec<u64> = lines.iter().map(|(_, line, _)| *line).collect();
        line_numbers.sort_unstable();
        let mut records: Vec<Record> = lines.into_iter().map(|(r, _, _)| r).collect();
        records.shrink_to_fit();
        let taken = vec![0u64; records.len().div_ceil(64)];
        (Known { records, taken }, line_numbers)
    }
}

/// A 128-bit digest of a key or a path (the first half of its SHA-256).
pub(super) fn digest(key: &str) -> [u64; 2] {
    let d = Sha256::digest(key.as_bytes());
    let half = |i: usize| u64::from_be_bytes(d[i..i + 8].try_into().expect("8 bytes"));
    [half(0), half(8)]
}

fn etag_digest(etag: &str) -> u64 {
    let d = Sha256::digest(etag.as_bytes());
    u64::from_be_bytes(d[..8].try_into().expect("8 bytes"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_line_of_a_key_wins_and_a_forget_removes_it() {
        let mut b = KnownBuilder::default();
        b.entry(0, "a", 1, "\"A1\"");
        b.entry(1, "b", 2, "\"B\"");
        b.entry(2, "a", 3, "\"A2\"");
        b.forget(3, "b");
        b.entry(4, "c", 4, "\"C\"");
        b.forget(5, "c");
        b.entry(6, "c", 5, "\"C2\"");
        let (mut k, lines) = b.finish();
        assert_eq!((k.len(), lines), (2, vec![2, 6]));
        assert!(k.take("a").unwrap().is(3, "\"A2\""));
        assert_eq!(k.take("a"), None, "taken once");
        assert_eq!(k.take("b"), None, "forgotten");
        let c = k.take("c").unwrap();
        assert!(c.is(5, "\"C2\"") && !c.is(4, "\"C2\"") && !c.is(5, "\"C\""));
        assert_eq!(k.take("missing"), None);
    }

    #[test]
    fn the_index_holds_32_bytes_per_key_whatever_the_key_length() {
        let long = "k".repeat(1000);
        let mut b = KnownBuilder::default();
        for i in 0..10_000u64 {
            b.entry(i, &format!("{long}/{i}"), i, &format!("\"{i:032x}-3\""));
        }
        let (mut k, _) = b.finish();
        assert_eq!(k.len(), 10_000);
        assert!(
            k.heap_bytes() <= 10_000 * 32 + 10_000 / 8 + 64,
            "{}",
            k.heap_bytes()
        );
        for i in (0..10_000u64).step_by(997) {
            assert!(k
                .take(&format!("{long}/{i}"))
                .unwrap()
                .is(i, &format!("\"{i:032x}-3\"")));
        }
    }
}
