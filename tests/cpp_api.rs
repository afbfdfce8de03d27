//! The header-only C++ layer (include/alibabacloud/oss/): compiles tests/cpp/*.cc as C++11 and
//! C++17 against the built library (shared and static) and runs them against the local OSS
//! server; header hygiene (oss_ffi.h alone as C and C++, twice; every C++ header alone in its
//! own translation unit; two translation units including OssClient.h linked together).
//! `OSS_FFI_SANITIZE=1` adds ASan/UBSan; `VALGRIND=valgrind` runs the programs under valgrind.

mod support;

use std::path::{Path, PathBuf};

use oss_emulator::{Credential, Emulator, EmulatorConfig};
use support::*;

const AK: &str = "cpp-test-ak";
const SK: &str = "cpp-test-sk-secret";
const BUCKET: &str = "cpp-bucket";
const KEY: &str = "dir/c++ object é.bin";

/// The emulator serving `root`, with the test's credentials.
fn start_emulator(root: &Path) -> Emulator {
    Emulator::start(EmulatorConfig {
        root: root.to_path_buf(),
        credentials: vec![Credential::new(AK, SK)],
        ..Default::default()
    })
    .expect("start the emulator")
}

/// A temporary directory with an empty `work/` and an emulator serving `root/`.
fn workspace() -> (tempfile::TempDir, PathBuf, Emulator) {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let emu = start_emulator(&tmp.path().join("root"));
    (tmp, work, emu)
}

/// Compiles tests/cpp/<program>.cc for `lang` and `link`, runs it with `env` and asserts it
/// passed ("cpp <program>: all checks passed"); returns its output.
fn build_and_run(
    program: &str,
    lang: Lang,
    link: Link,
    env: &[(&str, String)],
) -> std::process::Output {
    let name = format!("{program}_{lang:?}_{link:?}").to_lowercase();
    let exe = build_dir("cpp").join(&name);
    compile(
        &[repo_root().join(format!("tests/cpp/{program}.cc"))],
        &exe,
        lang,
        link,
        &["-pthread"],
    );
    let out = run(&exe, &[], env);
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert_ok(&name, &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        stdout.contains(&format!("cpp {program}: all checks passed")),
        "{stdout}"
    );
    out
}

fn run_client_api(lang: Lang, link: Link) {
    let (tmp, work, emu) = workspace();
    let data = pattern(1100 * 1024 + 13, 11);
    emu.put_object(BUCKET, KEY, &data).unwrap();
    let crc = oss_ffi::crc64::update(0, &data);
    let read_only = read_only::ReadOnlyDir::new(&tmp.path().join("read-only"));

    let out = build_and_run(
        "client_api",
        lang,
        link,
        &[
            ("OSS_TEST_ENDPOINT", emu.endpoint()),
            ("OSS_TEST_BUCKET", BUCKET.into()),
            ("OSS_TEST_KEY", KEY.into()),
            ("OSS_TEST_SIZE", data.len().to_string()),
            ("OSS_TEST_CRC", crc.to_string()),
            ("OSS_TEST_DIR", work.display().to_string()),
            ("OSS_TEST_RO_DIR", read_only.path.display().to_string()),
            ("OSS_TEST_AK", AK.into()),
            ("OSS_TEST_SK", SK.into()),
            ("OSS_ACCESS_KEY_ID", AK.into()),
            ("OSS_ACCESS_KEY_SECRET", SK.into()),
        ],
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains(SK), "the secret leaked into output");
    // V4 and V1 requests both reached the server.
    let log = emu.log();
    assert!(log.iter().any(|e| e.auth == "v4"), "no V4 request");
    assert!(log.iter().any(|e| e.auth == "v1"), "no V1 request");
}

#[test]
fn cpp_client_api_cxx11_shared() {
    run_client_api(Lang::Cxx11, Link::Shared);
}

#[test]
fn cpp_client_api_cxx11_static() {
    run_client_api(Lang::Cxx11, Link::Static);
}

