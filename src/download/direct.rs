//! The temp file's write path: positional writes that go to the disk directly (`O_DIRECT`) where
//! they are aligned, through the page cache elsewhere, and the aligned buffers they are made from.
//!
//! Why direct I/O (BENCHMARKS.md, "Direct I/O and the disk"): a buffered download copies every
//! byte once more into the page cache (a large share of its CPU samples), pays the writeback
//! later (more samples, plus the final fsync waiting for it), and allocates a page-cache
//! page per 4 KiB, which on a VM whose freed memory was handed back to the host (free page
//! reporting, DAMON reclaim) costs a host fault per page: the "slow after another tool's delete"
//! runs. A direct write goes from our reused buffer to the device, and when it returns the bytes
//! are in the device (its volatile cache: the fsync before the checkpoint records a part and the
//! one before the final rename still flush it). Durability is then nearly free.
//!
//! Alignment: a direct write needs its file offset, length and memory address aligned to the
//! file system's direct-I/O alignment (`ALIGN`, 4 KiB, which covers 512-byte and 4 KiB devices).
//! A write is split: the unaligned head and tail (a part boundary inside a 4 KiB block, the
//! file's last bytes) go through the page cache, the aligned middle goes direct. Buffers place
//! their data at the same address offset modulo `ALIGN` as its file offset, so the middle's
//! address is aligned too. The kernel keeps the two paths coherent (a direct write flushes and
//! drops cached pages of its range); the two never write the same bytes.
//!
//! Fallback: where the file system refuses `O_DIRECT` (tmpfs before 6.6, some FUSE file systems)
//! the file is opened without it and every write is buffered; a direct write that fails with
//! `EINVAL` (an alignment the device does not accept) or `EOPNOTSUPP` turns direct writes off for
//! the file and is done again buffered. Either way the bytes are the same.

use std::ffi::OsStr;
use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use rustix::fs::OFlags;

use super::directory::{Directory, FileStat};
use crate::memory_budget::BufferGauge;

/// Offset, length and address alignment of direct writes.
pub const ALIGN: usize = 4096;

/// The temp file opened twice: buffered (every read, and the unaligned writes) and, where the
/// file system allows it, with `O_DIRECT`.
#[derive(Debug)]
pub struct FileWriter {
    buffered: Arc<File>,
    direct: Option<File>,
    direct_on: AtomicBool,
}

impl FileWriter {
    /// `file` (already open, named `name` in `dir`), plus a direct descriptor of the same file
    /// when `want_direct` and the file system accepts one.
    pub fn open(dir: &Directory, name: &OsStr, file: Arc<File>, want_direct: bool) -> FileWriter {
        let direct = want_direct
            .then(|| dir.open_file(name, OFlags::WRONLY | OFlags::DIRECT, 0).ok())
            .flatten()
            .filter(|d| match (FileStat::of(d), FileStat::of(&file)) {
                // The name must still name the file we hold (nothing swapped in meanwhile).
                (Ok(a), Ok(b)) => a.same_file(&b),
                _ => false,
            });
        FileWriter {
            direct_on: AtomicBool::new(direct.is_some()),
            buffered: file,
            direct,
        }
    }

    /// Whether aligned writes go direct.
    pub fn is_direct(&self) -> bool {
        self.direct_on.load(Ordering::Relaxed)
    }

    /// Writes `data` at `offset`: the aligned middle direct (when on and `data` is laid out at
    /// its file offset's phase, as `AlignedBuf` does), the rest buffered.
    pub fn write_at(&self, data: &[u8], offset: u64) -> io::Result<()> {
        let direct = match &self.direct {
            Some(d) if self.is_direct() => d,
            _ => return self.buffered.write_all_at(data, offset),
        };
        let head = ((ALIGN as u64 - offset % ALIGN as u64) % ALIGN as u64).min(data.len() as u64);
        let head = head as usize;
        let mid = (data.len() - head) / ALIGN * ALIGN;
        let middle = &data[head..head + mid];
        if mid == 0 || !(middle.as_ptr() as usize).is_multiple_of(ALIGN) {
            return self.buffered.write_all_at(data, offset);
        }
        if head > 0 {
            self.buffered.write_all_at(&data[..head], offset)?;
        }
        match direct.write_all_at(middle, offset + head as u64) {
            Ok(()) => {}
            Err(e) if refused(&e) => {
                self.direct_on.store(false, Ordering::Relaxed);
                self.buffered.write_all_at(middle, offset + head as u64)?;
            }
            Err(e) => return Err(e),
        }
        let tail = &data[head + mid..];
        if !tail.is_empty() {
            self.buffered
                .write_all_at(tail, offset + (head + mid) as u64)?;
        }
        Ok(())
    }
}

