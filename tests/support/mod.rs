//! Shared helpers for the tests that compile and run C and C++ programs against the built
//! library: locating the target directory, compiling with strict warnings (optionally with
//! AddressSanitizer/UBSan via `OSS_FFI_SANITIZE=1`), running under `$VALGRIND` when set.
#![allow(dead_code)]

pub mod example;
pub mod read_only;

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// `target/<profile>`: where liboss_ffi.{so,a} are.
pub fn target_dir() -> PathBuf {
    let exe = std::env::current_exe().expect("current exe");
    // target/<profile>/deps/<test-binary>
    exe.parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_path_buf()
}

/// Where the library this test run was built against lives. `cargo test --test x` rebuilds the
/// library in `target/<profile>/deps/` but only refreshes the copies in `target/<profile>/` when
/// the library itself is a requested target, so `deps/` is preferred when it has the library.
pub fn lib_dir() -> PathBuf {
    let deps = target_dir().join("deps");
    if deps.join("liboss_ffi.so").exists() && deps.join("liboss_ffi.a").exists() {
        deps
    } else {
        target_dir()
    }
}

pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// A scratch directory under target/ for compiled test programs.
pub fn build_dir(name: &str) -> PathBuf {
    let d = target_dir().join("c-tests").join(name);
    std::fs::create_dir_all(&d).unwrap();
    d
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Lang {
    C11,
    C99,
    Cxx11,
    Cxx17,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Link {
    Shared,
    Static,
}

pub fn sanitize() -> bool {
    std::env::var("OSS_FFI_SANITIZE")
        .map(|v| v == "1")
        .unwrap_or(false)
}

/// The shared library's soname (set by build.rs): `liboss_ffi.so.<major>.<minor>` for 0.x.
pub fn soname() -> String {
    let (major, minor) = (
        env!("CARGO_PKG_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MINOR"),
    );
    if major == "0" {
        format!("liboss_ffi.so.{major}.{minor}")
    } else {
        format!("liboss_ffi.so.{major}")
    }
}

/// Programs linked with -loss_ffi need `<soname>` at run time: a symlink next to the library in
/// `target/<profile>/` (what `make install` creates under PREFIX/lib).
pub fn ensure_soname_link(target: &Path) {
    let link = target.join(soname());
    if std::fs::symlink_metadata(&link).is_err() {
        // Another test may create it at the same moment; either way it exists afterwards.
        let _ = std::os::unix::fs::symlink("liboss_ffi.so", &link);
    }
}

/// Compiles `sources` into `out` with -Wall -Wextra -Werror (and -pedantic), linking liboss_ffi.
pub fn compile(sources: &[PathBuf], out: &Path, lang: Lang, link: Link, extra: &[&str]) {
    let (compiler, std) = match lang {
        Lang::C11 => ("cc", "-std=c11"),
        Lang::C99 => ("cc", "-std=c99"),
        Lang::Cxx11 => ("c++", "-std=c++11"),
        Lang::Cxx17 => ("c++", "-std=c++17"),
    };
    let target = lib_dir();
    let mut cmd = Command::new(compiler);
    cmd.arg(std)
        .args(["-Wall", "-Wextra", "-Werror", "-pedantic", "-g", "-O1"])
        .arg(format!("-I{}", repo_root().join("include").display()))
        .args(extra);
    if sanitize() {
        cmd.args(["-fsanitize=address,undefined", "-fno-omit-frame-pointer"]);
    }
    cmd.args(sources).arg("-o").arg(out);
    match link {
        Link::Shared => {
            ensure_soname_link(&target);
            cmd.arg(format!("-L{}", target.display()))
                .arg("-loss_ffi")
                .arg(format!("-Wl,-rpath,{}", target.display()));
        }
        Link::Static => {
            cmd.arg(target.join("liboss_ffi.a"))
                .args(["-lpthread", "-ldl", "-lm"]);
        }
    }
    let output = cmd.output().expect("run the C compiler");
    assert!(
        output.status.success(),
        "compiling {:?} failed:\n{}",
        sources,
        String::from_utf8_lossy(&output.stderr)
    );
}

/// Which memory checker the C/C++ programs run under in this test run (scripts/test.sh runs the
/// C/C++ tests once plain, once with `OSS_FFI_SANITIZE=1` and once with `VALGRIND=valgrind`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Checker {
    None,
    /// AddressSanitizer + UBSan (LeakSanitizer included): compiled in, exit code 98 on a report.
    Asan,
    /// valgrind's memcheck: errors and definite leaks make it exit 99.
    Valgrind,
}

pub fn checker() -> Checker {
    if sanitize() {
        Checker::Asan
    } else if std::env::var("VALGRIND").is_ok_and(|v| !v.is_empty()) {
        Checker::Valgrind
    } else {
        Checker::None
    }
}

/// The environment variables the library reads (credentials providers, log level, test hook).
pub const LIBRARY_ENV: [&str; 24] = [
    "OSS_ACCESS_KEY_ID",
    "OSS_ACCESS_KEY_SECRET",
    "OSS_SESSION_TOKEN",
    "OSS_SDK_LOG_LEVEL",
    "OSS_FFI_TEST_PAUSE_AT",
    "OSS_FFI_TEST_PAUSE_MS",
    "ALIBABA_CLOUD_ACCESS_KEY_ID",
    "ALIBABA_CLOUD_ACCESS_KEY_SECRET",
    "ALIBABA_CLOUD_SECURITY_TOKEN",
    "ALIBABA_CLOUD_PROFILE",
    "ALIBABA_CLOUD_CREDENTIALS_FILE",
    "ALIBABA_CLOUD_CLI_PROFILE_DISABLED",
    "ALIBABA_CLOUD_ECS_METADATA",
    "ALIBABA_CLOUD_ECS_METADATA_DISABLED",
    "ALIBABA_CLOUD_IMDSV1_DISABLED",
    "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN",
    "ALIBABA_CLOUD_OIDC_TOKEN_FILE",
    "ALIBABA_CLOUD_ROLE_SESSION_NAME",
    "ALIBABA_CLOUD_STS_REGION",
    "ALIBABA_CLOUD_VPC_ENDPOINT_ENABLED",
    "OSS_FFI_STS_ENDPOINT",
    "OSS_FFI_ECS_METADATA_ENDPOINT",
    "ALIBABA_CLOUD_CREDENTIALS_URI",
];

/// Where a test program's ECS metadata service is unless the test gives a stand-in: a closed
/// loopback port, so that no test ever reaches the real 100.100.100.200.
pub const NO_METADATA_SERVICE: &str = "http://127.0.0.1:9";

/// The `XDG_CONFIG_HOME` of the programs the tests run: under the temporary directory (the
/// checkout's `target/tmp` in `scripts/test.sh`), one per user.
pub fn scratch_config_home() -> PathBuf {
    std::env::temp_dir().join(format!(
        "oss-ffi-test-config-{}",
        rustix::process::geteuid().as_raw()
    ))
}

/// The exit code a checker uses when it reports a fault.
pub const ASAN_EXIT: i32 = 98;
pub const VALGRIND_EXIT: i32 = 99;

/// Runs a compiled program (under `$VALGRIND` when set, failing on any error or definite leak).
pub fn run(exe: &Path, args: &[&str], env: &[(&str, String)]) -> Output {
    let mut cmd = command(exe);
    cmd.args(args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    cmd.output().expect("run the test program")
}

/// The `Command` that [`run`] uses (under `$VALGRIND` when set, with the sanitizer options), for
/// tests that need to spawn the program themselves (e.g. to signal it).
///
/// Under valgrind every program gets `tests/valgrind.supp` (what memcheck cannot follow in
/// ring's crypto assembly; see that file) and `--gen-suppressions=all`, so that a report in CI
/// carries the exact frames to judge it by. `tests/c/canary.c` proves that the suppressions
/// leave real faults reported (`checkers_catch_planted_faults` in tests/c_api.rs).
pub fn command(exe: &Path) -> Command {
    let valgrind = std::env::var("VALGRIND").ok().filter(|v| !v.is_empty());
    let mut cmd = match &valgrind {
        Some(v) => {
            let mut c = Command::new(v);
            c.args([
                "--quiet",
                &format!("--error-exitcode={VALGRIND_EXIT}"),
                "--leak-check=full",
                "--errors-for-leak-kinds=definite",
                "--show-leak-kinds=definite",
                "--gen-suppressions=all",
                "--num-callers=40",
            ])
            .arg(format!(
                "--suppressions={}",
                repo_root().join("tests/valgrind.supp").display()
            ))
            .arg(exe);
            c
        }
        None if sanitize() && asan_needs_fixed_layout() => {
            let mut c = Command::new("setarch");
            c.args([std::env::consts::ARCH, "-R"]).arg(exe);
            c
        }
        None => Command::new(exe),
    };
    // What the library reads from the environment comes from the test alone: a developer's real
    // credentials, log level or pause hook must not change what a program does.
    for var in LIBRARY_ENV {
        cmd.env_remove(var);
    }
    // The library the program was linked with: cargo runs tests with `target/<profile>` ahead of
    // `deps/` on LD_LIBRARY_PATH, which beats the program's RUNPATH, so `cargo test --test x`
    // alone ran C programs against the copy a previous full build left there.
    let dirs = std::env::var_os("LD_LIBRARY_PATH").unwrap_or_default();
    let dirs = std::env::join_paths(std::iter::once(lib_dir()).chain(std::env::split_paths(&dirs)))
        .expect("LD_LIBRARY_PATH entries");
    cmd.env("LD_LIBRARY_PATH", dirs);
    cmd.env("OSS_FFI_ECS_METADATA_ENDPOINT", NO_METADATA_SERVICE);
    // The per-user resume token key (`src/download/resume_key.rs`) of a program that pauses a
    // transfer goes to a scratch directory, never into the home of the user running the tests
    // (a test may still point XDG_CONFIG_HOME elsewhere through its own environment).
    cmd.env("XDG_CONFIG_HOME", scratch_config_home());
    if sanitize() {
        cmd.env(
            "ASAN_OPTIONS",
            format!("detect_leaks=1:abort_on_error=0:exitcode={ASAN_EXIT}"),
        );
        // LeakSanitizer reports with its own exit code unless told otherwise.
        cmd.env("LSAN_OPTIONS", format!("exitcode={ASAN_EXIT}"));
        cmd.env(
            "UBSAN_OPTIONS",
            format!("print_stacktrace=1:halt_on_error=1:exitcode={ASAN_EXIT}"),
        );
    }
    cmd
}

/// gcc 12's AddressSanitizer maps its shadow memory at fixed addresses and crashes at random
/// ("AddressSanitizer:DEADLYSIGNAL", or "Shadow memory range interleaves") when the kernel
/// randomises mmap with more than 28 bits (`vm.mmap_rnd_bits` = 32 is the default of recent
/// distribution kernels). On such a machine the ASan programs run with address-space
/// randomisation off for their process only (`setarch -R`: personality, then exec, so the pid and
/// signals are the program's own), when that is allowed here (a container's seccomp may refuse).
fn asan_needs_fixed_layout() -> bool {
    static NEEDS: std::sync::OnceLock<bool> = std::sync::OnceLock::new();
    *NEEDS.get_or_init(|| {
        let bits: u32 = std::fs::read_to_string("/proc/sys/vm/mmap_rnd_bits")
            .ok()
            .and_then(|s| s.trim().parse().ok())
            .unwrap_or(0);
        let can = || {
            Command::new("setarch")
                .args([std::env::consts::ARCH, "-R", "true"])
                .output()
                .is_ok_and(|o| o.status.success())
        };
        bits > 28 && can()
    })
}

/// Like [`run`], but a program still running after `deadline` is killed: `None` then (a hang),
/// with what it printed so far.
pub fn run_with_deadline(
    exe: &Path,
    args: &[&str],
    env: &[(&str, String)],
    deadline: std::time::Duration,
) -> (Option<Output>, String) {
    use std::io::Read;
    let mut cmd = command(exe);
    cmd.args(args)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().expect("start the test program");
    let pipe = |mut r: Box<dyn Read + Send>| {
        std::thread::spawn(move || {
            let mut v = Vec::new();
            let _ = r.read_to_end(&mut v);
            v
        })
    };
    let out = pipe(Box::new(child.stdout.take().unwrap()));
    let err = pipe(Box::new(child.stderr.take().unwrap()));
    let started = std::time::Instant::now();
    let status = loop {
        if let Some(st) = child.try_wait().expect("wait for the test program") {
            break Some(st);
        }
        if started.elapsed() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    };
    let (stdout, stderr) = (out.join().unwrap(), err.join().unwrap());
    let text = format!(
        "--- stdout\n{}\n--- stderr\n{}",
        String::from_utf8_lossy(&stdout),
        String::from_utf8_lossy(&stderr)
    );
    (
        status.map(|status| Output {
            status,
            stdout,
            stderr,
        }),
        text,
    )
}

/// Asserts a program exited 0, printing its output otherwise.
pub fn assert_ok(name: &str, out: &Output) {
    assert!(
        out.status.success(),
        "{name} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Deterministic pseudo-random bytes (xorshift), the same for a given seed and length.
pub fn pattern(len: usize, seed: u64) -> Vec<u8> {
    let mut x = seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
    (0..len)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

pub mod hostile_http;
