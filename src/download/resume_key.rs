//! The key that authenticates resume tokens (`resume_token`): HMAC-SHA256 under a key the
//! application controls, so that a token edited by anyone who can write where it is stored (to
//! name another bucket, key or destination) is refused instead of obeyed.
//!
//! Where the key comes from, in order:
//! 1. the client configuration (`Config::resume_token_key`, `oss_config_set_resume_token_key`,
//!    the C++ `ClientConfiguration::resumeTokenKey`, Python's `resume_token_key`): the
//!    application's own key, for tokens resumed by another user or on another machine;
//! 2. otherwise a per-user key file, `$XDG_CONFIG_HOME/oss-ffi/resume-token.key` (when that
//!    variable is an absolute path) or `$HOME/.config/oss-ffi/resume-token.key`: 32 random bytes,
//!    made on first use. Every process of the same user on the same machine finds the same key,
//!    so a token resumes in another process.
//!
//! The key file is made atomically (written and fsync'd under a private temporary name, then
//! linked into place without replacing anything: of two processes making it at once, both end
//! with the one that got there first), its directory is created 0700 and the file 0600. An
//! existing key file is used only if it is a regular file (never a link), owned by this
//! process's effective user, not readable or writable by its group or others, and exactly 32
//! bytes long; its directory must be the user's own and not writable by others. Anything else
//! is refused with an `IOError` naming the file (a key others can read lets them forge tokens;
//! one others could have written is theirs, not ours).

use std::ffi::OsStr;
use std::fmt;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use rustix::fs::{Mode, OFlags};

use super::directory::{Directory, FileStat};
pub use crate::config::{ResumeTokenKey, MAX_KEY_LEN, MIN_KEY_LEN};
use crate::error::{Error, Result};

/// Bytes of a generated key.
pub const KEY_LEN: usize = 32;
/// The key file's name in its directory.
pub const KEY_FILE: &str = "resume-token.key";

/// The key the client's tokens are sealed and checked with: the configured one
/// (`Config::resume_token_key`), or the user's key file (made on first use).
pub(crate) fn key_for(configured: Option<&ResumeTokenKey>) -> Result<ResumeTokenKey> {
    match configured {
        Some(k) => Ok(k.clone()),
        None => user_key(),
    }
}

