//! The downloader's test hooks: a point at which the reliability suite holds a download
//! (`pause_at`, always compiled, empty without the `test-hooks` feature) and the fuzzer's entry
//! points (`fuzzing`, only with the feature). Neither is an API.

#[cfg(feature = "test-hooks")]
pub mod fuzzing;
pub(crate) mod pause_at;
