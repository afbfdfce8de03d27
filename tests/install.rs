//! The packaging: the soname and the header's version macros; `make install-files` into a
//! temporary prefix, then out-of-tree builds with pkg-config and CMake (skipped with a notice when
//! cmake is absent), whose programs download from the emulator.
//! `OSS_FFI_SANITIZE=1` adds ASan/UBSan; `VALGRIND=valgrind` runs the programs under valgrind.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use support::example::*;
use support::*;

fn header_macro(header: &str, name: &str) -> String {
    let prefix = format!("#define {name} ");
    header
        .lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .unwrap_or_else(|| panic!("{name} missing from oss_ffi.h"))
        .trim()
        .to_string()
}

#[test]
fn soname_and_version_macros() {
    let lib = lib_dir().join("liboss_ffi.so");
    let out = Command::new("readelf").arg("-d").arg(&lib).output();
    let text = match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).to_string(),
        _ => {
            let o = Command::new("objdump")
                .arg("-p")
                .arg(&lib)
                .output()
                .unwrap();
            String::from_utf8_lossy(&o.stdout).to_string()
        }
    };
    assert!(
        text.contains(&soname()),
        "soname {} not in:\n{text}",
        soname()
    );
    if env!("CARGO_PKG_VERSION_MAJOR") == "0" {
        let want = format!("liboss_ffi.so.0.{}", env!("CARGO_PKG_VERSION_MINOR"));
        assert_eq!(soname(), want);
    }
    let header = read(&repo_root().join("include/oss_ffi.h"));
    assert_eq!(
        header_macro(&header, "OSS_FFI_VERSION_MAJOR"),
        env!("CARGO_PKG_VERSION_MAJOR")
    );
    assert_eq!(
        header_macro(&header, "OSS_FFI_VERSION_MINOR"),
        env!("CARGO_PKG_VERSION_MINOR")
    );
    assert_eq!(
        header_macro(&header, "OSS_FFI_VERSION_PATCH"),
        env!("CARGO_PKG_VERSION_PATCH")
    );
    assert_eq!(
        header_macro(&header, "OSS_FFI_VERSION"),
        format!("\"{}\"", env!("CARGO_PKG_VERSION"))
    );
}