#[test]
fn cpp_client_api_cxx17_shared() {
    run_client_api(Lang::Cxx17, Link::Shared);
}

#[test]
fn cpp_client_api_cxx17_static() {
    run_client_api(Lang::Cxx17, Link::Static);
}

/// The official SDK's behaviour and the rest of its download-side API
/// (tests/cpp/compat_api.cc, one check per behaviour that differed and per added API).
fn run_compat_api(lang: Lang, link: Link) {
    let tmp = tempfile::tempdir().unwrap();
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let public = "cpp-public";
    let emu = Emulator::start(EmulatorConfig {
        root: tmp.path().join("root"),
        credentials: vec![
            Credential::new(AK, SK),
            Credential::with_token("cpp-sts-ak", "cpp-sts-sk", "cpp-sts-token/+="),
        ],
        public_read: vec![public.to_string()],
        ..Default::default()
    })
    .expect("start the emulator");
    let data = pattern(1100 * 1024 + 13, 12);
    emu.put_object(BUCKET, KEY, &data).unwrap();
    emu.put_object(public, "open/data.bin", &pattern(300 * 1024, 13))
        .unwrap();
    let crc = oss_ffi::crc64::update(0, &data);
    // An object whose bytes change behind the server's back (same size and mtime): it keeps
    // serving the old CRC64, so every full read is a CRC mismatch.
    let bad_key = "crc/bad.bin";
    emu.put_object(BUCKET, bad_key, &pattern(400 * 1024, 14))
        .unwrap();
    emu.object_meta(BUCKET, bad_key).unwrap();
    let path = emu.object_path(BUCKET, bad_key);
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    let mtime = f.metadata().unwrap().modified().unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, b"XYZ", 150 * 1024).unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);

    build_and_run(
        "compat_api",
        lang,
        link,
        &[
            ("OSS_TEST_ENDPOINT", emu.endpoint()),
            ("OSS_TEST_BUCKET", BUCKET.into()),
            ("OSS_TEST_KEY", KEY.into()),
            ("OSS_TEST_BAD_KEY", bad_key.into()),
            ("OSS_TEST_PUBLIC_BUCKET", public.into()),
            ("OSS_TEST_PUBLIC_KEY", "open/data.bin".into()),
            ("OSS_TEST_SIZE", data.len().to_string()),
            ("OSS_TEST_CRC", crc.to_string()),
            ("OSS_TEST_DIR", work.display().to_string()),
            ("OSS_TEST_AK", AK.into()),
            ("OSS_TEST_SK", SK.into()),
        ],
    );
    // The V1 and V4 presigned URLs it made, re-signed by the official Python SDK's presigners
    // (same signing time and expiry): the signatures must be identical.
    let python = std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string());
    let check = std::process::Command::new(&python)
        .arg(repo_root().join("tests/python/presign_crosscheck.py"))
        .arg(work.join("urls.txt"))
        .args([AK, SK, BUCKET, KEY])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {python} for the presign cross-check: {e}"));
    let report = String::from_utf8_lossy(&check.stdout);
    println!("{report}");
    assert!(
        check.status.success(),
        "presigned URLs differ from the Python SDK's (install it with python3 -m pip install -r \
         tests/requirements.txt):\n{report}\n{}",
        String::from_utf8_lossy(&check.stderr)
    );
    assert_eq!(report.matches("same v1").count(), 2, "{report}");
    assert_eq!(report.matches("same v4").count(), 2, "{report}");
}

#[test]
fn cpp_compat_api_cxx11_shared() {
    run_compat_api(Lang::Cxx11, Link::Shared);
}

#[test]
fn cpp_compat_api_cxx17_static() {
    run_compat_api(Lang::Cxx17, Link::Static);
}

