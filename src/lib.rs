//! oss-ffi: resumable, concurrent, verified downloads from Alibaba Cloud OSS, with a C ABI.
//!
//! # Module map
//!
//! The one map of the crate's files (the README points here; `cargo test --test module_map`
//! checks that it names every file under `src/` and nothing else). Each concept lives in the file
//! named after it; data flows one way: C call -> [`ffi`] handle -> [`client`] -> [`object`] /
//! [`download`] -> [`transport`] (signed by [`sign`]) -> the file.
//!
//! - [`ffi`], the C ABI only (handles and their Box/Arc/borrowed ownership, strings, errors,
//!   callbacks, the panic boundary; no domain logic). The only place of raw pointers and
//!   `#[no_mangle]`.
//!   - `ffi/mod.rs`: the conventions, and the order cbindgen writes the exports in.
//!   - `ffi/boundary.rs`: the panic boundary (`ffi_boundary!`, `ffi_try!`), argument and
//!     string helpers, user data, and the export generators `ffi_setter!` / `ffi_getter!`
//!     (hyper's `ffi_fn!` shape; cbindgen reads the expanded crate, `scripts/gen-header.sh`);
//!     it imports nothing from the files below.
//!   - `ffi/handle.rs`: which Rust value each handle stands for and whether C holds it as a
//!     Box, an Arc or a borrow; the only code that makes, borrows, clones and frees handles.
//!   - `ffi/client.rs` (`oss_client_t`, Arc), `ffi/config.rs` (`oss_config_t`, Box),
//!     `ffi/credentials.rs` (`oss_credentials_provider_t`, Box; `oss_credentials_t`,
//!     borrowed), `ffi/error.rs` (`oss_error_t`, Box), `ffi/meta.rs` (`oss_object_meta_t`, Box).
//!   - `ffi/get_object_request.rs` (`oss_get_object_request_t`, Box) and
//!     `ffi/download_request.rs` (`oss_download_request_t`, Box), with what they share:
//!     `ffi/object_settings.rs` (validated settings), `ffi/call_cancel.rs` (per-request
//!     cancellation), `ffi/progress.rs` (the progress callback).
//!   - `ffi/object_stream.rs` (`oss_object_stream_t`, Box): a GetObject the caller reads piece
//!     by piece into its own buffers.
//!   - `ffi/batch_request.rs` (`oss_batch_request_t`, Box: a batch download's parameters and
//!     callbacks, and the blocking `oss_client_download_objects`), over
//!     `ffi/batch_progress.rs` (`oss_batch_progress_t`, plain: a batch's counts, for the
//!     progress callback and the report; a batch transfer's progress) and `ffi/batch_report.rs`
//!     (`oss_batch_report_t`, Box: counts, failures, deleted keys; a batch transfer's report).
//!   - `ffi/metrics.rs` (per-request metrics: the callback's borrowed `oss_request_metrics_t`
//!     and the summaries `oss_request_stats_t`, which the client's and the transfer's calls
//!     give; it names no handle).
//!   - `ffi/reader.rs` (`oss_reader_t`, Box: the prefetching reader pulled into the caller's
//!     buffers; `oss_reader_push_t`, Box: the same pushed in order to a callback within a window
//!     the caller advances; `oss_reader_options_t`, Box).
//!   - `ffi/listing.rs` (`oss_listing_t`, Box: a listing page by page; `oss_list_page_t`,
//!     Box: one page's objects and common prefixes).
//!   - `ffi/transfer_start.rs` (the `oss_client_start_*` calls) and `ffi/transfer.rs`
//!     (`oss_transfer_t`, Arc: poll, wait, cancel, pause into a resume token, status, result).
//!   - `ffi/lifecycle.rs` (version, initialise, shut down), `ffi/log.rs` (level and sink),
//!     `ffi/crc64.rs`.
//! - `runtime.rs` ([`runtime`]): the global tokio runtime (`oss_initialize_sdk` /
//!   `oss_shutdown_sdk`, running async work for C callers).
//! - `error.rs` ([`error`]): the error type: kind, code, message, request id, host, HTTP status,
//!   retryability.
//! - `cancel.rs` ([`cancel`]): cancellation: a call's own token, its client's
//!   `DisableRequest`, SDK shutdown, the call deadline.
//! - `log.rs` ([`log`]): the log sink and level.
//! - `config.rs` ([`config`]): `ClientConfiguration` and its defaults.
//! - [`credentials`], the providers:
//!   - `credentials/mod.rs`: credentials, static and environment providers, the provider trait
//!     (the C callback provider is in `ffi/credentials.rs`).
//!   - `credentials/profile.rs` (the CLI's config and the credentials file), `credentials/ecs.rs`
//!     (the ECS RAM role), `credentials/sts.rs` (AssumeRole, AssumeRoleWithOIDC),
//!     `credentials/chain.rs` (the default chain), `credentials/refresh.rs` (the cache of
//!     expiring credentials), `credentials/http.rs` (their HTTP).
//! - `endpoint.rs` ([`endpoint`]): endpoint parsing, virtual-hosted / path-style / CNAME
//!   addressing, key encoding.
//! - [`sign`]: `sign/mod.rs` (what is signed), `sign/v1.rs` (HMAC-SHA1), `sign/v4.rs`
//!   (OSS4-HMAC-SHA256).
//! - [`transport`], HTTP only (no object semantics):
//!   - `transport/mod.rs`: the connection pool, its permits, the receive-rate limiter and the
//!     idle timeout; one request sent, its body read.
//!   - `transport/http_client.rs` (the reqwest client and TLS), `transport/env_proxy.rs`
//!     (proxies from the environment, as libcurl reads them), `transport/spread.rs` (a host's
//!     addresses: the resolver that orders them per connection, pinned `--resolve` entries), `transport/request.rs` (request
//!     and answer types), `transport/body.rs` (bodies checked for their promised length),
//!     `transport/error_response.rs` (failed answers), `transport/failure.rs` (failures below
//!     HTTP, mapped to the SDK's codes), `transport/connect_time.rs` (a connect timed for the
//!     request that waited for it).
//! - [`client`], a configured client: `client.rs` (what the client owns: endpoint, config,
//!   credentials, region, the enable/disable switch, clock offset, pid, memory budget) and
//!   `client/send.rs` (a signed request sent with retries, clock correction and failures
//!   described).
//! - `header_value.rs` (`header_value`, crate-private): the one rule for header values (no
//!   control characters).
//! - `metrics.rs` ([`metrics`]): per-request metrics (a callback once per attempt, retries
//!   included: operation, object, part, status, phases) and the summaries per client, call and
//!   transfer; nothing measured without a callback. Below the transport: it reads a request
//!   through its own record (`RequestView`), which the transport fills in.
//! - `rate_limit.rs` ([`rate_limit`]): the receive-rate limiter a client shares across its
//!   connections (fixed, or asked of a source).
//! - `memory_budget.rs` ([`memory_budget`]): the memory a client's downloads share, reserved
//!   per part in flight.
//! - [`object`], object reads above the transport:
//!   - `object/mod.rs`: HeadObject, GetObjectMeta, ranged GET, GetObject to a sink, the
//!     `ObjectReader` (a GetObject read piece by piece), the one whole-object CRC64 check.
//!   - `object/body_reader.rs`: the one resuming body reader (a cut body resumed pinned to the
//!     first answer's ETag), used by GetObject and by every part of a download.
//!   - `object/prefetch.rs`: the prefetching reader (`PrefetchReader`: one version read into
//!     the caller's buffers with ranged GETs in flight ahead, a window that grows while reads
//!     stay sequential, bounded by the memory budget, CRC64 checked at the end).
//!   - `object/read.rs` (the request of a read and its checked answer), `object/answer.rs`
//!     (header checks and the object's metadata).
//! - `listing.rs` ([`listing`]): ListObjectsV2 pages (always `encoding-type=url`, decoded),
//!   continuation tokens, and the loop, size and key guards; the key rules (what OSS can hold,
//!   how a message shows a key).
//! - `presign.rs` (`presign`, crate-private): presigned GET URLs (V1 and V4), made locally.
//! - `crc64.rs` ([`crc64`]): CRC-64/XZ and its combine function.
//! - `date.rs` ([`date`]): the protocol's date formats and the civil-date arithmetic under them.
//! - `progress.rs` ([`progress`]): the progress callback type transfers report through.
//! - [`download`], the resumable downloader:
//!   - `download/mod.rs`: the entry and the flow of a download (read it first);
//!     `download/request.rs` (`DownloadRequest`, its bounds and the helpers the files below
//!     share), `download/blocking.rs` (running a download for a blocking caller).
//!   - `download/validate.rs` (local checks before any traffic, the paths),
//!     `download/lock.rs` (the destination lock), `download/start.rs` (the first request),
//!     `download/prepare.rs` (the checkpoint judged, the temp file), `download/job.rs` (a
//!     download's job: the schedule set up, the whole-object check, the rename),
//!     `download/schedule.rs` (the scheduler in small steps: slots and ramp, a part done, a
//!     flush, the first failure), `download/part.rs` (one part's ranged GETs),
//!     `download/plan.rs` (part planning), `download/ramp.rs` (the throughput target's
//!     controller), `download/straggler.rs` (which slow part to re-request: a pure
//!     controller), `download/reissue.rs` (a part's side of a re-request),
//!     `download/progress.rs` (aggregation and pacing).
//!   - `download/checkpoint/mod.rs` (what a checkpoint records, when it is believed) and
//!     `download/checkpoint/file.rs` (its file: name, loading, atomic save, the one commit).
//!   - `download/temp_file.rs` (the temp file), `download/part_writer.rs` (buffers, positional
//!     writes), `download/direct.rs` (direct-I/O writes, aligned buffers),
//!     `download/directory.rs` (opened-directory file operations).
//!   - `download/get_to_file.rs`: GetObject to a file, on the downloader's temp file and lock.
//!   - `download/suspend.rs` (the pause switch and the record a pause leaves),
//!     `download/resume_token.rs` (the token's framing and MAC), `download/resume_key.rs` (the
//!     key tokens are sealed with: configured, or the per-user key file).
//!   - `download/pause_at.rs` (a test-only hook holding a download at a chosen point; empty
//!     without the `test-hooks` feature), `download/test_hooks/mod.rs` and
//!     `download/test_hooks/fuzzing.rs` (entry points
//!     for the reliability suite's fuzzer): not an API.
//! - [`batch`], the batch download (a prefix or a key list into a directory, as one job):
//!   - `batch/mod.rs`: the entry (`Client::download_objects`) and the map of the files below;
//!     `batch/request.rs` (`BatchRequest`, its source, bounds and check: the top of the files
//!     it names, which import none of it), `batch/filter.rs` (include/exclude globs, size and
//!     time filters).
//!   - `batch/key_path.rs` (a key's local path: the keys refused, collisions, directories made
//!     without following links), `batch/journal.rs` (the batch journal: finished keys, lines
//!     with their own checksums, trusted as checkpoints are) and `batch/known.rs` (what the
//!     journal says of each key, 32 bytes per key, for the run).
//!   - `batch/job.rs` (the job: objects in flight, the failure policy, cancel and pause, one
//!     `syncfs` per group before the journal records it, the report), `batch/source.rs` (the
//!     listing or the HEADs of a key list, through a bounded channel), `batch/fetch.rs` (one
//!     object: its file looked at, the overwrite decision, one GET for a small object, the
//!     resumable downloader for a large one), `batch/progress.rs` (counters and the paced
//!     callback, its type), `batch/report.rs` (outcomes, the per-object callback's type, and
//!     the final report).
//! - `transfer.rs` ([`transfer`]): asynchronous transfers of a download or a batch (started at
//!   once; poll, wait, cancel, pause into a resume token (a batch's: its request, sealed with the
//!   same key), live status, a batch's report, a completion run once, also for a task dropped at
//!   shutdown).
//!
//! Raw-pointer code (and `#[no_mangle]`) is allowed only in [`ffi`], the C ABI: the compiler rejects it
//! anywhere else in the crate.
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]
// Every unsafe block (all in `ffi`) and unsafe impl says which caller guarantee or invariant
// makes it sound, in a `// SAFETY:` comment right above it.
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod batch;
pub mod cancel;
pub mod client;
pub mod config;
pub mod crc64;
pub mod credentials;
pub mod date;
pub mod download;
pub mod endpoint;
pub mod error;
#[allow(unsafe_code)] // the C ABI: raw pointers, exported symbols; each block has a SAFETY line
pub mod ffi;
pub(crate) mod header_value;
pub mod listing;
pub mod log;
pub mod memory_budget;
pub mod metrics;
pub mod object;
pub(crate) mod presign;
pub mod progress;
pub mod rate_limit;
pub mod runtime;
pub mod sign;
pub mod transfer;
pub mod transport;

pub use error::{Error, ErrorKind, Result};
