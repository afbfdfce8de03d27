//! One reader for every object body: the bytes `pos..end` of one version of an object, read to
//! their end through as many answers as it takes. GetObject (`ObjectReader`) and every part of a
//! download read through it.
//!
//! The first answer may be given (GetObject's, or the download's first GET for its first part):
//! its body is streamed like any other, and whatever it did not deliver (a cut, or the rest of a
//! part raised above the requested part size) is fetched by GETs pinned to the version's ETag.
//! Every later answer is checked to be for exactly the bytes asked (a range the server shortened
//! at the object's end means the object shrank) of an object of the size the read started with.
//!
//! Retry budget: `get_range` itself retries (per the client's policy) until an answer's headers
//! arrive; a body that fails later with a retryable error is resumed here, and so is an answer
//! whose headers fail the checks (wrong Content-Range or length) or a connection-level failure
//! left after the client's retries (but not a server error status: those the client retried).
//! Failures that delivered no byte count against `max_retries` and wait `retry_delay(n)`; a
//! failure after progress resets that count and resumes at once. The total number of resumes of
//! one read is capped as well, so a server that cuts every answer after a few bytes cannot keep
//! a read alive forever.

use std::sync::Arc;

use bytes::Bytes;

use super::{unpinnable, ByteRange, ObjectBody, ObjectMeta, ObjectRequest};
use crate::cancel::Cancel;
use crate::client::Client;
use crate::error::{curl, Error, ErrorKind, Result};
use crate::log::{self, Level};

/// Resumes of one read beyond `max_retries`, whatever the progress.
const MAX_RESUMES_EXTRA: u32 = 64;

/// The version every request of a read is pinned to, and what the read is for.
pub(crate) struct Pinned {
    pub client: Client,
    /// The request (its conditions apply only to the first answer: pinned requests drop them).
    pub req: ObjectRequest,
    /// The ETag every later request is pinned to (`If-Match`). Empty: no later request can be
    /// pinned, and a read that needs one fails with `unpinnable`.
    pub etag: String,
    /// The object's size, as the first answer told it.
    pub object_size: u64,
    /// The first answer's request id (for the error of an unpinnable read).
    pub request_id: String,
    /// What the read is, in errors and the log ("GetObject", "the download of").
    pub what: &'static str,
}

impl Pinned {
    /// The version of the first answer `meta` of `req`.
    pub(crate) fn of(
        client: &Client,
        req: ObjectRequest,
        meta: &ObjectMeta,
        what: &'static str,
    ) -> Pinned {
        Pinned {
            client: client.clone(),
            req,
            etag: meta.etag.clone(),
            object_size: meta.content_length,
            request_id: meta.request_id.clone(),
            what,
        }
    }
}

/// The bytes `pos..end` of one version of an object (see the module documentation).
pub(crate) struct BodyReader {
    pin: Arc<Pinned>,
    /// A part's number, for the log.
    part: Option<u32>,
    cancel: Cancel,
    /// The answer being read, and the range it is for.
    body: Option<ObjectBody>,
    range: ByteRange,
    /// The answer being read is the first one, opened under another cancel (read under this
    /// read's) and possibly ending before `end` (the rest is then asked for).
    from_first: bool,
    /// Where the answer being read started, the next byte, the end (exclusive).
    start: u64,
    pos: u64,
    end: u64,
    /// Failures in a row without progress, and resumes in all.
    failures: u32,
    resumes: u32,
}

impl BodyReader {
    /// Reads bytes `first..end` of `pin`'s version; `part`: the part's number (for the log).
    pub(crate) fn new(
        pin: Arc<Pinned>,
        part: Option<u32>,
        cancel: Cancel,
        first: u64,
        end: u64,
    ) -> Self {
        // Measured: the read's requests number their attempts on one count (a resumed body is
        // the next attempt), unless the caller gave one (a part re-requested goes on with its).
        let measured = pin.client.config().request_metrics.is_some();
        let cancel = match measured && !cancel.counts_attempts() {
            true => cancel.counting_attempts(0),
            false => cancel,
        };
        // Measured: every attempt names the part, a failed one too (`noted` names an answer's).
        let cancel = match (measured, part) {
            (true, Some(p)) => cancel.for_part(p),
            _ => cancel,
        };
        BodyReader {
            pin,
            part,
            cancel,
            body: None,
            range: ByteRange { first, last: first },
            from_first: false,
            start: first,
            pos: first,
            end,
            failures: 0,
            resumes: 0,
        }
    }

    /// Starts with `body`, an answer already received for the bytes from the read's first one
    /// on (dropped, its connection closed, if it is for other bytes or empty). `under_cancel`:
    /// it was opened under another cancel, and is read under this read's.
    pub(crate) fn with_first(mut self, mut body: ObjectBody, under_cancel: bool) -> Self {
        if let Some(m) = body.inner.metrics_mut() {
            self.cancel.attempts_at_least(m.attempt());
        }
        if body.offset == self.pos && body.len > 0 {
            self.range = ByteRange {
                first: self.pos,
                last: self.pos + body.len - 1,
            };
            self.from_first = under_cancel;
            self.body = Some(self.noted(body));
        }
        self
    }

    /// `body`, its metrics (if measured) told which part it is for.
    fn noted(&self, mut body: ObjectBody) -> ObjectBody {
        if let (Some(p), Some(m)) = (self.part, body.inner.metrics_mut()) {
            m.set_part(p);
        }
        body
    }

    /// Whether the body being read is measured (the client has a metrics callback): only then
    /// is the time spent writing its bytes worth a clock read.
    pub(crate) fn measured(&mut self) -> bool {
        self.body
            .as_mut()
            .is_some_and(|b| b.inner.metrics_mut().is_some())
    }

