//! Writing one part into the temp file: the part's bytes coalesced in reusable aligned buffers
//! (`BufferPool`) and written by large positional writes on the blocking pool (`PartWriter`),
//! one write in flight while the next buffer fills, the part's CRC64 computed on the way.

use std::io;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::task::JoinHandle;

use super::direct::{AlignedBuf, FileWriter};
use crate::crc64;
use crate::error::{Error, Result};
use crate::memory_budget::{BufferGauge, MemoryBudget};

/// The write buffers of one download, reused from part to part: a part in flight holds at most
/// two (one filling, one being written), and the buffers alive, idle or in a part's hands, are
/// never more than the memory-budget slots the download holds count (two each, one when no part
/// is larger than a buffer; `set_limit`): a buffer given back beyond that is freed, not kept. (Allocating them per part let the allocator's per-thread
/// arenas fragment, which showed as 20+ MiB of extra peak RSS on a 1 GiB download; keeping two
/// idle ones per running part on top of the two each part holds let a batch's downloads hold
/// more buffers than their slots counted.)
pub struct BufferPool {
    size: usize,
    /// Buffers a part in flight may hold at once: one when no part is larger than a buffer.
    per_slot: usize,
    gauge: Arc<BufferGauge>,
    state: Mutex<PoolState>,
}

struct PoolState {
    free: Vec<AlignedBuf>,
    /// Buffers made and not freed: idle in `free` or held by a part.
    alive: usize,
    /// The most buffers alive once given back (`per_slot` per slot held).
    limit: usize,
}

