//! The prefetching reader: one version of an object read into the caller's buffers, with
//! several ranged GETs in flight ahead of the reads (`PrefetchReader`).
//!
//! - Open: a HEAD (with the request's conditions and version id) gives the size, the ETag every
//!   later GET is pinned to (`If-Match`), the whole-object CRC64 and the metadata. No byte is
//!   fetched before the first read, so a reader that starts at the end (a Parquet footer) costs
//!   no wasted GET.
//! - Parts: each GET is a part of at most `part_size` bytes, fetched by a task through the one
//!   resuming body reader (`body_reader`: cut bodies resumed pinned to the ETag, answers checked
//!   for their status, Content-Range and length, the client's retries for 503s and the idle
//!   timeout of the transport). A task pushes the pieces hyper hands it into its part's queue
//!   and computes the part's CRC64 on the way (on the runtime's threads, in parallel); the
//!   reader copies the pieces into the caller's buffer: one copy, from the HTTP stack.
//! - Window: reads that continue where the last one ended are sequential: parts are kept in
//!   flight up to the window ahead of the read position (bytes asked for, received or not), and
//!   the window doubles each time a part is read through, up to its cap (`window_bounds`:
//!   `max_window`, and what the budget holds). The GETs open at once are at most the client's
//!   connections and what the budget holds (`window_bounds`); a part is the window shared among
//!   them (`sequential_part_len`: at least `part_size`, at most 8 MiB), so a wide window asks
//!   for larger ranges, fewer round trips per byte. A read elsewhere (a seek) collapses it: the
//!   parts not covering the new position are dropped, and the read fetches what it asks for plus
//!   `read_ahead` bytes. A seek forward into the parts in flight keeps them.
//! - Memory: every part reserves, from the client's memory budget, what it holds: its bytes
//!   received and not yet read (the pieces as hyper handed them: a reader's buffer), plus its
//!   connection's share while its GET is open (`CONNECTION_COST`, what a download's part
//!   reserves beside its write buffers). It starts with the connection's share and reserves its
//!   bytes before it receives them (`make_room`): when the budget is spent it stops receiving
//!   (its GET stalls) until the reader takes bytes out of it or another reservation is given
//!   back. The reservation shrinks as the caller reads. So a caller that stops reading stops the
//!   GETs: the memory stays within the window and the budget. The part at the read position
//!   never waits for the budget to start (another reader's consumer may hold it indefinitely,
//!   possibly from this very thread): without a reservation it runs alone; with one it always
//!   gets on, since the reader empties it.
//! - One version: every GET carries `If-Match` with the HEAD's ETag; a change (412, another
//!   ETag or size) fails the next read with `ObjectChanged`, never mixed bytes.
//! - Verified: when the parts read through cover the whole object in order (a read from start to
//!   end, seeks forward within the window allowed), their CRCs are combined and checked against
//!   the server's `x-oss-hash-crc64ecma` (CRC checking on); a mismatch is the error of the read
//!   that would have returned the end, never a silent end.
//!
//! Dropping the reader aborts its tasks: their connections are closed and their reservations
//! given back.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};

use bytes::Bytes;
use tokio::sync::Notify;
use tokio::task::AbortHandle;
use tokio_util::sync::CancellationToken;

use super::{check_whole_object, user_range, BodyReader, ObjectMeta, ObjectRequest, Pinned};
use crate::cancel::Cancel;
use crate::client::Client;
use crate::crc64;
use crate::error::{Error, ErrorKind, Result};
use crate::memory_budget::{MemoryBudget, Slot, CONNECTION_COST};

const KIB: u64 = 1024;
const MIB: u64 = 1024 * KIB;

