//! The C ABI: handles, strings, errors and callbacks only; no domain logic.
//!
//! Conventions (see the README): opaque handles made by `_new` and released by `_free`;
//! fallible calls return `oss_error_t *` (NULL = success) and fill trailing `*_out` pointers only
//! on success; `const` handle arguments may be used from several threads at once; every export
//! catches panics; strings are NUL-terminated UTF-8, validated.
//!
//! Module map (one concept per file):
//! - `boundary`: the panic boundary (`ffi_boundary!`, `ffi_try!`), argument and string helpers,
//!   user data, and the export generators `ffi_setter!` / `ffi_getter!` (hyper's `ffi_fn!` shape:
//!   boundary, NULL checks, string conversion, error return and doc comment written once; cbindgen
//!   reads the expanded crate, see `scripts/gen-header.sh`).
//! - `handle`: which Rust value each handle stands for and whether C holds it as a Box, an Arc
//!   or a borrow; the only code that makes, borrows, clones and frees handles.
//! - `client` (`oss_client_t`, Arc), `config` (`oss_config_t`, Box), `credentials`
//!   (`oss_credentials_provider_t`, Box; `oss_credentials_t`, borrowed), `error` (`oss_error_t`,
//!   Box), `meta` (`oss_object_meta_t`, Box).
//! - `get_object_request` (`oss_get_object_request_t`, Box) and `download_request`
//!   (`oss_download_request_t`, Box), with what they share: `object_settings` (the ten GetObject
//!   settings, generated for both handles by `object_settings!`), `call_cancel` (per-request
//!   cancellation), `progress` (the progress callback).
//! - `object_stream` (`oss_object_stream_t`, Box): a GetObject the caller reads piece by piece
//!   into its own buffers (open, read, cancel, free).
//! - `transfer_start` (the `oss_client_start_*` calls) and `transfer` (`oss_transfer_t`, Arc:
//!   poll, wait, cancel, pause into a resume token, status, result): the asynchronous API.
//! - `lifecycle` (version, initialise, shut down), `log` (level and sink), `crc64`.

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

pub mod download_request;

// The asynchronous API (transfers started by the client, over both request handles), then the
// transfer handle's calls.
pub mod transfer_start;

pub mod transfer;

// SDK-wide calls.
pub mod lifecycle;

pub mod log;

pub mod crc64;