/// Every header of the C++ layer, relative to include/: the layer (oss_ffi/cxx/) and its drop-in
/// form (alibabacloud/oss/).
fn cpp_headers() -> Vec<String> {
    fn walk(dir: &Path, root: &Path, out: &mut Vec<String>) {
        for e in std::fs::read_dir(dir).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                walk(&p, root, out);
            } else if p.extension().is_some_and(|x| x == "h") {
                out.push(p.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let root = repo_root().join("include");
    let mut v = Vec::new();
    walk(&root.join("oss_ffi/cxx"), &root, &mut v);
    let layer = v.len();
    walk(&root.join("alibabacloud/oss"), &root, &mut v);
    v.sort();
    assert!(layer >= 20, "expected the whole C++ layer, found {v:?}");
    v
}

/// Each header alone (and twice) in its own translation unit; all of them linked into one
/// program, which also catches non-inline definitions.
fn each_header_alone(lang: Lang) {
    let dir = build_dir(&format!("cpp-headers-{lang:?}").to_lowercase());
    let mut sources: Vec<PathBuf> = Vec::new();
    let mut calls = String::new();
    for (i, h) in cpp_headers().iter().enumerate() {
        let src = dir.join(format!("tu{i}.cc"));
        let body = format!(
            "#include <{h}>\n#include <{h}>\nint tu{i}(void);\nint tu{i}(void) {{ return {i}; }}\n"
        );
        std::fs::write(&src, body).unwrap();
        sources.push(src);
        calls.push_str(&format!("int tu{i}(void);\n"));
    }
    let n = sources.len();
    let mut main = calls;
    main.push_str("int main() {\n    int sum = 0;\n");
    for i in 0..n {
        main.push_str(&format!("    sum += tu{i}();\n"));
    }
    main.push_str(&format!(
        "    return sum == {} ? 0 : 1;\n}}\n",
        n * (n - 1) / 2
    ));
    let main_src = dir.join("main.cc");
    std::fs::write(&main_src, main).unwrap();
    sources.push(main_src);
    let exe = dir.join("headers");
    compile(&sources, &exe, lang, Link::Shared, &[]);
    assert_ok("headers", &run(&exe, &[], &[]));
}

#[test]
fn each_cpp_header_compiles_alone_cxx11() {
    each_header_alone(Lang::Cxx11);
}

#[test]
fn each_cpp_header_compiles_alone_cxx17() {
    each_header_alone(Lang::Cxx17);
}

/// The drop-in tree is one thin header per header of the layer (nothing else in it), and each
/// header of the layer has its drop-in form: one copy of every definition.
#[test]
fn drop_in_tree_forwards_to_the_layer() {
    let root = repo_root().join("include");
    let headers = cpp_headers();
    let layer: Vec<&str> = headers
        .iter()
        .filter_map(|h| h.strip_prefix("oss_ffi/cxx/"))
        .filter(|h| !h.starts_with("detail/Namespace.h") && !h.starts_with("detail/DropIn.h"))
        .collect();
    let drop_in: Vec<&str> = headers
        .iter()
        .filter_map(|h| h.strip_prefix("alibabacloud/oss/"))
        .collect();
    assert_eq!(layer, drop_in, "the two trees list different headers");
    for h in drop_in {
        let text = std::fs::read_to_string(root.join("alibabacloud/oss").join(h)).unwrap();
        let code: Vec<&str> = text.lines().filter(|l| l.starts_with('#')).collect();
        assert_eq!(
            code,
            [
                "#include <oss_ffi/cxx/detail/DropIn.h>".to_string(),
                format!("#include <oss_ffi/cxx/{h}>")
            ],
            "alibabacloud/oss/{h} must only forward"
        );
    }
}

/// A translation unit that includes the coexistence form and then the drop-in form stops with a
/// clear #error (the drop-in headers would be skipped by the include guards).
#[test]
fn one_form_per_translation_unit() {
    let dir = build_dir("cpp-forms");
    let src = dir.join("mixed.cc");
    std::fs::write(
        &src,
        "#include <oss_ffi/cxx/OssClient.h>\n#include <alibabacloud/oss/OssClient.h>\nint main() { return 0; }\n",
    )
    .unwrap();
    let out = std::process::Command::new("c++")
        .args(["-std=c++11", "-fsyntax-only"])
        .arg(format!("-I{}", repo_root().join("include").display()))
        .arg(&src)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "mixing the forms compiled");
    assert!(err.contains("use one form per translation unit"), "{err}");
}

#[test]
fn two_translation_units_link() {
    for (lang, link) in [(Lang::Cxx11, Link::Shared), (Lang::Cxx17, Link::Static)] {
        let exe = build_dir("cpp").join(format!("double_include_{lang:?}").to_lowercase());
        compile(
            &[
                repo_root().join("tests/cpp/double_include_a.cc"),
                repo_root().join("tests/cpp/double_include_b.cc"),
            ],
            &exe,
            lang,
            link,
            &[],
        );
        let out = run(&exe, &[], &[]);
        assert_ok("double_include", &out);
        assert!(String::from_utf8_lossy(&out.stdout).contains("double include ok"));
    }
}

/// One program with a translation unit on the drop-in form (AlibabaCloud::OSS) and one on the
/// coexistence form (OssFfi): no symbol is defined twice, and each works.
#[test]
fn both_forms_link_into_one_program() {
    for (lang, link) in [(Lang::Cxx11, Link::Shared), (Lang::Cxx17, Link::Static)] {
        let exe = build_dir("cpp").join(format!("both_forms_{lang:?}").to_lowercase());
        compile(
            &[
                repo_root().join("tests/cpp/double_include_a.cc"),
                repo_root().join("tests/cpp/coexist_form_b.cc"),
            ],
            &exe,
            lang,
            link,
            &[],
        );
        let out = run(&exe, &[], &[]);
        assert_ok("both forms", &out);
        assert!(String::from_utf8_lossy(&out.stdout).contains("double include ok"));
    }
}

#[test]
fn oss_ffi_h_alone_as_c_and_cpp_twice() {
    let dir = build_dir("c-header");
    let body = "#include \"oss_ffi.h\"\n#include \"oss_ffi.h\"\n\
                int main(void) { return oss_version() != 0 && OSS_FFI_VERSION_MAJOR >= 0 ? 0 : 1; }\n";
    for (lang, ext) in [
        (Lang::C99, "c"),
        (Lang::C11, "c"),
        (Lang::Cxx11, "cc"),
        (Lang::Cxx17, "cc"),
    ] {
        let src = dir.join(format!("alone_{lang:?}.{ext}").to_lowercase());
        std::fs::write(&src, body).unwrap();
        let exe = dir.join(format!("alone_{lang:?}").to_lowercase());
        compile(&[src], &exe, lang, Link::Shared, &[]);
        assert_ok("oss_ffi.h alone", &run(&exe, &[], &[]));
    }
}

/// Runs tests/cpp/<program>.cc against an emulator holding one object of `size` bytes (pattern
/// `seed`) at BUCKET/KEY, with the endpoint, bucket, key and keys in its environment, and a work
/// directory (`OSS_TEST_DIR`) when `with_dir`.
fn run_against_one_object(
    program: &str,
    lang: Lang,
    link: Link,
    size: usize,
    seed: u64,
    with_dir: bool,
) {
    let (_tmp, work, emu) = workspace();
    emu.put_object(BUCKET, KEY, &pattern(size, seed)).unwrap();
    let mut env = vec![
        ("OSS_TEST_ENDPOINT", emu.endpoint()),
        ("OSS_TEST_BUCKET", BUCKET.into()),
        ("OSS_TEST_KEY", KEY.into()),
        ("OSS_TEST_AK", AK.into()),
        ("OSS_TEST_SK", SK.into()),
    ];
    if with_dir {
        env.push(("OSS_TEST_DIR", work.display().to_string()));
    }
    build_and_run(program, lang, link, &env);
}

/// The OssFfiObjectStream extension: an std::istream over the prefetching reader
/// (tests/cpp/object_stream.cc).
#[test]
fn cpp_object_stream_reads_seeks_and_verifies_cxx11() {
    run_against_one_object(
        "object_stream",
        Lang::Cxx11,
        Link::Shared,
        700 * 1024 + 9,
        24,
        false,
    );
}

#[test]
fn cpp_object_stream_reads_seeks_and_verifies_cxx17() {
    run_against_one_object(
        "object_stream",
        Lang::Cxx17,
        Link::Static,
        700 * 1024 + 9,
        24,
        false,
    );
}

/// An exact read (`in.read(buf, in.size())`) of an object whose bytes no longer match its
/// CRC64 fails the stream with CrcCheckError, its last byte withheld (tests/cpp/object_stream.cc
/// with OSS_TEST_CORRUPTED).
#[test]
fn cpp_object_stream_exact_read_of_a_corrupted_object_fails_the_stream() {
    let (_tmp, _work, emu) = workspace();
    emu.put_object(BUCKET, KEY, &pattern(300 * 1024 + 5, 25))
        .unwrap();
    emu.object_meta(BUCKET, KEY).unwrap(); // the CRC64 recorded now
    let path = emu.object_path(BUCKET, KEY);
    let f = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    let mtime = f.metadata().unwrap().modified().unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, b"XYZ", 1000).unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);
    let env = vec![
        ("OSS_TEST_ENDPOINT", emu.endpoint()),
        ("OSS_TEST_BUCKET", BUCKET.into()),
        ("OSS_TEST_KEY", KEY.into()),
        ("OSS_TEST_AK", AK.into()),
        ("OSS_TEST_SK", SK.into()),
        ("OSS_TEST_CORRUPTED", "1".into()),
    ];
    build_and_run("object_stream", Lang::Cxx17, Link::Shared, &env);
}