/// The default size of one GET of a sequential read: small parts keep many GETs in flight within
/// the budget (on a link of 20 ms and 25 MB/s per connection, 256 MiB read at the default budget:
/// 1 MiB parts 0.88 s, 2 MiB 1.15 s, 4 MiB 1.38 s, 8 MiB 2.42 s; on loopback no difference).
pub const DEFAULT_READER_PART_SIZE: u64 = MIB;
/// Bounds of `part_size`.
pub const MIN_READER_PART_SIZE: u64 = 64 * KIB;
pub const MAX_READER_PART_SIZE: u64 = 256 * MIB;
/// The default largest window (bytes reserved ahead of the read position); the client's memory
/// budget bounds it too.
pub const DEFAULT_MAX_WINDOW: u64 = 64 * MIB;
/// The default bytes fetched beyond what a random read asks for.
pub const DEFAULT_READ_AHEAD: u64 = 64 * KIB;
/// A random read is fetched by up to this many GETs at once...
const RANDOM_SPLIT: u64 = 8;
/// ... of at least this many bytes each (never more than the part size).
const RANDOM_MIN_PART: u64 = 256 * KIB;
/// The most GETs one reader keeps open (as the throughput target's widest start,
/// `download::ramp::MAX_START`).
const MAX_READER_GETS: u64 = 64;
/// The largest GET of a sequential read whose window grew (`sequential_part_len`).
const MAX_GROWN_PART: u64 = 8 * MIB;
/// Bounds of `read_ahead`.
pub const MAX_READ_AHEAD: u64 = 64 * MIB;

/// How a [`PrefetchReader`] fetches ahead.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PrefetchOptions {
    /// The size of each GET of a sequential read (`MIN_READER_PART_SIZE..=MAX_READER_PART_SIZE`).
    pub part_size: u64,
    /// The largest window of a sequential read (at least `part_size`); the client's memory
    /// budget bounds it as well.
    pub max_window: u64,
    /// The bytes fetched beyond what a random read asks for (`0..=MAX_READ_AHEAD`).
    pub read_ahead: u64,
}

impl Default for PrefetchOptions {
    fn default() -> Self {
        PrefetchOptions {
            part_size: DEFAULT_READER_PART_SIZE,
            max_window: DEFAULT_MAX_WINDOW,
            read_ahead: DEFAULT_READ_AHEAD,
        }
    }
}

impl PrefetchOptions {
    /// The options' bounds (`ValidateError` naming the one out of range).
    pub fn validate(&self) -> Result<()> {
        if !(MIN_READER_PART_SIZE..=MAX_READER_PART_SIZE).contains(&self.part_size) {
            return Err(Error::validate(format!(
                "the reader's part size must be between {MIN_READER_PART_SIZE} and {MAX_READER_PART_SIZE} bytes, got {}",
                self.part_size
            )));
        }
        if self.max_window < self.part_size {
            return Err(Error::validate(format!(
                "the reader's largest window ({} bytes) must be at least its part size ({} bytes)",
                self.max_window, self.part_size
            )));
        }
        if self.read_ahead > MAX_READ_AHEAD {
            return Err(Error::validate(format!(
                "the reader's read-ahead must be at most {MAX_READ_AHEAD} bytes, got {}",
                self.read_ahead
            )));
        }
        Ok(())
    }
}

/// What a part's task and the reader share.
struct PartShared {
    state: Mutex<PartState>,
    /// Signalled after every change of `state` (one waiter: the reader).
    changed: Notify,
    /// Signalled when the reader takes bytes out of the part (one waiter: its task, waiting for
    /// room to receive more).
    consumed: Notify,
}

struct PartState {
    /// Received, not yet read, in order.
    pieces: VecDeque<Bytes>,
    /// The bytes in `pieces`.
    held: u64,
    /// Every byte of the part was received; `crc` is the part's CRC64.
    done: bool,
    crc: u64,
    error: Option<Error>,
    /// The part's reservation: the bytes it holds (received, not read), plus a connection's
    /// share while its GET is open (`part_cost`). `None`: the part runs alone, unreserved.
    slot: Option<Slot>,
}

impl PartState {
    /// Gives back what the reservation holds beyond what the part holds now (after the reader
    /// took bytes, or the GET ended).
    fn release(&mut self) {
        let cost = part_cost(self.held, !self.done);
        if let Some(slot) = &mut self.slot {
            slot.shrink_to(cost);
        }
    }
}

