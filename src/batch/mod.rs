//! Batch downloads: a prefix or a list of keys downloaded as one resumable job (see the module
//! map in `lib.rs` for the files).

pub mod journal;
pub mod key_path;
pub mod request;
