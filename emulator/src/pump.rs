//! The body pump: reads a GET answer's bytes from a memory map of the object's file and feeds
//! them to the answer's channel, applying faults, traffic limits and shaping on the way.

use std::fs::File;
use std::io;
use std::os::unix::fs::FileExt;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use tokio::sync::mpsc;

use crate::faults::{CutPoint, FaultPlan};
use crate::shaping::ConnShaping;
use crate::state::{Ctx, CHUNK};

/// A read-only, populated memory map of part of a file: the body is handed to the
/// socket straight from the page cache, without a copy into a buffer of ours.
pub(crate) struct MappedChunk {
    base: *mut libc::c_void,
    map_len: usize,
    skip: usize,
    len: usize,
}

// SAFETY: the mapping is read-only and owned by this value alone; it can be read from
// and unmapped on any thread.
unsafe impl Send for MappedChunk {}
// SAFETY: as above, shared access is read-only.
unsafe impl Sync for MappedChunk {}

impl AsRef<[u8]> for MappedChunk {
    fn as_ref(&self) -> &[u8] {
        // SAFETY: `base` maps `map_len` bytes readable for the lifetime of `self` and
        // `skip + len <= map_len`. Objects are replaced by rename, never rewritten in
        // place, so the mapped pages stay valid (a file truncated by hand while it is
        // being served could fault; that is outside what the emulator supports).
        unsafe { std::slice::from_raw_parts((self.base as *const u8).add(self.skip), self.len) }
    }
}

impl Drop for MappedChunk {
    fn drop(&mut self) {
        // SAFETY: `base`/`map_len` are exactly what mmap returned; unmapped once.
        unsafe {
            libc::munmap(self.base, self.map_len);
        }
    }
}

pub(crate) fn page_size() -> u64 {
    static PAGE: std::sync::OnceLock<u64> = std::sync::OnceLock::new();
    // SAFETY: sysconf has no preconditions.
    *PAGE.get_or_init(|| unsafe { libc::sysconf(libc::_SC_PAGESIZE) }.max(4096) as u64)
}

/// `len` bytes of `file` at `offset`: memory-mapped when possible, else read.
pub(crate) fn read_chunk(file: &File, offset: u64, len: usize) -> io::Result<Bytes> {
    use std::os::fd::AsRawFd;
    if len == 0 {
        return Ok(Bytes::new());
    }
    let page = page_size();
    let aligned = offset - offset % page;
    let skip = (offset - aligned) as usize;
    let map_len = skip + len;
    // SAFETY: a fresh read-only shared mapping of an open file; the result is checked.
    let base = unsafe {
        libc::mmap(
            std::ptr::null_mut(),
            map_len,
            libc::PROT_READ,
            libc::MAP_SHARED | libc::MAP_POPULATE,
            file.as_raw_fd(),
            aligned as libc::off_t,
        )
    };
    if base == libc::MAP_FAILED {
        let mut buf = vec![0u8; len];
        file.read_exact_at(&mut buf, offset)?;
        return Ok(Bytes::from(buf));
    }
    Ok(Bytes::from_owner(MappedChunk {
        base,
        map_len,
        skip,
        len,
    }))
}

pub(crate) struct Pump {
    pub(crate) file: File,
    pub(crate) first: u64,
    pub(crate) len: u64,
    pub(crate) extra: u64,
    /// bytes per second
    pub(crate) rate: Option<u64>,
    pub(crate) plan: FaultPlan,
    pub(crate) reset: Arc<AtomicBool>,
    pub(crate) status: u16,
    /// The connection's shaping state (its bucket).
    pub(crate) conn: Arc<ConnShaping>,
}

impl Pump {
    pub(crate) fn run(self, tx: mpsc::Sender<Result<Bytes, io::Error>>, ctx: Ctx) {
        let total = self.len + self.extra;
        let cut_at = self.plan.cut.map(|(p, rst)| {
            let at = match p {
                CutPoint::At(n) => n,
                CutPoint::Random(f) => ((total as f64) * f) as u64,
            };
            (at.min(total), rst)
        });
        let mut stall = self.plan.stall;
        let chunk_limit = match self.rate {
            // ~20 sends per second when throttled.
            Some(r) => ((r / 20).max(1024) as usize).min(CHUNK),
            None => CHUNK,
        };
        let started = Instant::now();
        let mut sent: u64 = 0;
        let mut buf_err: Option<io::Error> = None;
        let mut aborted = false;
        while sent < total {
            if let Some((at, rst)) = cut_at {
                if sent >= at {
                    if rst {
                        self.reset.store(true, Ordering::SeqCst);
                    }
                    // Let hyper take and write out what was sent before the cut: an
                    // error frame makes it drop the connection without flushing.
                    let t0 = Instant::now();
                    while tx.capacity() < tx.max_capacity() && t0.elapsed() < Duration::from_secs(2)
                    {
                        std::thread::sleep(Duration::from_millis(1));
                    }
                    std::thread::sleep(Duration::from_millis(20));
                    let _ = tx.blocking_send(Err(io::Error::new(
                        io::ErrorKind::ConnectionAborted,
                        "injected cut",
                    )));
                    aborted = true;
                    break;
                }
            }
            if let Some((at, ms)) = stall {
                if sent >= at {
                    std::thread::sleep(Duration::from_millis(ms));
                    stall = None;
                }
            }
            // Shaping (looked up per chunk, so a change applies to the rest of the body).
            let shaping = ctx.shared.shaping_state();
            let mut n = ((total - sent) as usize).min(chunk_limit);
            if let Some(c) = shaping.as_ref().and_then(|s| s.chunk()) {
                n = n.min(c);
            }
            if let Some((at, _)) = cut_at {
                if at > sent {
                    n = n.min((at - sent) as usize);
                }
            }
            if let Some((at, _)) = stall {
                if at > sent {
                    n = n.min((at - sent) as usize);
                }
            }
            if let Some(st) = shaping.as_ref().filter(|s| s.caps_bodies()) {
                let wait = st.reserve(&self.conn, n as u64, CHUNK);
                if !wait.is_zero() {
                    std::thread::sleep(wait);
                }
            }
            // Real bytes first, then junk for the long-body fault.
            let real_left = self.len.saturating_sub(sent);
            let real_n = (n as u64).min(real_left) as usize;
            let chunk = if real_n == n {
                match read_chunk(&self.file, self.first + sent, n) {
                    Ok(b) => b,
                    Err(e) => {
                        buf_err = Some(e);
                        break;
                    }
                }
            } else {
                let mut buf = vec![0u8; n];
                if real_n > 0 {
                    if let Err(e) = self
                        .file
                        .read_exact_at(&mut buf[..real_n], self.first + sent)
                    {
                        buf_err = Some(e);
                        break;
                    }
                }
                for (i, b) in buf[real_n..].iter_mut().enumerate() {
                    *b = b"JUNK"[i % 4];
                }
                Bytes::from(buf)
            };
            if tx.blocking_send(Ok(chunk)).is_err() {
                aborted = true; // client went away
                break;
            }
            sent += n as u64;
            if let Some(r) = self.rate {
                let due = Duration::from_secs_f64(sent as f64 / r as f64);
                let el = started.elapsed();
                if due > el {
                    std::thread::sleep(due - el);
                }
            }
        }
        if let Some(e) = buf_err {
            let _ = tx.blocking_send(Err(e));
            aborted = true;
        }
        let _ = aborted;
        ctx.finish(self.status, sent);
    }
}