/// What a part reserves from the client's memory budget: the bytes it holds (its buffer: the
/// pieces received and not read, kept as hyper handed them), plus, while its GET is open, the
/// share of its connection that a download's part reserves beside its write buffers
/// (`CONNECTION_COST`: hyper's read buffer, the piece being received, the allocator's slack).
pub(crate) fn part_cost(held: u64, open: bool) -> u64 {
    held + if open { CONNECTION_COST } else { 0 }
}

impl PartShared {
    fn lock(&self) -> MutexGuard<'_, PartState> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// One GET of the reader: bytes `start..end`; `taken` is the next byte to hand out.
struct Part {
    start: u64,
    end: u64,
    taken: u64,
    shared: Arc<PartShared>,
    task: AbortHandle,
}

impl Drop for Part {
    fn drop(&mut self) {
        self.task.abort();
        // The reservation goes back now, not when the aborted (or finishing) task is dropped on
        // the runtime's thread: a reader read through or closed holds nothing.
        self.shared.lock().slot = None;
    }
}

/// Ends a part's task: marks the part failed when the task stops without finishing (aborted, a
/// panic, the runtime shut down), so that a reader waiting for it never hangs.
struct TaskEnd(Arc<PartShared>);

impl Drop for TaskEnd {
    fn drop(&mut self) {
        let mut st = self.0.lock();
        if !st.done && st.error.is_none() {
            st.error = Some(Error::cancelled(
                "the part's GET was stopped (the reader was dropped or the SDK shut down)",
            ));
        }
        drop(st);
        self.0.changed.notify_one();
    }
}

/// Waits until the part's reservation covers what it holds plus its connection's share, the
/// room for the next piece: takes the difference from the budget, or waits for the reader to
/// take bytes out of the part. A part whose reader stopped reading thus stops receiving (its
/// GET stalls) once the budget is spent; the part at the read position always gets on, since the
/// reader empties it. A part running alone (no reservation) never waits.
async fn make_room(shared: &PartShared, budget: &MemoryBudget) {
    loop {
        let consumed = shared.consumed.notified();
        tokio::pin!(consumed);
        consumed.as_mut().enable();
        let need = {
            let st = shared.lock();
            match &st.slot {
                None => return,
                Some(slot) => part_cost(st.held, true).saturating_sub(slot.bytes()),
            }
        };
        if need == 0 {
            return;
        }
        tokio::select! {
            more = budget.acquire(need) => {
                let mut st = shared.lock();
                if let Some(slot) = &mut st.slot {
                    slot.absorb(more);
                }
                // The reader may have taken bytes meanwhile: keep no more than needed.
                st.release();
            }
            _ = consumed => {}
        }
    }
}

/// Fetches `start..end` into `shared` (see the module documentation).
async fn fetch(
    pin: Arc<Pinned>,
    cancel: Cancel,
    budget: MemoryBudget,
    start: u64,
    end: u64,
    shared: Arc<PartShared>,
) {
    let end_guard = TaskEnd(shared.clone());
    let mut body = BodyReader::new(pin, None, cancel, start, end);
    let mut crc = crc64::Stream::new();
    loop {
        make_room(&shared, &budget).await;
        let next = body.next_chunk().await;
        let mut st = shared.lock();
        match next {
            Ok(Some(bytes)) => {
                crc.write(&bytes);
                st.held += bytes.len() as u64;
                st.pieces.push_back(bytes);
            }
            Ok(None) => {
                st.done = true;
                st.crc = crc.sum();
                // The connection is back in the pool: only the unread bytes stay reserved.
                st.release();
            }
            Err(e) => st.error = Some(e),
        }
        let finished = st.done || st.error.is_some();
        drop(st);
        shared.changed.notify_one();
        if finished {
            break;
        }
    }
    drop(end_guard);
}

/// A stoppable handle on a reader's cancellation, usable from any thread.
#[derive(Clone, Debug)]
pub struct ReaderCancel(CancellationToken);

impl ReaderCancel {
    /// Stops the reader: a read in progress and every later one fail with `Cancelled`.
    pub fn cancel(&self) {
        self.0.cancel();
    }

