//! What the example and packaging tests share: the emulator with the examples' credentials, the
//! credentials as environment variables, reading a text file.

use std::path::Path;

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