    /// Time spent writing the bytes of the body being read (for its metrics).
    pub(crate) fn add_write(&mut self, d: std::time::Duration) {
        if let Some(m) = self.body.as_mut().and_then(|b| b.inner.metrics_mut()) {
            m.add_write(d);
        }
    }

    /// The next byte to be delivered.
    pub(crate) fn position(&self) -> u64 {
        self.pos
    }

    /// The next piece, in order; `Ok(None)` once every byte up to the end was delivered.
    pub(crate) async fn next_chunk(&mut self) -> Result<Option<Bytes>> {
        loop {
            let Some(body) = self.body.as_mut() else {
                if self.pos >= self.end {
                    return Ok(None);
                }
                if let Some(e) = self.open().await? {
                    self.resume_after(e).await?;
                }
                continue;
            };
            let next = if self.from_first {
                // Read under this read's cancel, which the body does not know: a cancellation
                // (a re-request of a slow part, a pause) ends its attempt's record as failed
                // here, as the body's own cancel would.
                let next = self.cancel.run(body.chunk()).await;
                if let (Err(e), Some(m)) = (&next, body.inner.metrics_mut()) {
                    m.failed(e);
                }
                next
            } else {
                body.chunk().await
            };
            let failure = match next {
                Ok(Some(bytes)) => {
                    let n = (bytes.len() as u64).min(self.end - self.pos);
                    self.pos += n;
                    return Ok(Some(match n as usize == bytes.len() {
                        true => bytes,
                        false => bytes.slice(..n as usize),
                    }));
                }
                Ok(None) if self.pos == self.end => None,
                // The first answer delivered all it promised, the read is longer (a part's size
                // was raised for a huge object): the rest is asked for.
                Ok(None) if self.from_first && self.pos == self.range.last + 1 => None,
                Ok(None) => Some(Error::client(
                    ErrorKind::Transport,
                    curl::PARTIAL_FILE,
                    format!(
                        "the answer for bytes {}-{} ended after {} bytes",
                        self.range.first,
                        self.range.last,
                        self.pos - self.start
                    ),
                )),
                Err(e) => Some(e),
            };
            self.body = None;
            if let Some(e) = failure {
                self.resume_after(e).await?;
            }
        }
    }

    /// Asks for the rest, pinned to the version's ETag. `Ok(Some(e))`: a failure to resume
    /// from (`resume_after`); `Err`: the read's error.
    async fn open(&mut self) -> Result<Option<Error>> {
        self.cancel.check()?;
        self.start = self.pos;
        self.from_first = false;
        self.range = ByteRange {
            first: self.pos,
            last: self.end - 1,
        };
        let pin = &self.pin;
        if pin.etag.is_empty() {
            // Without an ETag nothing can pin the rest (see `unpinnable`): the cut is final.
            return Err(unpinnable(&pin.req, pin.what).with_request_id(pin.request_id.clone()));
        }
        let answer = pin
            .client
            .get_range(&pin.req, Some(self.range), Some(&pin.etag), &self.cancel)
            .await;
        match answer {
            // An answer whose headers failed the checks (wrong Content-Range, length...) or a
            // connection that failed after the client's own retries: resumed here too. Server
            // error statuses were retried by the client already.
            Err(e) if e.http_status == 0 => Ok(Some(e)),
            Err(e) => Err(e),
            Ok(body) => match self.check_answer(&body) {
                Err(e) => Ok(Some(e)),
                Ok(()) => {
                    self.body = Some(self.noted(body));
                    Ok(None)
                }
            },
        }
    }

    /// What `get_range` cannot know: the answer is for exactly the bytes asked (a range the
    /// server shortened at the object's end means the object shrank) of an object of the size
    /// the read started with. (The ETag pin is `get_range`'s: `object::read::get`.)
    fn check_answer(&self, body: &ObjectBody) -> Result<()> {
        let (size, range) = (body.meta.content_length, self.range);
        if size != 0 && size != self.pin.object_size {
            return Err(Error::object_changed(format!(
                "the object changed during the download: its size was {}, a part's answer says {size}",
                self.pin.object_size
            )));
        }
        if body.offset != range.first || body.len != range.len() {
            return Err(Error::client(
                ErrorKind::Transport,
                curl::RECV_ERROR,
                format!(
                    "asked for bytes {}-{}, got {} bytes from {}",
                    range.first, range.last, body.len, body.offset
                ),
            ));
        }
        Ok(())
    }

    /// After failure `e`: `Ok` to resume (after the delay of a failure without progress), or
    /// the read's error (not retryable, or the budget spent).
    async fn resume_after(&mut self, e: Error) -> Result<()> {
        if !e.is_retryable() {
            return Err(e);
        }
        let max_retries = self.pin.client.config().max_retries;
        let progressed = self.pos > self.start;
        self.failures = if progressed { 0 } else { self.failures + 1 };
        self.resumes += 1;
        if self.failures > max_retries || self.resumes > max_retries + MAX_RESUMES_EXTRA {
            return Err(e);
        }
        let (req, pos, resumes) = (&self.pin.req, self.pos, self.resumes);
        log::log(Level::Info, || {
            let what = match self.part {
                Some(i) => format!("part {i} of"),
                None => self.pin.what.to_string(),
            };
            format!(
                "{what} {}/{}: {e}; resuming from byte {pos} (resume {resumes})",
                req.bucket, req.key
            )
        });
        if !progressed {
            let delay = self.pin.client.config().retry_delay(self.failures);
            self.cancel.sleep(delay).await?;
        }
        Ok(())
    }
}