/// Errors with which a file system turns down a direct write it accepted the open for: the
/// alignment it wants is not ours (`EINVAL`), or it does not do direct writes after all.
fn refused(e: &io::Error) -> bool {
    use rustix::io::Errno;
    [Errno::INVAL, Errno::OPNOTSUPP, Errno::NOTSUP]
        .iter()
        .any(|x| e.raw_os_error() == Some(x.raw_os_error()))
}

/// A write buffer whose first byte, meant for file offset `o`, sits at an address congruent to
/// `o` modulo `ALIGN`: its aligned file blocks are aligned in memory too. An anonymous mapping of
/// `cap + ALIGN` bytes (page-aligned, zero-filled by the kernel), reused.
///
/// Not from the allocator: buffers of 256 KiB-1 MiB allocated and freed as downloads come and go
/// fragmented glibc's heaps (whose mmap threshold rises past them once any large block was
/// freed), and the freed holes stayed resident: a batch of 64 MiB objects peaked 12-30 MiB above
/// its live memory, over the client's budget (BENCHMARKS.md, "100 objects of 64 MiB: what the
/// peak is made of"). A mapping gives its pages back when dropped, so the buffers' resident
/// memory is the buffers alive, which the memory budget counts.
#[derive(Debug)]
pub struct AlignedBuf {
    mem: memmap2::MmapMut,
    /// Told of this buffer's capacity when made and when freed.
    gauge: Option<Arc<BufferGauge>>,
    /// Index in `mem` of the data's first byte.
    start: usize,
    len: usize,
    cap: usize,
}

impl AlignedBuf {
    /// A buffer of `cap` bytes (an error when the kernel refuses the mapping: out of memory),
    /// counted in `gauge` while it lives.
    pub fn new(cap: usize, gauge: Option<Arc<BufferGauge>>) -> io::Result<AlignedBuf> {
        // Page-aligned: room for the phase of the first byte (< ALIGN) past `cap`. Its pages
        // are made when first written: at most `cap + ALIGN` bytes resident, one page beyond
        // `cap`.
        let mem = memmap2::MmapMut::map_anon(cap + ALIGN)?;
        if let Some(g) = &gauge {
            g.made(cap as u64);
        }
        Ok(AlignedBuf {
            mem,
            gauge,
            start: 0,
            len: 0,
            cap,
        })
    }