/// The directory of the per-user key file, from the environment.
pub fn user_key_dir() -> Result<PathBuf> {
    let var = |name: &str| {
        std::env::var_os(name)
            .map(PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    if let Some(x) = var("XDG_CONFIG_HOME") {
        return Ok(x.join("oss-ffi"));
    }
    if let Some(h) = var("HOME") {
        return Ok(h.join(".config").join("oss-ffi"));
    }
    Err(Error::validate(
        "no key for resume tokens: neither XDG_CONFIG_HOME nor HOME is set to an absolute path, \
         so there is no per-user key file; give the client a key \
         (oss_config_set_resume_token_key)",
    ))
}

/// The per-user key (`user_key_dir()/resume-token.key`), made on first use.
pub(crate) fn user_key() -> Result<ResumeTokenKey> {
    load_or_create(&user_key_dir()?)
}

fn refuse(path: &Path, why: impl fmt::Display) -> Error {
    Error::io_failure(format!(
        "refusing the resume token key '{}': {why}; it was neither read nor used. Remove it (a \
         new key is made on the next pause; tokens sealed with the old one are then refused), or \
         configure a key (oss_config_set_resume_token_key)",
        path.display()
    ))
}

/// The key in `dir/resume-token.key`, made there (and `dir` with it, 0700) when missing.
pub fn load_or_create(dir: &Path) -> Result<ResumeTokenKey> {
    if let Some(parent) = dir.parent() {
        std::fs::create_dir_all(parent)
            .map_err(|e| Error::io("creating the directory of the resume token key", parent, &e))?;
    }
    match rustix::fs::mkdir(dir, Mode::from_raw_mode(0o700)) {
        Ok(()) => {}
        Err(e) if e == rustix::io::Errno::EXIST => {}
        Err(e) => {
            return Err(Error::io(
                "creating the directory of the resume token key",
                dir,
                &e.into(),
            ))
        }
    }
    let d = Directory::open(dir)
        .map_err(|e| Error::io("opening the directory of the resume token key", dir, &e))?;
    let ds = {
        let f = d
            .open_file(OsStr::new("."), OFlags::RDONLY | OFlags::DIRECTORY, 0)
            .map_err(|e| Error::io("inspecting", dir, &e))?;
        FileStat::of(&f).map_err(|e| Error::io("inspecting", dir, &e))?
    };
    let me = rustix::process::geteuid().as_raw();
    if ds.uid != me || ds.mode & 0o022 != 0 {
        return Err(Error::io_failure(format!(
            "refusing the directory of the resume token key '{}': it must be owned by this \
             process's user (uid {me}) and not writable by others (it is uid {}, mode {:04o})",
            dir.display(),
            ds.uid,
            ds.permissions()
        )));
    }
    let path = d.join(OsStr::new(KEY_FILE));
    // Two rounds at most: another process may make the file between our look and our link.
    for _ in 0..2 {
        if let Some(k) = read_existing(&d, &path)? {
            return Ok(k);
        }
        if let Some(k) = create(&d, &path)? {
            return Ok(k);
        }
    }
    Err(Error::io_failure(format!(
        "the resume token key '{}' appeared and vanished while it was being made",
        path.display()
    )))
}

/// The existing key file (`None` when there is none), checked as the module says.
fn read_existing(d: &Directory, path: &Path) -> Result<Option<ResumeTokenKey>> {
    let name = OsStr::new(KEY_FILE);
    // O_NONBLOCK: a FIFO put there must not hang the call (a regular file ignores the flag).
    let mut f = match d.open_file(name, OFlags::RDONLY | OFlags::NONBLOCK, 0) {
        Ok(f) => f,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => {
            return Err(refuse(path, "it is a symbolic link"))
        }
        Err(e) => return Err(Error::io("opening the resume token key", path, &e)),
    };
    let s = FileStat::of(&f).map_err(|e| Error::io("inspecting", path, &e))?;
    let me = rustix::process::geteuid().as_raw();
    if !s.is_file() {
        return Err(refuse(path, "it is not a regular file"));
    }
    if s.uid != me {
        return Err(refuse(
            path,
            format!(
                "it is owned by uid {}, not by this process's user (uid {me})",
                s.uid
            ),
        ));
    }
    if s.mode & 0o077 != 0 {
        return Err(refuse(
            path,
            format!(
                "its group or other users may read or write it (mode {:04o}, must be 0600)",
                s.permissions()
            ),
        ));
    }
    let mut bytes = Vec::with_capacity(KEY_LEN + 1);
    (&mut f)
        .take(KEY_LEN as u64 + 1)
        .read_to_end(&mut bytes)
        .map_err(|e| Error::io("reading the resume token key", path, &e))?;
    if bytes.len() != KEY_LEN {
        return Err(refuse(
            path,
            format!("it has {} bytes instead of {KEY_LEN}", bytes.len()),
        ));
    }
    Ok(Some(ResumeTokenKey(bytes.into())))
}

/// Makes the key file: 32 random bytes written and synced under a private name, then linked
/// into place without replacing anything. `None`: another process made it first.
fn create(d: &Directory, path: &Path) -> Result<Option<ResumeTokenKey>> {
    let mut key = [0u8; KEY_LEN];
    let mut nonce = [0u8; 8];
    fill_random(&mut key)
        .and_then(|()| fill_random(&mut nonce))
        .map_err(|e| Error::io("generating the resume token key", path, &e))?;
    // A private name of its own (random, never derived from the key).
    let tmp = std::ffi::OsString::from(format!(
        "{KEY_FILE}.{}.{:016x}.tmp",
        std::process::id(),
        u64::from_le_bytes(nonce)
    ));
    let tmp_path = d.join(&tmp);
    let written = (|| {
        let mut f = d.create_private(&tmp)?;
        f.write_all(&key)?;
        f.sync_all()
    })();
    if let Err(e) = written {
        let _ = d.unlink(&tmp);
        return Err(Error::io("writing the resume token key", &tmp_path, &e));
    }
    let linked = d.link(&tmp, OsStr::new(KEY_FILE));
    let _ = d.unlink(&tmp);
    match linked {
        Ok(()) => {
            d.sync();
            Ok(Some(ResumeTokenKey(key.as_slice().into())))
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(None),
        Err(e) => Err(Error::io("putting the resume token key in place", path, &e)),
    }
}

fn fill_random(buf: &mut [u8]) -> std::io::Result<()> {
    let mut done = 0;
    while done < buf.len() {
        match rustix::rand::getrandom(&mut buf[done..], rustix::rand::GetRandomFlags::empty()) {
            Ok(n) => done += n,
            Err(e) if e == rustix::io::Errno::INTR => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(())
}

/// How a sealed token is framed: `magic` (16 bytes), the format `version` (u32, little endian),
/// the body's length (u32 LE), the body, then the HMAC-SHA256 of everything before it under the
/// client's key. Download tokens (`resume_token`) and batch tokens (`transfer`) share it.
pub(crate) struct Framing {
    pub magic: &'static [u8; 16],
    pub version: u32,
    /// The largest body accepted (anything larger is not ours).
    pub max_body: usize,
    /// "" or "batch ": how messages name the token.
    pub kind: &'static str,
}

const HEADER: usize = 16 + 4 + 4;
const DIGEST: usize = 32;

/// A refusal of a token, as every token refusal reads.
pub(crate) fn refused(why: impl fmt::Display) -> Error {
    Error::validate(format!("The resume token is refused: {why}"))
}

fn mac(key: &ResumeTokenKey, data: &[u8]) -> hmac::Hmac<sha2::Sha256> {
    use hmac::Mac;
    let mut m = <hmac::Hmac<sha2::Sha256> as Mac>::new_from_slice(key.bytes())
        .expect("HMAC takes keys of any length");
    m.update(data);
    m
}

impl Framing {
    /// Whether `bytes` claim to be this kind of token (its magic).
    pub fn claims(&self, bytes: &[u8]) -> bool {
        bytes.starts_with(self.magic)
    }

    /// `body` sealed with `key`. Errors: a body over `max_body`.
    pub fn seal(&self, body: &[u8], key: &ResumeTokenKey) -> Result<Vec<u8>> {
        use hmac::Mac;
        let len = u32::try_from(body.len())
            .ok()
            .filter(|&l| (l as usize) <= self.max_body)
            .ok_or_else(|| {
                Error::validate(format!(
                    "the {}resume token would be too large ({} bytes)",
                    self.kind,
                    body.len()
                ))
            })?;
        let mut out = Vec::with_capacity(HEADER + body.len() + DIGEST);
        out.extend_from_slice(self.magic);
        out.extend_from_slice(&self.version.to_le_bytes());
        out.extend_from_slice(&len.to_le_bytes());
        out.extend_from_slice(body);
        let tag = mac(key, &out).finalize().into_bytes();
        out.extend_from_slice(&tag);
        Ok(out)
    }

    /// The body of a token, once its framing and its MAC under `key` (compared in constant
    /// time) are checked. `retired`: earlier versions refused with their own reason.
    pub fn open<'a>(
        &self,
        bytes: &'a [u8],
        key: &ResumeTokenKey,
        retired: &[(u32, &str)],
    ) -> Result<&'a [u8]> {
        if bytes.len() < HEADER + DIGEST {
            return Err(refused(format!("it is truncated ({} bytes)", bytes.len())));
        }
        if !self.claims(bytes) {
            return Err(refused(format!(
                "it is not a {}resume token of this library",
                self.kind
            )));
        }
        let version = u32::from_le_bytes(bytes[16..20].try_into().unwrap_or_default());
        if let Some((_, why)) = retired.iter().find(|(v, _)| *v == version) {
            return Err(refused(why));
        }
        if version != self.version {
            return Err(refused(format!(
                "unknown {}token version {version}",
                self.kind
            )));
        }
        let len = u32::from_le_bytes(bytes[20..24].try_into().unwrap_or_default()) as usize;
        if len > self.max_body || bytes.len() != HEADER + len + DIGEST {
            return Err(refused(format!(
                "its length ({} bytes) does not match its framing (truncated or extended)",
                bytes.len()
            )));
        }
        let (signed, tag) = bytes.split_at(HEADER + len);
        if hmac::Mac::verify_slice(mac(key, signed), tag).is_err() {
            return Err(refused(
                "its MAC does not verify under this client's resume token key: it was altered \
                 (edited, re-sealed, damaged) or sealed under another key (another user's, \
                 another machine's, or another configured key)",
            ));
        }
        Ok(&signed[HEADER..])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use std::os::unix::fs::PermissionsExt;

    #[test]
    fn the_user_key_is_made_once_private_and_found_again() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("cfg").join("oss-ffi");
        let a = load_or_create(&dir).unwrap();
        assert_eq!(a.bytes().len(), KEY_LEN);
        let mode = |p: &Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&dir.join(KEY_FILE)), 0o600);
        assert_eq!(load_or_create(&dir).unwrap(), a);
        // Nothing else left in the directory.
        assert_eq!(std::fs::read_dir(&dir).unwrap().count(), 1);
        // Made at once by many threads: one key for all.
        let dir2 = tmp.path().join("race");
        let keys: Vec<_> = (0..8)
            .map(|_| {
                let d = dir2.clone();
                std::thread::spawn(move || load_or_create(&d).unwrap())
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| h.join().unwrap())
            .collect();
        assert!(keys.iter().all(|k| *k == keys[0]));
        assert_ne!(keys[0], a);
    }

    #[test]
    fn a_key_file_others_can_reach_or_own_is_refused() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("oss-ffi");
        load_or_create(&dir).unwrap();
        let file = dir.join(KEY_FILE);
        for m in [0o640, 0o604, 0o660, 0o644] {
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(m)).unwrap();
            let e = load_or_create(&dir).unwrap_err();
            assert!(
                e.message.contains("may read or write it"),
                "{m:o}: {}",
                e.message
            );
        }
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        // A link to a good key is not followed.
        let other = tmp.path().join("elsewhere");
        load_or_create(&other).unwrap();
        std::fs::remove_file(&file).unwrap();
        std::os::unix::fs::symlink(other.join(KEY_FILE), &file).unwrap();
        let e = load_or_create(&dir).unwrap_err();
        assert!(e.message.contains("symbolic link"), "{}", e.message);
        std::fs::remove_file(&file).unwrap();
        // A short file is refused, not extended.
        std::fs::write(&file, b"short").unwrap();
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        let e = load_or_create(&dir).unwrap_err();
        assert!(e.message.contains("5 bytes"), "{}", e.message);
        // A directory others may write is refused.
        std::fs::remove_file(&file).unwrap();
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o777)).unwrap();
        let e = load_or_create(&dir).unwrap_err();
        assert!(
            e.message.contains("not writable by others"),
            "{}",
            e.message
        );
        std::fs::set_permissions(&dir, std::fs::Permissions::from_mode(0o700)).unwrap();
        // Another user's key (root only: chown needs it).
        load_or_create(&dir).unwrap();
        if rustix::process::geteuid().is_root() {
            std::os::unix::fs::chown(&file, Some(65534), Some(65534)).unwrap();
            let e = load_or_create(&dir).unwrap_err();
            assert!(e.message.contains("owned by uid 65534"), "{}", e.message);
        } else {
            eprintln!("not root: the other-user key file case needs chown, skipped");
        }
    }

    #[test]
    fn configured_keys_have_bounded_lengths_and_never_print() {
        assert!(ResumeTokenKey::new(&[1; 15]).is_err());
        assert!(ResumeTokenKey::new(&[1; 1025]).is_err());
        let k = ResumeTokenKey::new(&[0x41; 16]).unwrap();
        assert_eq!(format!("{k:?}"), "ResumeTokenKey(16 bytes)");
        let c = Config {
            resume_token_key: Some(k.clone()),
            ..Config::default()
        };
        assert_eq!(key_for(c.resume_token_key.as_ref()).unwrap(), k);
        assert!(!format!("{c:?}").contains("AAAA"));
    }
}
