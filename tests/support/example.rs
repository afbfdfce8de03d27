//! What the example and packaging tests share: the emulator with the examples' credentials, the
//! credentials as environment variables, one object on a fresh emulator and the C tools'
//! arguments that name it, reading a text file.

use std::path::{Path, PathBuf};

use oss_emulator::{Credential, Emulator, EmulatorConfig};

pub const AK: &str = "example-ak";
pub const SK: &str = "example-sk-secret";

pub fn emulator(root: &Path) -> Emulator {
    Emulator::start(EmulatorConfig {
        root: root.to_path_buf(),
        credentials: vec![Credential::new(AK, SK)],
        ..Default::default()
    })
    .expect("start the emulator")
}

pub fn creds() -> Vec<(&'static str, String)> {
    vec![
        ("OSS_ACCESS_KEY_ID", AK.to_string()),
        ("OSS_ACCESS_KEY_SECRET", SK.to_string()),
    ]
}

pub fn read(p: &Path) -> String {
    std::fs::read_to_string(p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

/// One object (`pattern(size, seed)`) on a fresh emulator, in a scratch directory that also
/// holds the server's root: where a test of the example programs starts.
pub struct OneObject {
    /// Before `tmp`: the server stops before its root is removed (fields drop in order).
    pub emu: Emulator,
    pub tmp: tempfile::TempDir,
    pub data: Vec<u8>,
    pub bucket: &'static str,
    pub key: &'static str,
}

impl OneObject {
    pub fn new(bucket: &'static str, key: &'static str, size: usize, seed: u64) -> OneObject {
        let tmp = tempfile::tempdir().unwrap();
        let emu = emulator(&tmp.path().join("root"));
        let data = super::pattern(size, seed);
        emu.put_object(bucket, key, &data).unwrap();
        OneObject {
            emu,
            tmp,
            data,
            bucket,
            key,
        }
    }

    /// `name` in the scratch directory.
    pub fn path(&self, name: &str) -> PathBuf {
        self.tmp.path().join(name)
    }

    /// A C tool's command line for this object: `--endpoint E --bucket B --key K`, then `extra`.
    pub fn args(&self, extra: &[&str]) -> Vec<String> {
        let named = [
            "--endpoint",
            &self.emu.endpoint(),
            "--bucket",
            self.bucket,
            "--key",
            self.key,
        ];
        named.iter().chain(extra).map(|s| s.to_string()).collect()
    }
}