    pub fn is_cancelled(&self) -> bool {
        self.0.is_cancelled()
    }
}

/// One version of an object (or of a range of it), read with prefetching: see the module
/// documentation. Positions (`tell`, `seek`) and `size` are relative to the range's start.
pub struct PrefetchReader {
    pin: Arc<Pinned>,
    meta: ObjectMeta,
    opts: PrefetchOptions,
    cancel: Cancel,
    token: CancellationToken,
    budget: MemoryBudget,
    /// The range read, in object offsets: `base..end`.
    base: u64,
    end: u64,
    /// The next byte a read returns (object offset; may be past `end` after a seek).
    pos: u64,
    /// Where the last read ended (a read starting there is sequential).
    expected: u64,
    sequential: bool,
    /// The window of a sequential read: bytes reserved ahead of `pos`.
    window: u64,
    /// The largest window: `max_window`, bounded by the budget.
    window_cap: u64,
    /// The most GETs open at once (`parts_cap`).
    max_parts: usize,
    /// Contiguous parts from (about) `pos` on.
    parts: VecDeque<Part>,
    /// The parts read through so far cover `base..chain.0` in order, with CRC64 `chain.1`;
    /// `None` once a part was skipped or dropped (no whole-object check then).
    chain: Option<(u64, u64)>,
    /// A read of the whole object can be checked: the range is the object, CRC checking on.
    checkable: bool,
    /// The error every later read returns.
    failed: Option<Error>,
}

impl PrefetchReader {
    /// Opens `req` (whole object, or `range` as in [`user_range`]): sends the HEAD (retried per
    /// the client's policy, within its call timeout); no byte is fetched yet. `cancel` applies to
    /// every later read as well.
    pub async fn open(
        client: &Client,
        req: &ObjectRequest,
        range: Option<(i64, i64)>,
        opts: PrefetchOptions,
        cancel: &Cancel,
    ) -> Result<PrefetchReader> {
        opts.validate()?;
        let want = user_range(range)?;
        if req.url.is_some() {
            return Err(Error::validate(
                "a reader needs the object's bucket and key (it sends a HEAD and ranged GETs); a \
                 URL cannot be read with it",
            ));
        }
        let token = CancellationToken::new();
        let cancel = cancel.clone().with(token.clone());
        let meta = client.head_object(req, &cancel).await?;
        let size = meta.content_length;
        let (base, end) = match want {
            None => (0, size),
            Some(r) => {
                if r.first > size || (r.first == size && size > 0) {
                    return Err(name(
                        req,
                        Error::validate(format!(
                            "the range starts at byte {} but the object has {size} bytes",
                            r.first
                        )),
                    ));
                }
                (r.first, r.last.saturating_add(1).min(size))
            }
        };
        let budget = client.memory_budget().clone();
        let pool = budget.total() - crate::memory_budget::BASE_COST;
        let (max_parts, window_cap) = window_bounds(&opts, pool, client.config().max_connections);
        let pin = Arc::new(Pinned::of(client, req.clone(), &meta, "the read of"));
        let checked = client.config().enable_crc64 && base == 0 && end == size;
        Ok(PrefetchReader {
            pin,
            meta,
            opts,
            cancel,
            token,
            budget,
            base,
            end,
            pos: base,
            expected: base,
            sequential: true,
            window: initial_window(&opts, window_cap),
            window_cap,
            max_parts,
            parts: VecDeque::new(),
            chain: checked.then_some((0, 0)),
            checkable: checked,
            failed: None,
        })
    }

    /// The HEAD's metadata (`content_length` is the whole object's size); `verified` once a
    /// read reached the end and the whole-object CRC64 matched.
    pub fn meta(&self) -> &ObjectMeta {
        &self.meta
    }

    /// The number of bytes readable: the range's, or the object's.
    pub fn size(&self) -> u64 {
        self.end - self.base
    }

    /// The position of the next read, from the range's start.
    pub fn tell(&self) -> u64 {
        self.pos - self.base
    }

    /// A handle that cancels this reader from any thread.
    pub fn canceller(&self) -> ReaderCancel {
        ReaderCancel(self.token.clone())
    }

    /// Moves the position to `offset` from the range's start (past the end is allowed: reads
    /// there return the end). Sends nothing; the next read decides what to keep.
    pub fn seek(&mut self, offset: u64) -> Result<u64> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        self.pos = self.base.saturating_add(offset);
        Ok(offset)
    }