/// `make install-files` of the library this test run built, into a temporary prefix.
fn install(prefix: &Path) {
    let out = Command::new("make")
        .current_dir(repo_root())
        .arg("-s")
        .arg("install-files")
        .arg(format!("PREFIX={}", prefix.display()))
        .arg(format!("LIBSRC={}", lib_dir().display()))
        .output()
        .expect("run make");
    assert!(
        out.status.success(),
        "make install-files: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let lib = prefix.join("lib");
    let version = env!("CARGO_PKG_VERSION");
    assert!(lib.join(format!("liboss_ffi.so.{version}")).is_file());
    assert_eq!(
        std::fs::read_link(lib.join(soname())).unwrap(),
        PathBuf::from(format!("liboss_ffi.so.{version}"))
    );
    assert_eq!(
        std::fs::read_link(lib.join("liboss_ffi.so")).unwrap(),
        PathBuf::from(soname())
    );
    for f in [
        "lib/liboss_ffi.a",
        "lib/pkgconfig/oss_ffi.pc",
        "lib/cmake/oss_ffi/oss_ffiConfig.cmake",
        "lib/cmake/oss_ffi/oss_ffiConfigVersion.cmake",
        "include/oss_ffi.h",
        "include/alibabacloud/oss/OssClient.h",
        "include/alibabacloud/oss/detail/Handle.h",
        "include/oss_ffi/cxx/OssClient.h",
        "include/oss_ffi/cxx/detail/Namespace.h",
    ] {
        assert!(prefix.join(f).is_file(), "{f} not installed");
    }
    // Both C++ trees, every header: the layer (oss_ffi/cxx) and its drop-in form.
    for tree in ["include/oss_ffi/cxx", "include/alibabacloud/oss"] {
        let mut n = 0;
        let mut stack = vec![repo_root().join(tree)];
        while let Some(dir) = stack.pop() {
            for e in std::fs::read_dir(&dir).unwrap() {
                let p = e.unwrap().path();
                if p.is_dir() {
                    stack.push(p);
                } else if p.extension().is_some_and(|x| x == "h") {
                    let rel = p.strip_prefix(repo_root()).unwrap();
                    assert_eq!(
                        std::fs::read(prefix.join(rel)).ok(),
                        std::fs::read(&p).ok(),
                        "{} not installed as it is",
                        rel.display()
                    );
                    n += 1;
                }
            }
        }
        assert!(n >= 20, "{tree}: {n} headers");
    }
}

/// Downloads with an out-of-tree binary and checks the bytes.
fn check_installed_binaries(c_exe: &Path, cpp_exe: &Path, libdir: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let emu = emulator(&tmp.path().join("root"));
    let data = pattern(700 * 1024, 1);
    emu.put_object("inst-bucket", "k.bin", &data).unwrap();
    let ep = emu.endpoint();
    let mut env = creds();
    env.push(("LD_LIBRARY_PATH", libdir.display().to_string()));
    let out_file = tmp.path().join("c.bin");
    let o = out_file.display().to_string();
    let out = run(
        c_exe,
        &[
            "--endpoint",
            &ep,
            "--bucket",
            "inst-bucket",
            "--key",
            "k.bin",
            "--output",
            &o,
        ],
        &env,
    );
    assert_ok("installed C example", &out);
    assert_eq!(std::fs::read(&out_file).unwrap(), data);
    let w = tmp.path().join("cpp");
    std::fs::create_dir_all(&w).unwrap();
    let ws = w.display().to_string();
    let out = run(
        cpp_exe,
        &[&ep, "cn-hangzhou", "inst-bucket", "k.bin", &ws, "0", "99"],
        &env,
    );
    assert_ok("installed C++ example", &out);
    assert_eq!(std::fs::read(w.join("whole.bin")).unwrap(), data);
}

#[test]
fn installed_copy_with_pkg_config() {
    let prefix = tempfile::tempdir().unwrap();
    install(prefix.path());
    let pc_path = prefix.path().join("lib/pkgconfig");
    let flags = |extra: &[&str]| -> Vec<String> {
        let out = Command::new("pkg-config")
            .env("PKG_CONFIG_PATH", &pc_path)
            .args(extra)
            .args(["--cflags", "--libs", "oss_ffi"])
            .output()
            .expect("pkg-config");
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout)
            .split_whitespace()
            .map(String::from)
            .collect()
    };
    let shared = flags(&[]);
    assert!(shared.iter().any(|f| f == "-loss_ffi"), "{shared:?}");
    let dir = build_dir("installed-pkg-config");
    let build = |compiler: &str, std: &str, src: &str, out: &Path, flags: &[String]| {
        // The C tools are their own file plus the shared option parsing.
        let common = src
            .starts_with("examples-c/")
            .then(|| repo_root().join("examples-c/cli_common.c"));
        let o = Command::new(compiler)
            .current_dir(&dir) // out of tree: no -I into the repository
            .args([std, "-Wall", "-Wextra", "-Werror", "-pedantic", "-pthread"])
            .arg(repo_root().join(src))
            .args(common)
            .arg("-o")
            .arg(out)
            .args(flags)
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{compiler} {src}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
    };
    let (c_exe, cpp_exe) = (
        dir.join("oss_download"),
        dir.join("progress_range_download"),
    );
    build(
        "cc",
        "-std=c11",
        "examples-c/oss_download.c",
        &c_exe,
        &shared,
    );
    build(
        "c++",
        "-std=c++11",
        "examples-cpp/progress_range_download.cpp",
        &cpp_exe,
        &shared,
    );
    check_installed_binaries(&c_exe, &cpp_exe, &prefix.path().join("lib"));

    // Static linking with `pkg-config --static`.
    let mut stat = flags(&["--static"]);
    stat.retain(|f| f != "-loss_ffi");
    stat.insert(
        0,
        prefix.path().join("lib/liboss_ffi.a").display().to_string(),
    );
    let c_static = dir.join("oss_download_static");
    build(
        "cc",
        "-std=c99",
        "examples-c/oss_download.c",
        &c_static,
        &stat,
    );
    let cpp_static = dir.join("progress_static");
    build(
        "c++",
        "-std=c++17",
        "examples-cpp/progress_range_download.cpp",
        &cpp_static,
        &stat,
    );
    check_installed_binaries(&c_static, &cpp_static, Path::new("/nonexistent"));
}