impl BufferPool {
    /// A pool of buffers of `size` bytes for parts of at most `largest_part` bytes, for a
    /// download holding `slots` slots of the budget whose buffers are counted in `gauge`.
    pub fn new(
        size: usize,
        largest_part: u64,
        slots: usize,
        gauge: Arc<BufferGauge>,
    ) -> BufferPool {
        let size = size.max(1);
        let per_slot = MemoryBudget::buffers_per_slot(size, largest_part);
        BufferPool {
            size,
            per_slot,
            gauge,
            state: Mutex::new(PoolState {
                free: Vec::new(),
                alive: 0,
                limit: per_slot * slots,
            }),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, PoolState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// A buffer for data starting at file offset `offset`: an idle one, or a new one (a part
    /// holds a slot, which counts the buffers it may hold).
    fn get(&self, offset: u64) -> io::Result<AlignedBuf> {
        let idle = {
            let mut st = self.lock();
            let idle = st.free.pop();
            if idle.is_none() {
                st.alive += 1;
            }
            idle
        };
        let mut b = match idle {
            Some(b) => b,
            None => AlignedBuf::new(self.size, Some(self.gauge.clone()))
                .inspect_err(|_| self.lock().alive -= 1)?,
        };
        b.reset(offset);
        Ok(b)
    }

    /// The download now holds `slots` slots: idle buffers beyond what they count (two per
    /// slot, one for parts no larger than a buffer) are freed now, those in parts' hands when
    /// they are given back (the slots given back may be used by another download at once, for
    /// its own buffers).
    pub fn set_limit(&self, slots: usize) {
        let mut st = self.lock();
        st.limit = self.per_slot * slots;
        while st.alive > st.limit {
            if st.free.pop().is_none() {
                break;
            }
            st.alive -= 1;
        }
    }

    /// Buffers alive (idle or held by a part).
    #[cfg(test)]
    fn alive(&self) -> usize {
        self.lock().alive
    }

    fn put(&self, buf: AlignedBuf) {
        let mut st = self.lock();
        if buf.capacity() >= self.size && st.alive <= st.limit {
            st.free.push(buf);
        } else {
            st.alive -= 1;
            drop(st);
            drop(buf);
        }
    }
}

/// Buffers one part's bytes and writes them in large positional writes on the blocking pool,
/// computing the part's CRC64 on the way. At most one write is in flight while the next buffer
/// fills, so a part holds at most two buffers.
///
/// The CRC is computed in `push`, over the bytes just received (still in the CPU cache), not in
/// the write task over the buffer (by then mostly evicted: with 16 parts in flight the CRC there
/// took 15% of the download's CPU samples, against ~3% here).
pub struct PartWriter {
    file: Arc<FileWriter>,
    path: Arc<PathBuf>,
    pool: Arc<BufferPool>,
    /// Bytes buffered before a write (the pool's buffer size, or less for a small part).
    cap: usize,
    buf: Option<AlignedBuf>,
    /// File offset of the buffer's first byte (of the next byte pushed).
    buf_offset: u64,
    crc: u64,
    inflight: Option<WriteHandle>,
}

/// A write on the blocking pool; gives back the buffer (`None`: a received chunk written as is).
type WriteHandle = JoinHandle<io::Result<Option<AlignedBuf>>>;

impl PartWriter {
    /// A writer for the `len` bytes that go to the file from `file_offset` on.
    pub fn new(
        file: Arc<FileWriter>,
        path: Arc<PathBuf>,
        pool: Arc<BufferPool>,
        file_offset: u64,
        len: u64,
    ) -> PartWriter {
        let cap = (pool.size as u64).min(len.max(1)) as usize;
        PartWriter {
            file,
            path,
            pool,
            cap,
            buf: None,
            buf_offset: file_offset,
            crc: 0,
            inflight: None,
        }
    }

    fn buffered(&self) -> usize {
        self.buf.as_ref().map_or(0, AlignedBuf::len)
    }

    /// Appends the next bytes of the part.
    ///
    /// Without direct I/O, a chunk of at least half a buffer arriving while nothing is buffered
    /// is written as it is (no copy into a buffer); smaller ones are coalesced. With direct I/O
    /// every byte goes through an aligned buffer (a received chunk's address is not aligned).
    pub async fn push(&mut self, chunk: Bytes) -> Result<()> {
        self.crc = crc64::update(self.crc, &chunk);
        if self.buffered() == 0 && chunk.len() >= self.cap.div_ceil(2) && !self.file.is_direct() {
            self.wait_inflight().await?;
            let offset = self.buf_offset;
            self.buf_offset += chunk.len() as u64;
            let file = self.file.clone();
            self.inflight = Some(tokio::task::spawn_blocking(move || {
                file.write_at(&chunk, offset)?;
                Ok(None)
            }));
            return Ok(());
        }
        let mut data = &chunk[..];
        while !data.is_empty() {
            let offset = self.buf_offset + self.buffered() as u64;
            if self.buf.is_none() {
                let buf = self
                    .pool
                    .get(offset)
                    .map_err(|e| Error::io("allocating a write buffer for", &self.path, &e))?;
                self.buf = Some(buf);
            }
            let buf = self.buf.as_mut().expect("just set");
            let room = self.cap - buf.len();
            let n = buf.extend(&data[..room.min(data.len())]);
            data = &data[n..];
            if buf.len() >= self.cap {
                self.submit().await?;
            }
        }
        Ok(())
    }

    /// Waits for the write in flight.
    async fn wait_inflight(&mut self) -> Result<()> {
        if let Some(h) = self.inflight.take() {
            match h.await {
                Ok(Ok(spare)) => {
                    if let Some(spare) = spare {
                        self.pool.put(spare);
                    }
                }
                Ok(Err(e)) => return Err(Error::io("writing to the temp file", &self.path, &e)),
                Err(e) => {
                    return Err(Error::io_failure(format!(
                        "the temp file writer task failed: {e}"
                    )))
                }
            }
        }
        Ok(())
    }

    async fn submit(&mut self) -> Result<()> {
        self.wait_inflight().await?;
        let Some(buf) = self.buf.take() else {
            return Ok(());
        };
        if buf.is_empty() {
            self.pool.put(buf);
            return Ok(());
        }
        let offset = self.buf_offset;
        self.buf_offset += buf.len() as u64;
        let file = self.file.clone();
        self.inflight = Some(tokio::task::spawn_blocking(move || {
            file.write_at(buf.as_slice(), offset)?;
            Ok(Some(buf))
        }));
        Ok(())
    }

    /// Writes what is buffered (when `flush`), waits for the write in flight, and returns the
    /// CRC64 of everything pushed. With `flush == false` (a failed part) buffered bytes are dropped.
    pub async fn finish(mut self, flush: bool) -> Result<u64> {
        if flush {
            self.submit().await?;
        }
        let r = self.wait_inflight().await;
        if let Some(buf) = self.buf.take() {
            self.pool.put(buf);
        }
        r.map(|()| self.crc)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pool_keeps_no_more_buffers_than_its_slots_count() {
        let gauge = Arc::new(BufferGauge::default());
        // Parts larger than a buffer: two per slot; four slots held.
        let pool = BufferPool::new(8192, 8193, 4, gauge.clone());
        let held: Vec<AlignedBuf> = (0..8).map(|i| pool.get(i).unwrap()).collect();
        assert_eq!(pool.alive(), 8);
        for b in held {
            pool.put(b);
        }
        assert_eq!(pool.alive(), 8, "idle, kept for the next parts");
        // Three slots given back while one part runs with two buffers.
        let (a, b) = (pool.get(0).unwrap(), pool.get(0).unwrap());
        pool.set_limit(1);
        assert_eq!(pool.alive(), 2, "the idle ones freed at once");
        assert_eq!(gauge.now(), 2 * 8192);
        pool.put(a);
        pool.put(b);
        assert_eq!(pool.alive(), 2);
        pool.set_limit(0);
        assert_eq!(pool.alive(), 0);
        assert_eq!(gauge.now(), 0);
        // Parts no larger than a buffer hold one each.
        let one = BufferPool::new(8192, 8192, 2, gauge.clone());
        let held: Vec<AlignedBuf> = (0..3).map(|i| one.get(i).unwrap()).collect();
        for b in held {
            one.put(b);
        }
        assert_eq!(one.alive(), 2, "the third one is beyond two slots' share");
    }
}
