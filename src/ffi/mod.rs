//! The C ABI: handles, strings, errors and callbacks only; no domain logic.
//!
//! Conventions (see the README): opaque handles made by `_new` and released by `_free`;
//! fallible calls return `oss_error_t *` (NULL = success) and fill trailing `*_out` pointers only
//! on success; `const` handle arguments may be used from several threads at once; every export
//! catches panics; strings are NUL-terminated UTF-8, validated.
//!
//! Its files, one concept each (a handle family, or what the request handles share), are in the
//! crate's module map (`src/lib.rs`).

// cbindgen writes the exports in the order it meets these modules, and rustfmt sorts runs of
// `mod` lines: the blank lines keep the header's order (handles, then the request handles,
// then the SDK-wide calls). `scripts/gen-header.sh --verify` checks it.

// Helpers (no exports).
pub mod boundary;
pub mod handle;

// Handles.
pub mod client;
pub mod config;
pub mod credentials;
pub mod error;
pub mod meta;

// Request handles and what they share.
pub mod call_cancel;
pub mod object_settings;
pub mod progress;

pub mod get_object_request;

// GetObject read piece by piece by the caller (over a get-object request).
pub mod object_stream;

// An object read with prefetching, pulled or pushed (over a get-object request).
pub mod reader;

// A bucket listed page by page.
pub mod listing;

pub mod download_request;

// A download of many objects into a directory, its progress and its report.
pub mod batch_progress;

pub mod batch_request;

pub mod batch_report;

// The asynchronous API (transfers started by the client, over both request handles), then the
// transfer handle's calls.
pub mod transfer_start;

pub mod transfer;

// SDK-wide calls.
pub mod lifecycle;

pub mod log;

pub mod crc64;

pub mod metrics;