#[test]
fn installed_copy_with_cmake() {
    if Command::new("cmake").arg("--version").output().is_err() {
        println!("NOTICE: cmake is not installed; skipping the CMake find_package build (see tests/apt-packages.txt)");
        return;
    }
    let prefix = tempfile::tempdir().unwrap();
    install(prefix.path());
    let proj = tempfile::tempdir().unwrap();
    let c_src = repo_root().join("examples-c/oss_download.c");
    let c_common = repo_root().join("examples-c/cli_common.c");
    let cpp_src = repo_root().join("examples-cpp/progress_range_download.cpp");
    std::fs::write(
        proj.path().join("CMakeLists.txt"),
        format!(
            "cmake_minimum_required(VERSION 3.13)\n\
             project(oss_ffi_consumer C CXX)\n\
             set(CMAKE_CXX_STANDARD 11)\n\
             set(CMAKE_C_STANDARD 11)\n\
             set(THREADS_PREFER_PTHREAD_FLAG ON)\n\
             find_package(Threads REQUIRED)\n\
             find_package(oss_ffi 0.{minor} REQUIRED)\n\
             add_executable(oss_download \"{c}\" \"{c_common}\")\n\
             target_compile_options(oss_download PRIVATE -Wall -Wextra -Werror -pedantic)\n\
             target_link_libraries(oss_download PRIVATE oss_ffi::oss_ffi Threads::Threads)\n\
             add_executable(progress \"{cpp}\")\n\
             target_compile_options(progress PRIVATE -Wall -Wextra -Werror -pedantic)\n\
             target_link_libraries(progress PRIVATE oss_ffi::oss_ffi_static Threads::Threads)\n",
            minor = env!("CARGO_PKG_VERSION_MINOR"),
            c = c_src.display(),
            c_common = c_common.display(),
            cpp = cpp_src.display()
        ),
    )
    .unwrap();
    let build = proj.path().join("build");
    let cfg = Command::new("cmake")
        .arg("-S")
        .arg(proj.path())
        .arg("-B")
        .arg(&build)
        .arg(format!("-DCMAKE_PREFIX_PATH={}", prefix.path().display()))
        .output()
        .unwrap();
    assert!(
        cfg.status.success(),
        "cmake configure: {}{}",
        String::from_utf8_lossy(&cfg.stdout),
        String::from_utf8_lossy(&cfg.stderr)
    );
    let b = Command::new("cmake")
        .arg("--build")
        .arg(&build)
        .output()
        .unwrap();
    assert!(
        b.status.success(),
        "cmake build: {}{}",
        String::from_utf8_lossy(&b.stdout),
        String::from_utf8_lossy(&b.stderr)
    );
    check_installed_binaries(
        &build.join("oss_download"),
        &build.join("progress"),
        &prefix.path().join("lib"),
    );
}

// ---- the tools: make install puts them in PREFIX/bin, runnable from anywhere --------------------

