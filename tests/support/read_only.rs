//! A directory in which no file can be created, whoever the test runs as: as root (CI), where
//! mode bits do not stop writes, a read-only tmpfs mounted there; as another user, mode 0555.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::Command;

/// An unwritable directory; unmounted (or made writable again) on drop.
pub struct ReadOnlyDir {
    pub path: PathBuf,
    mounted: bool,
}

impl ReadOnlyDir {
    /// Makes `path` (created if needed) a directory nothing can be created in, and checks that
    /// by trying. Panics when this is impossible here (root without the right to mount).
    pub fn new(path: &Path) -> ReadOnlyDir {
        std::fs::create_dir_all(path).unwrap();
        let root = rustix::process::geteuid().is_root();
        let dir = if root {
            let ok = Command::new("mount")
                .args(["-t", "tmpfs", "-o", "ro,size=64k", "tmpfs"])
                .arg(path)
                .output()
                .is_ok_and(|o| o.status.success());
            assert!(
                ok,
                "cannot mount a read-only tmpfs on {} (root without CAP_SYS_ADMIN?): root writes \
                 through mode bits, so no unwritable directory can be made here",
                path.display()
            );
            ReadOnlyDir {
                path: path.into(),
                mounted: true,
            }
        } else {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o555)).unwrap();
            ReadOnlyDir {
                path: path.into(),
                mounted: false,
            }
        };
        assert!(
            std::fs::File::create(path.join("probe")).is_err(),
            "{} is still writable",
            path.display()
        );
        dir
    }
}

impl Drop for ReadOnlyDir {
    fn drop(&mut self) {
        if self.mounted {
            let _ = Command::new("umount").arg("-l").arg(&self.path).status();
        } else {
            use std::os::unix::fs::PermissionsExt;
            let _ = std::fs::set_permissions(&self.path, std::fs::Permissions::from_mode(0o755));
        }
    }
}
