//! Part planning: which bytes of the object the download covers and how they are cut into parts.

use super::ramp::{self, Target};
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

/// The smallest part a throughput target cuts an object into (unless the caller asked for
/// smaller parts), and the length of such a download's first request: each part costs a request
/// and its round trip, each connection a handshake. On the shaped bench link (20 ms, 25 MB/s per
/// connection, HTTPS) 64 MiB in 16 parts of 4 MiB took 0.23-0.26 s and 0.10-0.14 CPU-s, in 32
/// of 2 MiB (23 at once, then 9) 0.27-0.54 s and 0.12-0.15 CPU-s.
pub const TARGET_MIN_PART: u64 = 4 * 1024 * 1024;

/// The part size of a download of `total` bytes with `requested` parts: the requested size
/// (raised for `MAX_PARTS`), or, with a throughput target, smaller for an object that the
/// requested size cuts into fewer parts than the target starts in flight
/// (`ramp::start_level`): cut into that many (whole MiB, [`TARGET_MIN_PART`] at least). A
/// 64 MiB object in 8 MiB parts is 8 GETs, however fast the link: a target of "max" makes it
/// 16 of 4 MiB, 256 MiB 64 of 4 MiB; from 512 MiB on the requested size stands.
pub fn part_size_for(total: u64, requested: u64, target: Option<Target>) -> u64 {
    let requested = requested.max(1);
    let Some(target) = target else {
        return effective_part_size(total, requested);
    };
    let wanted = ramp::start_level(target).max(1) as u64;
    let even = total
        .div_ceil(wanted)
        .div_ceil(RAISED_PART_ALIGN)
        .saturating_mul(RAISED_PART_ALIGN);
    effective_part_size(total, even.max(smallest_cut(requested)).min(requested))
}

/// The bytes a fresh download's first request asks for (its answer is the first part, or the
/// start of it): the requested part size, or with a throughput target the smallest part it may
/// cut ([`part_size_for`] is never less), since the object's size is not known yet.
pub fn first_request_size(requested: u64, target: Option<Target>) -> u64 {
    match target {
        None => requested,
        Some(_) => smallest_cut(requested.max(1)),
    }
}

/// Whether `part_size` is a cut of `total` bytes that a download requesting `requested` could
/// have made, with a throughput target or without: a checkpoint (or token) cut so is resumed with
/// its own cut, whichever this run would choose, so that giving or dropping a target between
/// runs loses no finished part.
pub fn is_a_cut_for(total: u64, requested: u64, part_size: u64) -> bool {
    let requested = requested.max(1);
    part_size >= smallest_cut(requested)
        && part_size <= effective_part_size(total, requested)
        && total.div_ceil(part_size) <= MAX_PARTS
}

fn smallest_cut(requested: u64) -> u64 {
    requested.min(TARGET_MIN_PART)
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
    fn a_throughput_target_cuts_a_small_object_into_as_many_parts_as_it_starts() {
        const MIB: u64 = 1 << 20;
        let max = Some(Target::Max);
        // Without a target: the requested size.
        assert_eq!(part_size_for(64 * MIB, 8 * MIB, None), 8 * MIB);
        // "max" starts 64 parts: 64 MiB and 256 MiB in 4 MiB (the smallest cut), 300 MiB in 5,
        // from 512 MiB on the requested 8 MiB.
        assert_eq!(part_size_for(64 * MIB, 8 * MIB, max), TARGET_MIN_PART);
        assert_eq!(part_size_for(256 * MIB, 8 * MIB, max), 4 * MIB);
        assert_eq!(part_size_for(300 * MIB, 8 * MIB, max), 5 * MIB);
        assert_eq!(part_size_for(512 * MIB, 8 * MIB, max), 8 * MIB);
        assert_eq!(part_size_for(1 << 30, 8 * MIB, max), 8 * MIB);
        // A rate starts fewer parts (1 GB/s: 20), so its cut is coarser.
        let rate = Some(Target::Rate(1_000_000_000));
        assert_eq!(part_size_for(100 * MIB, 8 * MIB, rate), 5 * MIB);
        // The caller's smaller parts stand; huge objects are still bounded by MAX_PARTS.
        assert_eq!(part_size_for(64 * MIB, MIB, max), MIB);
        assert_eq!(part_size_for(0, 8 * MIB, max), TARGET_MIN_PART);
        let huge = 48u64 << 40;
        assert_eq!(
            part_size_for(huge, 8 * MIB, max),
            effective_part_size(huge, 8 * MIB)
        );
        // The first request never asks for more than the smallest cut, so its answer is
        // never longer than the first part.
        for total in [0, MIB, 64 * MIB, 256 * MIB, 1 << 30, huge] {
            for requested in [100 * 1024, MIB, 8 * MIB, 64 * MIB] {
                for target in [None, max, rate, Some(Target::Rate(1))] {
                    let cut = part_size_for(total, requested, target);
                    assert!(first_request_size(requested, target) <= cut);
                    assert!(is_a_cut_for(total, requested, cut), "{total} {requested}");
                    assert!(total.div_ceil(cut) <= MAX_PARTS);
                }
            }
        }
    }

    #[test]
    fn a_record_cut_with_or_without_a_target_is_a_cut_of_the_request() {
        const MIB: u64 = 1 << 20;
        assert!(is_a_cut_for(64 * MIB, 8 * MIB, 8 * MIB));
        assert!(is_a_cut_for(64 * MIB, 8 * MIB, 4 * MIB));
        // Not below the smallest cut, not above the requested (raised) size, not over
        // MAX_PARTS parts.
        assert!(!is_a_cut_for(64 * MIB, 8 * MIB, 3 * MIB));
        assert!(!is_a_cut_for(64 * MIB, 8 * MIB, 9 * MIB));
        assert!(!is_a_cut_for(48u64 << 40, 8 * MIB, 8 * MIB));
        assert!(!is_a_cut_for(64 * MIB, 8 * MIB, 0));
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
