//! oss-ffi: resumable, concurrent, verified downloads from Alibaba Cloud OSS, with a C ABI.
//!
//! Module map (each concept lives in the file named after it):
//! - [`ffi`]: the C ABI only (handles and their Box/Arc/borrowed ownership, strings, errors,
//!   callbacks, the panic boundary); one file per handle or concept, mapped in `ffi/mod.rs`.
//! - [`runtime`]: the global tokio runtime created by `oss_initialize_sdk`.
//! - [`config`], [`credentials`], [`endpoint`]: client configuration, credential providers,
//!   endpoint parsing and addressing.
//! - [`sign`]: V1 (HMAC-SHA1) and V4 (OSS4-HMAC-SHA256) request signing.
//! - [`transport`]: HTTP only (no object semantics, no client state): the reqwest client and
//!   TLS, connection permits, the rate limiter, one request sent, failed answers, checked bodies.
//! - [`client`]: a configured client: its state (endpoint, credentials, region, switch, clock
//!   offset, memory budget) and its requests signed and sent with retries (`client/send.rs`).
//! - [`rate_limit`]: the receive-rate limiter a client shares across its connections.
//! - [`memory_budget`]: the memory a client's downloads share, reserved per part in flight.
//! - [`object`]: object reads above the transport: HeadObject, GetObjectMeta, ranged GET (the
//!   request and its checked answer), GetObject to a file.
//! - [`listing`]: ListObjectsV2 pages (always `encoding-type=url`, decoded), continuation
//!   tokens, and the loop, size and key guards; used by listings of the batch and the reader.
//! - `presign`: presigned GET URLs (V1 and V4), made locally.
//! - [`crc64`]: CRC-64/XZ and its combine function.
//! - [`date`]: the protocol's date formats and the civil-date arithmetic under them.
//! - [`download`]: the resumable downloader (planner, checkpoint, temp file, direct I/O, progress, lock,
//!   validation, and the opened directories every file operation goes through).
//! - [`progress`]: the progress callback type transfers report through.
//! - [`transfer`]: asynchronous transfers (started at once; poll, wait, cancel, pause into a
//!   resume token, live status, a completion run once).
//! - [`log`]: the log sink and level.
//!
//! Raw-pointer code (and `#[no_mangle]`) is allowed only in [`ffi`], the C ABI: the compiler rejects it
//! anywhere else in the crate.
#![deny(unsafe_code)]
#![deny(unsafe_op_in_unsafe_fn)]

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
pub mod object;
pub(crate) mod presign;
pub mod progress;
pub mod rate_limit;
pub mod runtime;
pub mod sign;
pub mod transfer;
pub mod transport;

pub use error::{Error, ErrorKind, Result};
