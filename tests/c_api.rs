//! Compiles the C test programs in tests/c/ against the built library (shared and static) and
//! runs them against the local OSS server. `OSS_FFI_SANITIZE=1` adds ASan/UBSan;
//! `VALGRIND=valgrind` runs them under valgrind (errors and definite leaks fail the test).

mod support;

use oss_emulator::{Credential, Emulator, EmulatorConfig};
use support::*;

const AK: &str = "test-ak";
const SK: &str = "test-sk-secret";

fn start_emulator(root: &std::path::Path) -> Emulator {
    Emulator::start(EmulatorConfig {
        root: root.to_path_buf(),
        credentials: vec![Credential::new(AK, SK)],
        ..Default::default()
    })
    .expect("start the emulator")
}

fn run_client_basic(link: Link) {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("root");
    let work = tmp.path().join("work");
    std::fs::create_dir_all(&work).unwrap();
    let emu = start_emulator(&root);
    let data = pattern(300 * 1024 + 17, 7);
    let key = "dir/a key+with=odd&chars é.bin";
    emu.put_object("test-bucket", key, &data).unwrap();
    let crc = oss_ffi::crc64::update(0, &data);

    let name = format!("client_basic_{link:?}").to_lowercase();
    let exe = build_dir("client_basic").join(&name);
    compile(
        &[repo_root().join("tests/c/client_basic.c")],
        &exe,
        Lang::C11,
        link,
        &[],
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
        ],
    );
    println!("{}", String::from_utf8_lossy(&out.stdout));
    assert_ok(&name, &out);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("client_basic: all checks passed"));
    // Secrets never appear in anything the program printed (error messages included).
    let all = format!("{stdout}{}", String::from_utf8_lossy(&out.stderr));
    assert!(!all.contains(SK), "the secret leaked into output");
}

#[test]
fn c_client_basic_shared() {
    run_client_basic(Link::Shared);
}

#[test]
fn c_client_basic_static() {
    run_client_basic(Link::Static);
}