/// `make <targets>` of this test run's build into `prefix` (the library from `lib_dir()`, the
/// emulator binary from the target directory: scripts/test.sh builds it with the workspace).
fn make_install(prefix: &Path, targets: &[&str]) {
    let emulator_bin = target_dir().join("oss-emulator");
    assert!(
        emulator_bin.is_file(),
        "{} is not built: run `cargo build -p oss-emulator` (scripts/test.sh builds the workspace first)",
        emulator_bin.display()
    );
    let out = Command::new("make")
        .current_dir(repo_root())
        .arg("-s")
        .args(targets)
        .arg(format!("PREFIX={}", prefix.display()))
        .arg(format!("LIBSRC={}", lib_dir().display()))
        .arg(format!("BINSRC={}", target_dir().display()))
        .output()
        .expect("run make");
    assert!(
        out.status.success(),
        "make {targets:?}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

const TOOLS: [&str; 3] = ["oss_download", "oss_async_download", "oss-emulator"];

fn readelf(args: &[&str], file: &Path) -> String {
    let out = Command::new("readelf")
        .args(args)
        .arg(file)
        .output()
        .expect("readelf (binutils)");
    assert!(out.status.success(), "readelf {}", file.display());
    String::from_utf8_lossy(&out.stdout).to_string()
}

/// Starts an installed `oss-emulator` by its name (PATH = the prefix's bin, as a user with the
/// prefix on PATH runs the emulator README's command) and returns it with its endpoint.
fn start_installed_emulator(path_env: &str, root: &Path) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = Command::new("oss-emulator")
        .env("PATH", path_env)
        .args(["--root", &root.display().to_string(), "--port", "0"])
        .args(["--access-key-id", AK, "--access-key-secret", SK])
        .args(["--create-object", "tools-bucket/dir/obj.bin:1M"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("oss-emulator found on PATH");
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let ep = line
        .trim()
        .strip_prefix("listening on ")
        .unwrap_or_else(|| panic!("oss-emulator said {line:?}"))
        .to_string();
    (child, ep)
}

/// `make install` installs oss_download, oss_async_download and oss-emulator into PREFIX/bin;
/// the C tools find the installed library through RUNPATH `$ORIGIN/../lib` (readelf: nothing
/// points into the checkout), so they run with LD_LIBRARY_PATH unset from a prefix that has been
/// moved elsewhere after the install, and the emulator runs by name from PATH.
#[test]
fn installed_tools_run_from_a_moved_prefix() {
    let tmp = tempfile::tempdir().unwrap();
    let first = tmp.path().join("first-prefix");
    make_install(&first, &["install-files", "install-tools-files"]);
    for t in TOOLS {
        assert!(first.join("bin").join(t).is_file(), "bin/{t} not installed");
    }
    let checkout = repo_root().display().to_string();
    for t in ["oss_download", "oss_async_download"] {
        let dynamic = readelf(&["-d"], &first.join("bin").join(t));
        let runpath: Vec<&str> = dynamic
            .lines()
            .filter(|l| l.contains("(RUNPATH)") || l.contains("(RPATH)"))
            .collect();
        assert_eq!(runpath.len(), 1, "{t}: {dynamic}");
        assert!(
            runpath[0].contains("[$ORIGIN/../lib]"),
            "{t}: {}",
            runpath[0]
        );
        assert!(
            !dynamic.contains(&checkout),
            "{t} points into the checkout: {dynamic}"
        );
    }

    // Moved: any absolute path recorded at install time is now wrong.
    let prefix = tmp.path().join("moved/prefix");
    std::fs::create_dir_all(prefix.parent().unwrap()).unwrap();
    std::fs::rename(&first, &prefix).unwrap();
    let bin = prefix.join("bin");
    let path_env = format!("{}:/usr/bin:/bin", bin.display());
    let (mut server, ep) = start_installed_emulator(&path_env, &tmp.path().join("root"));
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let tool = |name: &str, args: &[&str]| {
        let out = Command::new(name)
            .current_dir(&work)
            .env("PATH", &path_env)
            .env_remove("LD_LIBRARY_PATH")
            .envs(creds())
            .args(args)
            .output()
            .expect("an installed tool");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code(), text)
    };
    let (code, text) = tool(
        "oss_download",
        &[
            "--endpoint",
            &ep,
            "--bucket",
            "tools-bucket",
            "--key",
            "dir/obj.bin",
            "--progress",
            "none",
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    let (code, text) = tool(
        "oss_async_download",
        &[
            "--endpoint",
            &ep,
            "--bucket",
            "tools-bucket",
            "dir/obj.bin=async.bin",
        ],
    );
    assert_eq!(code, Some(0), "{text}");
    let _ = server.kill();
    let _ = server.wait();
    let server_copy = std::fs::read(tmp.path().join("root/tools-bucket/dir/obj.bin")).unwrap();
    assert_eq!(
        std::fs::read(work.join("dir/obj.bin")).unwrap(),
        server_copy
    );
    assert_eq!(std::fs::read(work.join("async.bin")).unwrap(), server_copy);
}

/// `make install-strip` installs the same files without debug information: no `.debug_info`
/// section in the shared library, the static library or the tools, each smaller than its
/// unstripped copy.
#[test]
fn install_strip_leaves_no_debug_info() {
    let tmp = tempfile::tempdir().unwrap();
    let (plain, stripped) = (tmp.path().join("plain"), tmp.path().join("stripped"));
    make_install(&plain, &["install-files", "install-tools-files"]);
    make_install(&stripped, &["install-strip-files"]);
    let version = env!("CARGO_PKG_VERSION");
    let so = format!("lib/liboss_ffi.so.{version}");
    let files: Vec<String> = [so.as_str(), "lib/liboss_ffi.a"]
        .into_iter()
        .map(String::from)
        .chain(TOOLS.iter().map(|t| format!("bin/{t}")))
        .collect();
    for f in &files {
        let sections = readelf(&["-S", "-W"], &stripped.join(f));
        assert!(!sections.contains(".debug_info"), "{f} keeps .debug_info");
        let (a, b) = (
            std::fs::metadata(plain.join(f)).unwrap().len(),
            std::fs::metadata(stripped.join(f)).unwrap().len(),
        );
        assert!(b < a, "{f}: {b} bytes stripped, {a} not");
        println!("{f}: {a} -> {b} bytes");
    }
    // Still a working library: the stripped tool downloads.
    let emu = emulator(&tmp.path().join("root"));
    let data = pattern(300 * 1024, 4);
    emu.put_object("strip-bucket", "k.bin", &data).unwrap();
    let out_file = tmp.path().join("k.bin");
    let out = Command::new(stripped.join("bin/oss_download"))
        .env_remove("LD_LIBRARY_PATH")
        .envs(creds())
        .args([
            "--endpoint",
            &emu.endpoint(),
            "--bucket",
            "strip-bucket",
            "--key",
            "k.bin",
        ])
        .args([
            "--output",
            &out_file.display().to_string(),
            "--progress",
            "none",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(std::fs::read(&out_file).unwrap(), data);
}
