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

/// The write buffers of one download, reused from part to part: at most two per part in
/// flight exist, allocated once, and the idle ones beyond two per memory-budget slot the
/// download holds are freed (`trim`). (Allocating them per part lets the allocator's per-thread
/// arenas fragment, which showed as 20+ MiB of extra peak RSS on a 1 GiB download.)
pub struct BufferPool {
    size: usize,
    free: Mutex<Vec<AlignedBuf>>,
}

impl BufferPool {
    pub fn new(size: usize) -> BufferPool {
        BufferPool {
            size: size.max(1),
            free: Mutex::new(Vec::new()),
        }
    }

    /// A buffer for data starting at file offset `offset`.
    fn get(&self, offset: u64) -> AlignedBuf {
        let mut b = self
            .free
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_else(|| AlignedBuf::new(self.size));
        b.reset(offset);
        b
    }

    /// Frees the idle buffers beyond `keep` (their parts' memory-budget slots were given back,
    /// so another download may use that memory now).
    pub fn trim(&self, keep: usize) {
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        free.truncate(keep);
    }

    fn put(&self, buf: AlignedBuf) {
        if buf.capacity() >= self.size {
            self.free
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .push(buf);
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
            let buf = self.buf.get_or_insert_with(|| self.pool.get(offset));
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