    /// Reads up to `buf.len()` bytes at the position: waits until at least one is there, then
    /// copies every byte already received (up to the buffer's size). `Ok(0)`: the end (or an
    /// empty buffer), after the whole-object check when it applies.
    pub async fn read(&mut self, buf: &mut [u8]) -> Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        if !self.fill(buf.len()).await? {
            return Ok(0);
        }
        Ok(self.take(buf))
    }

    /// Waits until the byte at the position is received (`Ok(true)`) or the end is reached
    /// (`Ok(false)`, after the whole-object check). `want`: how many bytes the caller asks for
    /// (what a random read fetches). After an error every later call returns it again.
    pub async fn fill(&mut self, want: usize) -> Result<bool> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        let r = self.fill_inner(want as u64).await;
        if let Err(e) = &r {
            let e = name(&self.pin.req, e.clone());
            self.failed = Some(e.clone());
            self.parts.clear();
            return Err(e);
        }
        r
    }

    async fn fill_inner(&mut self, want: u64) -> Result<bool> {
        self.cancel.check()?;
        if self.pos != self.expected {
            // A seek: random reads until a read continues where the last one ended.
            self.sequential = false;
            self.window = initial_window(&self.opts, self.window_cap);
        } else if !self.sequential && self.parts.back().is_none_or(|p| p.end <= self.pos) {
            // Past what the random read asked for: reading on is sequential. (A read within
            // it is the rest of that read, handed out in pieces.)
            self.sequential = true;
        }
        loop {
            self.cancel.check()?;
            self.drop_passed_parts();
            if let Some(front) = self.parts.front().filter(|f| f.end <= self.pos) {
                // Read through, its task about to report its CRC: wait for it.
                let shared = front.shared.clone();
                let notified = shared.changed.notified();
                let finished = {
                    let st = shared.lock();
                    st.done || st.error.is_some()
                };
                if !finished {
                    self.cancel
                        .run(async {
                            notified.await;
                            Ok(())
                        })
                        .await?;
                }
                continue;
            }
            if self.pos >= self.end {
                self.finish()?;
                return Ok(false);
            }
            self.fail_on_changed()?;
            self.schedule(want).await?;
            let front = self.parts.front_mut().expect("schedule started a part");
            let shared = front.shared.clone();
            let notified = shared.changed.notified();
            {
                let mut st = shared.lock();
                // Bytes skipped by a seek forward into this part.
                while front.taken < self.pos {
                    let Some(p) = st.pieces.front_mut() else {
                        break;
                    };
                    let n = (self.pos - front.taken).min(p.len() as u64) as usize;
                    let _ = p.split_to(n);
                    let emptied = p.is_empty();
                    front.taken += n as u64;
                    st.held -= n as u64;
                    if emptied {
                        st.pieces.pop_front();
                    }
                    st.release();
                    shared.consumed.notify_one();
                }
                if front.taken == self.pos && !st.pieces.is_empty() {
                    return Ok(true);
                }
                if let Some(e) = &st.error {
                    return Err(e.clone());
                }
                if st.done && front.taken == front.end {
                    // Read through: popped (and its CRC chained) by `drop_passed_parts`.
                    continue;
                }
            }
            self.cancel
                .run(async {
                    notified.await;
                    Ok(())
                })
                .await?;
        }
    }

    /// Copies what is received at the position into `buf` (at most `buf.len()` bytes) without
    /// waiting; returns the count. Call after `fill` returned `Ok(true)`.
    pub fn take(&mut self, buf: &mut [u8]) -> usize {
        let mut n = 0;
        while n < buf.len() {
            if self.pos >= self.end {
                break;
            }
            self.drop_passed_parts();
            let Some(front) = self.parts.front_mut() else {
                break;
            };
            if front.taken != self.pos {
                break;
            }
            let mut st = front.shared.lock();
            let Some(p) = st.pieces.front_mut() else {
                break;
            };
            let k = p.len().min(buf.len() - n);
            buf[n..n + k].copy_from_slice(&p[..k]);
            let _ = p.split_to(k);
            if p.is_empty() {
                st.pieces.pop_front();
            }
            front.taken += k as u64;
            self.pos += k as u64;
            n += k;
            st.held -= k as u64;
            st.release();
            if !st.done {
                front.shared.consumed.notify_one();
            }
        }
        self.expected = self.pos;
        n
    }

    /// The next received piece at the position (at most `max` bytes, `max` > 0) without
    /// copying it; `None` when nothing is received there yet (call after `fill` returned
    /// `Ok(true)`).
    pub fn take_piece(&mut self, max: usize) -> Option<Bytes> {
        if self.pos >= self.end || max == 0 {
            return None;
        }
        self.drop_passed_parts();
        let front = self.parts.front_mut()?;
        if front.taken != self.pos {
            return None;
        }
        let mut st = front.shared.lock();
        let p = st.pieces.front_mut()?;
        let piece = p.split_to(p.len().min(max));
        if p.is_empty() {
            st.pieces.pop_front();
        }
        front.taken += piece.len() as u64;
        self.pos += piece.len() as u64;
        self.expected = self.pos;
        st.held -= piece.len() as u64;
        st.release();
        if !st.done {
            front.shared.consumed.notify_one();
        }
        Some(piece)
    }

    /// Pops the parts before the position: read through (their CRC chained when received whole)
    /// or skipped by a seek; drops every part when the position is before the first one.
    fn drop_passed_parts(&mut self) {
        while let Some(front) = self.parts.front() {
            if front.end > self.pos {
                break;
            }
            let st = front.shared.lock();
            let (done, crc) = (st.done, st.crc);
            if !done && st.error.is_none() && front.taken == front.end && self.chain.is_some() {
                // Every byte handed out, the task about to say so: wait for its CRC (`fill`).
                break;
            }
            drop(st);
            let part = self.parts.pop_front().expect("a front part");
            let len = part.end - part.start;
            self.chain = match self.chain {
                Some((at, c)) if done && at == part.start => {
                    Some((part.end, crc64::combine(c, crc, len)))
                }
                _ => None,
            };
            if self.sequential && part.taken == part.end {
                // Read through sequentially: the window grows.
                self.window = (self.window.saturating_mul(2)).min(self.window_cap);
            }
        }
        if self
            .parts
            .front()
            .is_some_and(|f| f.start > self.pos || f.taken > self.pos)
        {
            // A seek backwards (or before the parts): nothing kept is of use.
            self.parts.clear();
        }
        if self.parts.is_empty() {
            if self
                .chain
                .is_some_and(|(at, _)| at != self.pos.min(self.end))
            {
                self.chain = None;
            }
            if self.chain.is_none() && self.checkable && self.pos == 0 {
                // Back at the start with nothing in flight (also right after the seek that
                // broke the chain): a read from here to the end is checked again.
                self.chain = Some((0, 0));
            }
        }
    }

    /// Fails with the first `ObjectChanged` any part saw, before handing out another byte.
    fn fail_on_changed(&self) -> Result<()> {
        for part in &self.parts {
            if let Some(e) = &part.shared.lock().error {
                if e.kind == ErrorKind::ObjectChanged {
                    return Err(e.clone());
                }
            }
        }
        Ok(())
    }

    /// Starts parts up to the window (sequential) or the asked bytes plus the read-ahead
    /// (random), within what the budget grants; the part at the position waits for its
    /// reservation, the others are started only if it is free now.
    async fn schedule(&mut self, want: u64) -> Result<()> {
        let ahead = if self.sequential {
            self.window
        } else {
            want.saturating_add(self.opts.read_ahead)
                .min(self.window_cap.max(self.opts.part_size))
        };
        let target = self.pos.saturating_add(ahead).min(self.end);
        let mut next = self.parts.back().map_or(self.pos, |p| p.end);
        // Bytes asked for ahead of the position (received or not), and the GETs open.
        let mut requested: u64 = self
            .parts
            .iter()
            .map(|p| p.end.saturating_sub(p.taken.max(self.pos)))
            .sum();
        let mut open = self.parts.iter().filter(|p| !p.shared.lock().done).count();
        // A random read asks for what it needs, in up to RANDOM_SPLIT GETs at once (of at least
        // RANDOM_MIN_PART bytes) so that one large read is not held to one connection's speed;
        // a sequential one for whole parts.
        let (stop, piece) = if self.sequential {
            (self.end, 0)
        } else {
            let piece = (target - self.pos)
                .div_ceil(RANDOM_SPLIT)
                .max(RANDOM_MIN_PART)
                .min(self.opts.part_size);
            (target, piece)
        };
        while next < target || self.parts.is_empty() {
            let len = if self.sequential {
                let (window, part) = (self.window, self.opts.part_size);
                sequential_part_len(window, part, self.max_parts, stop - next)
            } else {
                piece
            }
            .min(stop - next);
            if !self.parts.is_empty()
                && (requested + len > ahead.max(self.opts.part_size) || open >= self.max_parts)
            {
                break;
            }
            // A part starts with its connection's share; it reserves its bytes as they arrive.
            let slot = self.budget.try_acquire(part_cost(0, true));
            if slot.is_none() && !self.parts.is_empty() {
                break;
            }
            // The part at the position never waits for the budget: another reader's parts may
            // hold it for as long as that reader's consumer does not read (one thread reading
            // two files in turn would wait for itself). It then runs unreserved, alone: at most
            // one part per reader beyond the budget.
            let alone = slot.is_none();
            self.start_part(next, next + len, slot);
            next += len;
            if alone {
                break;
            }
            requested += len;
            open += 1;
        }
        Ok(())
    }

    fn start_part(&mut self, start: u64, end: u64, slot: Option<Slot>) {
        let shared = Arc::new(PartShared {
            state: Mutex::new(PartState {
                pieces: VecDeque::new(),
                held: 0,
                done: false,
                crc: 0,
                error: None,
                slot,
            }),
            changed: Notify::new(),
            consumed: Notify::new(),
        });
        let task = tokio::spawn(fetch(
            self.pin.clone(),
            self.cancel.clone(),
            self.budget.clone(),
            start,
            end,
            shared.clone(),
        ));
        self.parts.push_back(Part {
            start,
            end,
            taken: start,
            shared,
            task: task.abort_handle(),
        });
    }

    /// At the end: the whole-object check when the parts read through cover the object.
    fn finish(&mut self) -> Result<()> {
        self.parts.clear();
        if let Some((at, crc)) = self.chain {
            if at == self.end && self.pos == self.end && !self.meta.verified {
                self.meta.verified = check_whole_object(&self.pin.req, &self.meta, true, crc)?;
            }
        }
        Ok(())
    }
}