/// GetObjectAsync's handler gets a client that lives for the whole call, and GetObjectCallable
/// finishes, when the copy the call was made on is destroyed meanwhile (tests/cpp/async_lifetime.cc;
/// under `OSS_FFI_SANITIZE=1` a dangling client is a heap-use-after-free report).
fn run_async_lifetime(lang: Lang, link: Link) {
    run_against_one_object("async_lifetime", lang, link, 64 * 1024 + 5, 21, false);
}

#[test]
fn cpp_async_handler_client_outlives_the_destroyed_copy_cxx11() {
    run_async_lifetime(Lang::Cxx11, Link::Shared);
}

#[test]
fn cpp_async_handler_client_outlives_the_destroyed_copy_cxx17() {
    run_async_lifetime(Lang::Cxx17, Link::Static);
}

/// Wide paths with a value that is no Unicode character or an embedded NUL, and narrow paths,
/// keys and settings with an embedded NUL, are refused with ValidateError and nothing is
/// written (tests/cpp/paths.cc).
fn run_paths(lang: Lang, link: Link) {
    run_against_one_object("paths", lang, link, 150 * 1024 + 7, 22, true);
}

#[test]
fn cpp_invalid_wide_paths_and_embedded_nuls_are_refused_cxx11() {
    run_paths(Lang::Cxx11, Link::Shared);
}

