//! Unit tests of the reliability suite's power-cut file system (`tests/reliability/powerfs.rs`):
//! its durability model without mounting, and one cut through the kernel (FUSE; skipped where it
//! cannot be mounted unless `OSS_TEST_REQUIRE_FUSE=1`).

#[path = "download_support/mod.rs"]
mod download_support;
#[path = "reliability/powerfs.rs"]
mod powerfs;