/// The most GETs one reader keeps open, and its largest window (bytes asked for ahead of the
/// position), for a budget whose pool (the budget less `BASE_COST`) is `pool`:
/// - GETs: the client's connections (more would wait for one while holding a reservation), at
///   most `MAX_READER_GETS`, and no more than the pool holds with each GET's connection share
///   plus half a part of received bytes (in a sequential read the GETs in flight have received
///   half their bytes on average while the reader waits at the first one).
/// - Window: `max_window`, and what the pool holds beside those connection shares, but at least
///   a part per GET (which those GETs' half parts leave room for) and at least one part.
///
/// What a part holds is reserved as it arrives (`make_room`): these bounds choose how much to
/// ask for, the budget bounds the memory whatever they are.
pub(crate) fn window_bounds(
    opts: &PrefetchOptions,
    pool: u64,
    max_connections: u32,
) -> (usize, u64) {
    let connection = part_cost(0, true);
    let by_budget = pool / (connection + opts.part_size / 2);
    let parts = by_budget
        .min(u64::from(max_connections))
        .clamp(1, MAX_READER_GETS);
    let room = pool.saturating_sub(parts * connection);
    let window = opts
        .max_window
        .min(room.max(parts * opts.part_size))
        .max(opts.part_size);
    (parts as usize, window)
}