#[test]
fn cpp_invalid_wide_paths_and_embedded_nuls_are_refused_cxx17() {
    run_paths(Lang::Cxx17, Link::Static);
}

/// The C++ layer maps the C ABI's errors to the official SDK's codes and messages by kind, code
/// and detail, never by message text: the mapping table row by row with misleading messages, and
/// the real errors end to end (tests/cpp/error_mapping.cc).
fn run_error_mapping(lang: Lang, link: Link) {
    run_against_one_object("error_mapping", lang, link, 10 * 1024, 23, true);
}

#[test]
fn cpp_errors_are_mapped_by_kind_code_and_detail_cxx11() {
    run_error_mapping(Lang::Cxx11, Link::Shared);
}

#[test]
fn cpp_errors_are_mapped_by_kind_code_and_detail_cxx17() {
    run_error_mapping(Lang::Cxx17, Link::Static);
}

/// No header of the C++ layer decides anything on an error's message text: a line that reads a
/// message (`Message()`, `oss_error_message`) never compares or searches it.
#[test]
fn cpp_layer_never_matches_error_message_text() {
    let root = repo_root().join("include");
    let tests = [
        "==",
        "!=",
        "compare(",
        "find(",
        "substr(",
        "starts_with",
        "strcmp",
        "strncmp",
        "strstr",
        "memcmp",
        "regex",
    ];
    let mut offending = Vec::new();
    for h in cpp_headers() {
        let text = std::fs::read_to_string(root.join(&h)).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            if (code.contains("Message()") || code.contains("oss_error_message"))
                && tests.iter().any(|t| code.contains(t))
            {
                offending.push(format!("{h}:{}: {}", n + 1, line.trim()));
            }
        }
    }
    assert!(
        offending.is_empty(),
        "error messages matched as text (map by oss_error_kind / oss_error_code / oss_error_detail):\n{}",
        offending.join("\n")
    );
}

