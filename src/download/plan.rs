//! Part planning: which bytes of the object the download covers and how they are cut into parts.

use crate::error::{Error, Result};

/// The part count is kept at or below this by raising the part size for huge objects.
pub const MAX_PARTS: u64 = 10_000;

/// A raised part size is rounded up to a multiple of this.
const RAISED_PART_ALIGN: u64 = 1024 * 1024;

/// One part: `size` bytes of the object from `offset`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Part {
    pub index: u32,
    /// Offset in the object.
    pub offset: u64,
    pub size: u64,
}

/// The bytes to download (`first .. first + total` of the object) and their parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// Object offset of the first byte to download (file offset 0).
    pub first: u64,
    /// Number of bytes to download (the destination file's size).
    pub total: u64,
    /// The part size used (the requested one, raised when needed for `MAX_PARTS`).
    pub part_size: u64,
    pub parts: Vec<Part>,
}

impl Plan {
    /// Cuts `first .. first + total` into parts of `requested_part_size` (raised if needed).
    pub fn new(first: u64, total: u64, requested_part_size: u64) -> Plan {
        let part_size = effective_part_size(total, requested_part_size);
        let count = total.div_ceil(part_size);
        let parts = (0..count)
            .map(|i| {
                let start = i * part_size;
                Part {
                    index: i as u32,
                    offset: first + start,
                    size: part_size.min(total - start),
                }
            })
            .collect();
        Plan {
            first,
            total,
            part_size,
            parts,
        }
    }

    /// Offset in the destination file of the object byte at `object_offset`.
    pub fn file_offset(&self, object_offset: u64) -> u64 {
        object_offset - self.first
    }
}

/// `requested`, or the smallest multiple of 1 MiB that keeps the part count <= `MAX_PARTS`.
pub fn effective_part_size(total: u64, requested: u64) -> u64 {
    let requested = requested.max(1);
    if total.div_ceil(requested) <= MAX_PARTS {
        return requested;
    }
    total
        .div_ceil(MAX_PARTS)
        .div_ceil(RAISED_PART_ALIGN)
        .saturating_mul(RAISED_PART_ALIGN)
}

/// The object bytes a request covers: `(first, total)`. `range` is the request's inclusive
/// `(start, end)` (end -1: to the end), already checked for shape by validation; an end past
/// the object is clamped (like `x-oss-range-behavior: standard`), a start at or past it refused.
pub fn resolve_range(range: Option<(i64, i64)>, object_size: u64) -> Result<(u64, u64)> {
    let Some((start, end)) = range else {
        return Ok((0, object_size));
    };
    let start = u64::try_from(start)
        .map_err(|_| Error::validate("Invalid range of resumable download: negative start"))?;
    if start >= object_size {
        return Err(Error::validate(format!(
            "Invalid range of resumable download: the range starts at byte {start} but the object has {object_size} bytes"
        )));
    }
    let last = match u64::try_from(end) {
        Ok(end) => end.min(object_size - 1),
        Err(_) => object_size - 1,
    };
    if last < start {
        return Err(Error::validate(format!(
            "Invalid range of resumable download: end {end} is before start {start}"
        )));
    }
    Ok((start, last - start + 1))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_cover_exactly_the_bytes() {
        for (first, total, ps) in [
            (0u64, 0u64, 100u64),
            (0, 1, 100),
            (0, 99, 100),
            (0, 100, 100),
            (0, 101, 100),
            (7, 1000, 100),
            (3, 12345, 1000),
        ] {
            let p = Plan::new(first, total, ps);
            assert_eq!(p.parts.iter().map(|x| x.size).sum::<u64>(), total);
            let mut next = first;
            for (i, part) in p.parts.iter().enumerate() {
                assert_eq!(part.index as usize, i);
                assert_eq!(part.offset, next);
                assert!(part.size > 0 && part.size <= ps);
                next += part.size;
            }
        }
    }

    #[test]
    fn huge_objects_get_bounded_part_counts() {
        let total = 48u64 << 40; // 48 TiB
        let p = Plan::new(0, total, 100 * 1024);
        assert!(p.parts.len() as u64 <= MAX_PARTS);
        assert_eq!(p.part_size % RAISED_PART_ALIGN, 0);
        assert_eq!(p.parts.iter().map(|x| x.size).sum::<u64>(), total);
        assert_eq!(effective_part_size(8 << 20, 8 << 20), 8 << 20);
    }

    #[test]
    fn ranges_resolve() {
        assert_eq!(resolve_range(None, 10).unwrap(), (0, 10));
        assert_eq!(resolve_range(Some((0, 0)), 10).unwrap(), (0, 1));
        assert_eq!(resolve_range(Some((9, 9)), 10).unwrap(), (9, 1));
        assert_eq!(resolve_range(Some((3, -1)), 10).unwrap(), (3, 7));
        assert_eq!(resolve_range(Some((3, 100)), 10).unwrap(), (3, 7));
        assert!(resolve_range(Some((10, -1)), 10).is_err());
        assert!(resolve_range(Some((0, -1)), 0).is_err());
        assert!(resolve_range(Some((5, 4)), 10).is_err());
    }
}
