//! Compiles the C test programs in tests/c/ against the built library (shared and static) and
//! runs them against the local OSS server. `OSS_FFI_SANITIZE=1` adds ASan/UBSan;
//! `VALGRIND=valgrind` runs them under valgrind (errors and definite leaks fail the test).

mod support;

use oss_emulator::{Credential, Emulator, EmulatorConfig};
use support::*;

const AK: &str = "test-ak";
const SK: &str = "test-sk-secret";

const STS_AK: &str = "sts-ak";
const STS_SK: &str = "sts-secret";
const STS_TOKEN: &str = "sts-token-value";

fn start_emulator(root: &std::path::Path) -> Emulator {
    Emulator::start(EmulatorConfig {
        root: root.to_path_buf(),
        credentials: vec![
            Credential::new(AK, SK),
            Credential::with_token(STS_AK, STS_SK, STS_TOKEN),
        ],
        ..Default::default()
    })
    .expect("start the emulator")
}

fn run_program(program: &str, link: Link, size: usize) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let emu = start_emulator(&root);
    let data = pattern(size, 7);
    let key = "dir/a key+with=odd&chars é.bin";
    emu.put_object("test-bucket", key, &data).unwrap();
    let crc = oss_ffi::crc64::update(0, &data);

    let name = format!("{program}_{link:?}").to_lowercase();
    let exe = build_dir(program).join(&name);
    compile(
        &[repo_root().join(format!("tests/c/{program}.c"))],
        &exe,
        Lang::C11,
        link,
        &["-pthread"],
    );
    let out = run(
        &exe,
        &[],
        &[
            ("OSS_TEST_ENDPOINT", emu.endpoint()),
            ("OSS_TEST_BUCKET", "test-bucket".into()),
            ("OSS_TEST_KEY", key.into()),
            ("OSS_TEST_SIZE", data.len().to_string()),
            ("OSS_TEST_CRC", crc.to_string()),
            ("OSS_TEST_DIR", work.display().to_string()),
            ("OSS_TEST_AK", AK.into()),
            ("OSS_TEST_SK", SK.into()),
            ("OSS_TEST_STS_AK", STS_AK.into()),
            ("OSS_TEST_STS_SK", STS_SK.into()),
            ("OSS_TEST_STS_TOKEN", STS_TOKEN.into()),
            ("OSS_SDK_LOG_LEVEL", "debug".into()),
        ],
    );
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert_ok(&name, &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains(&format!("{program}: all checks passed")));
    // Secrets never appear in anything the program printed (error messages included).
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    for secret in [SK, STS_SK, STS_TOKEN] {
        assert!(!all.contains(secret), "a secret leaked into the output");
    }
}

#[test]
fn c_client_basic_shared() {
    run_program("client_basic", Link::Shared, 300 * 1024 + 17);
}

#[test]
fn c_client_basic_static() {
    run_program("client_basic", Link::Static, 300 * 1024 + 17);
}

#[test]
fn c_callbacks_shared() {
    run_program("callbacks", Link::Shared, 3 * 1024 * 1024 + 5);
}

#[test]
fn c_callbacks_static() {
    run_program("callbacks", Link::Static, 3 * 1024 * 1024 + 5);
}
