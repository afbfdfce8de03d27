//! Gives the shared library a versioned soname on Linux: `liboss_ffi.so.<major>.<minor>` while the
//! version is 0.x (every minor release may break the ABI), `liboss_ffi.so.<major>` from 1.0 on.
//! `make install` creates the matching symlinks; tests/support links `target/<profile>/` too.

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let os = std::env::var("CARGO_CFG_TARGET_OS").unwrap_or_default();
    if os != "linux" {
        return;
    }
    let major = std::env::var("CARGO_PKG_VERSION_MAJOR").unwrap_or_else(|_| "0".into());
    let minor = std::env::var("CARGO_PKG_VERSION_MINOR").unwrap_or_else(|_| "0".into());
    let soname = if major == "0" {
        format!("liboss_ffi.so.{major}.{minor}")
    } else {
        format!("liboss_ffi.so.{major}")
    };
    println!("cargo:rustc-cdylib-link-arg=-Wl,-soname,{soname}");
}