/// Where the official C++ SDK 1.10.1 is installed: `$OSS_CPP_SDK_PREFIX`, else the cache that
/// `bench/cpp/build-official-sdk.sh` fills (scripts/test.sh runs it first); None when neither.
fn official_cpp_sdk() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("OSS_CPP_SDK_PREFIX").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    let cache = std::env::var_os("XDG_CACHE_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    let prefix = cache.join("oss-ffi-bench/oss-cpp-sdk-1.10.1/install");
    prefix.join(".complete").is_file().then_some(prefix)
}

/// One program uploads with the official C++ SDK (PutObject) and downloads with this library's
/// coexistence form (`OssFfi::OssClient::ResumableDownloadObject`), against an oss-ffi installed
/// with `make install-files DROP_IN=no` (tests/cpp/coexist_official.cc). Skipped with a notice
/// when the official SDK is not built (`OSS_TEST_REQUIRE_CPP_SDK=1`: fails instead, as
/// scripts/test.sh sets when it could build it); plain pass only (the official SDK and its curl
/// and OpenSSL are not what the ASan and valgrind passes check).
#[test]
fn cpp_coexists_with_the_official_sdk() {
    if checker() != Checker::None {
        println!("NOTICE: the official-SDK coexistence program runs in the plain pass only");
        return;
    }
    let Some(sdk) = official_cpp_sdk() else {
        assert!(
            std::env::var("OSS_TEST_REQUIRE_CPP_SDK").map_or(true, |v| v != "1"),
            "OSS_TEST_REQUIRE_CPP_SDK=1 but no official C++ SDK (set OSS_CPP_SDK_PREFIX or run \
             bench/cpp/build-official-sdk.sh)"
        );
        println!(
            "NOTICE: the official C++ SDK is not built: skipping the coexistence program (run \
             bench/cpp/build-official-sdk.sh, or set OSS_CPP_SDK_PREFIX)"
        );
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    // This library installed without the drop-in tree, as beside the official SDK.
    let prefix = tmp.path().join("prefix");
    let out = std::process::Command::new("make")
        .current_dir(repo_root())
        .args(["-s", "install-files", "DROP_IN=no"])
        .arg(format!("PREFIX={}", prefix.display()))
        .arg(format!("LIBSRC={}", lib_dir().display()))
        .output()
        .expect("run make");
    assert_ok("make install-files DROP_IN=no", &out);
    assert!(prefix.join("include/oss_ffi/cxx/OssClient.h").is_file());
    assert!(
        !prefix.join("include/alibabacloud").exists(),
        "DROP_IN=no installed the drop-in tree"
    );

    let exe = build_dir("cpp").join("coexist_official");
    let cc = std::process::Command::new("c++")
        .args([
            "-std=c++11",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-g",
            "-O1",
            "-pthread",
        ])
        .arg(format!("-I{}", prefix.join("include").display()))
        // The official headers are not this project's to keep warning-free.
        .arg("-isystem")
        .arg(sdk.join("include"))
        .arg(format!("-I{}", repo_root().join("tests/cpp").display()))
        .arg(repo_root().join("tests/cpp/coexist_official.cc"))
        .arg("-o")
        .arg(&exe)
        .arg(format!("-L{}", sdk.join("lib").display()))
        .arg("-lalibabacloud-oss-cpp-sdk")
        .arg(format!("-L{}", prefix.join("lib").display()))
        .arg("-loss_ffi")
        .arg(format!("-Wl,-rpath,{}", prefix.join("lib").display()))
        .args(["-lcurl", "-lssl", "-lcrypto"])
        .output()
        .expect("run c++");
    assert_ok("compile coexist_official.cc", &cc);

    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let emu = start_emulator(&tmp.path().join("root"));
    emu.put_object(BUCKET, "other.bin", b"the bucket exists")
        .unwrap();
    let key = "coexist/uploaded by the official SDK.bin";
    let size = 1024 * 1024 + 17;
    let out = run(
        &exe,
        &[],
        &[
            ("OSS_TEST_ENDPOINT", emu.endpoint()),
            ("OSS_TEST_BUCKET", BUCKET.into()),
            ("OSS_TEST_KEY", key.into()),
            ("OSS_TEST_DIR", work.display().to_string()),
            ("OSS_TEST_AK", AK.into()),
            ("OSS_TEST_SK", SK.into()),
            ("OSS_TEST_SIZE", size.to_string()),
        ],
    );
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert_ok("coexist_official", &out);
    assert!(
        String::from_utf8_lossy(&out.stdout).contains("cpp coexist_official: all checks passed")
    );
    // The server holds what the official SDK uploaded, and the download is those bytes.
    let stored = std::fs::read(emu.object_path(BUCKET, key)).unwrap();
    assert_eq!(stored.len(), size);
    assert_eq!(std::fs::read(work.join("downloaded.bin")).unwrap(), stored);
    let log = emu.log();
    assert!(
        log.iter().any(|e| e.method == "PUT"),
        "no PUT reached the server"
    );
}

/// The oss-ffi extension `OssClient::OssFfiDownloadObjects` (tests/cpp/ossffi_download_objects.cc):
/// a prefix into a directory with handlers and report, a re-run, a dry run with filters, a key
/// list with a missing key, bad requests refused.
fn run_ossffi_download_objects(lang: Lang, link: Link) {
    let (_tmp, work, emu) = workspace();
    let count = 8;
    for i in 0..count - 1 {
        emu.put_object(
            BUCKET,
            &format!("set/f{i:02}.bin"),
            &pattern(300 + i, i as u64),
        )
        .unwrap();
    }
    emu.put_object(BUCKET, "set/sub/g.bin", &pattern(50, 99))
        .unwrap();
    let env = vec![
        ("OSS_TEST_ENDPOINT", emu.endpoint()),
        ("OSS_TEST_BUCKET", BUCKET.into()),
        ("OSS_TEST_PREFIX", "set/".into()),
        ("OSS_TEST_COUNT", count.to_string()),
        ("OSS_TEST_DIR", work.display().to_string()),
        ("OSS_TEST_AK", AK.into()),
        ("OSS_TEST_SK", SK.into()),
    ];
    build_and_run("ossffi_download_objects", lang, link, &env);
    for i in 0..count - 1 {
        assert_eq!(
            std::fs::read(work.join(format!("all/f{i:02}.bin"))).unwrap(),
            pattern(300 + i, i as u64)
        );
    }
}

#[test]
fn cpp_ossffi_download_objects_extension_cxx11_shared() {
    run_ossffi_download_objects(Lang::Cxx11, Link::Shared);
}

#[test]
fn cpp_ossffi_download_objects_extension_cxx17_static() {
    run_ossffi_download_objects(Lang::Cxx17, Link::Static);
}
