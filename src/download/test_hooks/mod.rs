//! The downloader's test-only entry points: the fuzzer's (`fuzzing`, only with the `test-hooks`
//! feature). Not an API. (The hold points of the reliability suite are `download::pause_at`: the
//! downloader's files call it, so it sits below them rather than here beside the fuzzer, which
//! calls into them.)

#[cfg(feature = "test-hooks")]
pub mod fuzzing;