/// The length of the next GET of a sequential read: the window shared among the GETs the reader
/// may keep open (so that a wide window is asked for in larger ranges, fewer round trips per
/// byte), at least `part_size`, at most `MAX_GROWN_PART` (or `part_size` when larger); and the
/// `remaining` bytes of the read shared among them too, so that its end is not one long GET on
/// one connection while the others are idle.
pub(crate) fn sequential_part_len(
    window: u64,
    part_size: u64,
    max_parts: usize,
    remaining: u64,
) -> u64 {
    let n = max_parts.max(1) as u64;
    let grown = (window / n).clamp(part_size, part_size.max(MAX_GROWN_PART));
    grown.min((remaining / n).max(part_size))
}

/// The first window of a sequential read: two parts (one read while the other arrives).
fn initial_window(opts: &PrefetchOptions, cap: u64) -> u64 {
    (2 * opts.part_size).min(cap)
}

/// `e` with the object it is about: bucket and key set, and named in the message.
fn name(req: &ObjectRequest, mut e: Error) -> Error {
    if e.bucket.is_empty() {
        e.bucket = req.bucket.clone();
        e.key = req.key.clone();
    }
    let whole = format!("{}/{}", req.bucket, req.key);
    if !e.message.contains(&whole) {
        e.message = format!("{} (reading {whole})", e.message);
    }
    e
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory_budget::{BASE_COST, DEFAULT_MEMORY_BUDGET};

    const POOL: u64 = DEFAULT_MEMORY_BUDGET - BASE_COST;

    #[test]
    fn the_gets_in_flight_are_bounded_by_the_connections_and_the_budget() {
        let o = PrefetchOptions::default();
        // The default client: its 16 connections decide.
        let (parts, window) = window_bounds(&o, POOL, 16);
        assert_eq!(parts, 16);
        assert!(window <= o.max_window && window <= POOL);
        // Connections aplenty: the budget decides, each GET's connection share and half a part
        // of received bytes within it.
        let (parts, window) = window_bounds(&o, POOL, 1000);
        assert!(parts > 16 && parts <= MAX_READER_GETS as usize);
        assert!(parts as u64 * (CONNECTION_COST + o.part_size / 2) <= POOL);
        assert!(window >= parts as u64 * o.part_size, "a part per GET");
        assert!(window <= o.max_window);
        // A large budget: never more than MAX_READER_GETS, the window capped by max_window.
        let big = PrefetchOptions {
            max_window: 128 * MIB,
            ..o
        };
        let (parts, window) = window_bounds(&big, 1 << 30, 1000);
        assert_eq!(parts as u64, MAX_READER_GETS);
        assert_eq!(window, 128 * MIB);
        // The smallest budget still lets one part run.
        let (parts, window) = window_bounds(&big, 4 * MIB, 16);
        assert_eq!(parts, 1);
        assert!(window >= big.part_size);
    }

    #[test]
    fn a_wide_window_is_asked_for_in_larger_ranges() {
        let (part, far) = (MIB, 1 << 40);
        assert_eq!(sequential_part_len(2 * MIB, part, 16, far), part);
        assert_eq!(sequential_part_len(48 * MIB, part, 16, far), 3 * MIB);
        // At most MAX_GROWN_PART; a part size above it is kept as it is.
        assert_eq!(sequential_part_len(1 << 30, part, 16, far), MAX_GROWN_PART);
        assert_eq!(sequential_part_len(1 << 30, 16 * MIB, 4, far), 16 * MIB);
    }

    #[test]
    fn the_end_of_a_sequential_read_is_shared_among_the_gets() {
        let part = MIB;
        // 32 MiB left and 16 GETs: 2 MiB each, not four of 8 MiB on four connections.
        assert_eq!(sequential_part_len(1 << 30, part, 16, 32 * MIB), 2 * MIB);
        // Never below the part size.
        assert_eq!(sequential_part_len(1 << 30, part, 16, 3 * MIB), part);
    }

    #[test]
    fn a_part_reserves_its_bytes_and_its_connection_only_while_its_get_is_open() {
        assert_eq!(part_cost(0, true), CONNECTION_COST);
        assert_eq!(part_cost(5 * MIB, true), 5 * MIB + CONNECTION_COST);
        assert_eq!(part_cost(5 * MIB, false), 5 * MIB);
    }
}