    /// Bytes it can hold.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Empties it for data that starts at file offset `offset`.
    pub fn reset(&mut self, offset: u64) {
        let base = self.mem.as_ptr().align_offset(ALIGN);
        self.start = base + (offset % ALIGN as u64) as usize;
        self.len = 0;
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Appends as much of `data` as fits; returns how much that was.
    pub fn extend(&mut self, data: &[u8]) -> usize {
        let n = (self.cap - self.len).min(data.len());
        let at = self.start + self.len;
        self.mem[at..at + n].copy_from_slice(&data[..n]);
        self.len += n;
        n
    }

    pub fn as_slice(&self) -> &[u8] {
        &self.mem[self.start..self.start + self.len]
    }
}

impl Drop for AlignedBuf {
    fn drop(&mut self) {
        if let Some(g) = &self.gauge {
            g.freed(self.cap as u64);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_aligned_buffer_mirrors_its_file_offset_modulo_the_alignment() {
        let mut b = AlignedBuf::new(3 * ALIGN, None).unwrap();
        for offset in [0u64, 1, 4095, 4096, 4097, 12345, 1 << 40] {
            b.reset(offset);
            assert_eq!(b.extend(&[7u8; 10]), 10);
            let addr = b.as_slice().as_ptr() as usize;
            assert_eq!(addr % ALIGN, (offset % ALIGN as u64) as usize);
            assert_eq!(b.as_slice(), &[7u8; 10]);
        }
        b.reset(0);
        assert_eq!(
            b.extend(&vec![1u8; 4 * ALIGN]),
            3 * ALIGN,
            "capped at its capacity"
        );
        assert_eq!(b.extend(&[1u8]), 0);
    }

    const CHILD: &str = "OSS_FFI_CHILD_BUFFERS";

    /// The resident anonymous memory of this process, KiB.
    fn rss_anon_kib() -> u64 {
        let s = std::fs::read_to_string("/proc/self/status").unwrap();
        s.lines()
            .find_map(|l| l.strip_prefix("RssAnon:"))
            .and_then(|v| v.split_whitespace().next())
            .and_then(|v| v.parse().ok())
            .unwrap()
    }

    /// Run by the test below in a child process (alone in it: no other test allocates
    /// meanwhile): 32 buffers of 1 MiB made and written, each followed by a small allocation
    /// that stays (as a download's own state does), after one buffer made and freed (which
    /// raises glibc's mmap threshold past 1 MiB, as any freed large block does); then the
    /// buffers freed. Prints how much resident memory they left behind.
    #[test]
    #[ignore]
    fn child_buffers_entry() {
        if std::env::var(CHILD).is_err() {
            return;
        }
        drop(AlignedBuf::new(1 << 20, None).unwrap());
        let before = rss_anon_kib();
        let mut kept = Vec::new();
        let mut bufs = Vec::new();
        for i in 0..32u64 {
            let mut b = AlignedBuf::new(1 << 20, None).unwrap();
            b.reset(i);
            while b.extend(&[1u8; 4096]) > 0 {}
            bufs.push(b);
            kept.push(Box::new([i; 8]));
        }
        let full = rss_anon_kib();
        drop(bufs);
        let after = rss_anon_kib();
        println!(
            "CHILD_BUFFERS grew_kib={} left_kib={} kept={}",
            full.saturating_sub(before),
            after.saturating_sub(before),
            kept.len()
        );
    }

    /// Freed write buffers give their memory back to the system at once: what a batch's
    /// downloads freed is not held by the allocator while the next ones make theirs (buffers
    /// from glibc's heaps stayed resident there, behind the small blocks made after them).
    #[test]
    fn freed_write_buffers_give_their_memory_back() {
        let out = std::process::Command::new(std::env::current_exe().unwrap())
            .args([
                "download::direct::tests::child_buffers_entry",
                "--exact",
                "--ignored",
                "--nocapture",
            ])
            .env(CHILD, "1")
            .output()
            .unwrap();
        let text = String::from_utf8_lossy(&out.stdout);
        let line = text
            .lines()
            .find(|l| l.starts_with("CHILD_BUFFERS"))
            .unwrap_or_else(|| panic!("child failed: {text}"));
        let field = |name: &str| -> u64 {
            line.split_whitespace()
                .find_map(|f| f.strip_prefix(name)?.strip_prefix('='))
                .unwrap()
                .parse()
                .unwrap()
        };
        assert!(
            field("grew_kib") >= 30 << 10,
            "the buffers were resident: {line}"
        );
        assert!(
            field("left_kib") < 4 << 10,
            "freed buffers left memory resident: {line}"
        );
    }

    /// Every split of a write (head, middle, tail; direct on or off) puts the same bytes in the
    /// file. Run on the test's temp directory: direct where its file system allows it, buffered
    /// elsewhere, and once buffered by choice; every way must give the bytes written.
    #[test]
    fn writes_at_any_offset_and_length_land_exactly() {
        writes_land_exactly(true);
        writes_land_exactly(false);
    }

    fn writes_land_exactly(want_direct: bool) {
        let dir = tempfile::tempdir().unwrap();
        let d = Directory::open(dir.path()).unwrap();
        let name = OsStr::new("f");
        let size = 64 * ALIGN as u64 + 100;
        let f = Arc::new(d.create_private(name).unwrap());
        f.set_len(size).unwrap();
        let w = FileWriter::open(&d, name, f.clone(), want_direct);
        assert!(want_direct || !w.is_direct());
        let mut expect = vec![0u8; size as usize];
        let mut buf = AlignedBuf::new(16 * ALIGN, None).unwrap();
        let cases: &[(u64, usize)] = &[
            (0, 4 * ALIGN),
            (4 * ALIGN as u64, 1),
            (4 * ALIGN as u64 + 1, 3 * ALIGN),
            (9 * ALIGN as u64 - 7, 2 * ALIGN + 9),
            (20 * ALIGN as u64 + 5, 100),
            (30 * ALIGN as u64, 16 * ALIGN),
            (size - 4196, 4196),
        ];
        for (i, &(offset, len)) in cases.iter().enumerate() {
            let data: Vec<u8> = (0..len).map(|j| (i * 31 + j * 7) as u8).collect();
            buf.reset(offset);
            assert_eq!(buf.extend(&data), len);
            w.write_at(buf.as_slice(), offset).unwrap();
            expect[offset as usize..offset as usize + len].copy_from_slice(&data);
        }
        let mut got = vec![0u8; size as usize];
        f.read_exact_at(&mut got, 0).unwrap();
        assert!(
            got == expect,
            "file content differs (direct: {})",
            w.is_direct()
        );
    }
}
