//! Object storage on disk and the metadata sidecar store.
//!
//! Objects live at `ROOT/<bucket>/<key>` when the key is a safe relative path (no empty, `.`
//! or `..` segment, no trailing `/`, no control character or backslash, segments of at most
//! 255 bytes) and that path is free; every other key OSS allows (`../x`, `a//b`, `dir/`, a
//! key whose parent is already an object, ...) lives at `ROOT/.oss-emulator-meta/raw/<bucket>/
//! <sha256(key)>` with the key itself beside it in `<sha256(key)>.key`. Metadata (ETag, CRC64, content type, user
//! meta, version id) lives in memory and in `ROOT/.oss-emulator-meta/objects/<bucket>/
//! <sha256(key)>.json`, stamped with the file's (size, mtime, inode): when the file
//! changes behind our back (or was placed by hand) the metadata is recomputed once,
//! on first access, and cached.

use std::collections::HashMap;
use std::fs::{self, File};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use md5::{Digest, Md5};
use serde::{Deserialize, Serialize};
use sha2::Sha256;

use crate::crc64::Crc64;
use crate::encoding::{hex_lower, hex_upper};
use crate::error::OssError;

pub const META_DIR: &str = ".oss-emulator-meta";

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Stamp {
    pub size: u64,
    pub mtime: i64,
    pub mtime_nsec: i64,
    pub ino: u64,
}

impl Stamp {
    pub fn of(m: &fs::Metadata) -> Stamp {
        Stamp {
            size: m.len(),
            mtime: m.mtime(),
            mtime_nsec: m.mtime_nsec(),
            ino: m.ino(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ObjectMeta {
    pub stamp: Stamp,
    pub size: u64,
    /// Quoted upper-case hex.
    pub etag: String,
    pub crc64: u64,
    pub content_type: String,
    pub user_meta: Vec<(String, String)>,
    pub version_id: String,
    /// Unix seconds.
    pub last_modified: u64,
}

impl ObjectMeta {
    pub fn last_modified_time(&self) -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(self.last_modified)
    }
}

type ObjKey = (String, String);

pub struct MetaStore {
    root: PathBuf,
    meta_dir: PathBuf,
    cache: Mutex<HashMap<ObjKey, ObjectMeta>>,
    locks: Mutex<HashMap<ObjKey, Arc<Mutex<()>>>>,
}

/// Valid OSS bucket name: 3-63 chars of `a-z 0-9 -`, not starting/ending with `-`.
pub fn valid_bucket_name(b: &str) -> bool {
    let bytes = b.as_bytes();
    (3..=63).contains(&bytes.len())
        && bytes
            .iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
        && bytes[0] != b'-'
        && bytes[bytes.len() - 1] != b'-'
}

/// Checks a key against the OSS naming rule: 1 to 1023 bytes of UTF-8 (the type sees to
/// that), no NUL, not starting with `/` or `\\`. Keys that are not safe as relative paths
/// (`../x`, `a//b`, `dir/`, control characters) are valid: they are stored apart
/// (see [`path_safe`]).
pub fn validate_key(key: &str) -> Result<(), OssError> {
    let bad = key.is_empty()
        || key.len() > 1023
        || key.starts_with('/')
        || key.starts_with('\\')
        || key.contains('\0');
    if bad {
        Err(OssError::invalid_object_name(key))
    } else {
        Ok(())
    }
}

/// Whether `key` can be the file `ROOT/<bucket>/<key>`: a relative path of non-empty
/// segments other than `.` and `..`, each at most 255 bytes, with no control character and
/// no backslash. Other keys are stored under the metadata directory.
pub fn path_safe(key: &str) -> bool {
    !key.is_empty()
        && !key.starts_with('/')
        && !key
            .chars()
            .any(|c| c.is_control() || c == '\\' || c == '\0')
        && key
            .split('/')
            .all(|seg| !seg.is_empty() && seg != "." && seg != ".." && seg.len() <= 255)
}

fn guess_content_type(key: &str) -> &'static str {
    let ext = key.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase());
    match ext.as_deref() {
        Some("txt") => "text/plain",
        Some("html") | Some("htm") => "text/html",
        Some("json") => "application/json",
        Some("xml") => "application/xml",
        Some("jpg") | Some("jpeg") => "image/jpeg",
        Some("png") => "image/png",
        Some("gz") => "application/gzip",
        Some("zip") => "application/zip",
        Some("pdf") => "application/pdf",
        _ => "application/octet-stream",
    }
}

fn new_version_id() -> String {
    use rand::Rng;
    let n: u128 = rand::thread_rng().gen();
    format!("CAEQ{:032x}", n)
}

/// Streams `reader` into `out` (if any), returning (size, md5, crc64).
fn digest_stream(
    mut reader: impl Read,
    mut out: Option<&mut File>,
) -> io::Result<(u64, [u8; 16], u64)> {
    let mut md5 = Md5::new();
    let mut crc = Crc64::new();
    let mut buf = vec![0u8; 1 << 20];
    let mut total = 0u64;
    loop {
        let n = match reader.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        md5.update(&buf[..n]);
        crc.update(&buf[..n]);
        if let Some(f) = out.as_deref_mut() {
            f.write_all(&buf[..n])?;
        }
        total += n as u64;
    }
    Ok((total, md5.finalize().into(), crc.finish()))
}

impl MetaStore {
    pub fn new(root: &Path) -> io::Result<MetaStore> {
        fs::create_dir_all(root)?;
        let root = root.canonicalize()?;
        let meta_dir = root.join(META_DIR);
        fs::create_dir_all(meta_dir.join("tmp"))?;
        fs::create_dir_all(meta_dir.join("objects"))?;
        Ok(MetaStore {
            root,
            meta_dir,
            cache: Mutex::new(HashMap::new()),
            locks: Mutex::new(HashMap::new()),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn bucket_path(&self, bucket: &str) -> PathBuf {
        self.root.join(bucket)
    }

    pub fn bucket_exists(&self, bucket: &str) -> bool {
        valid_bucket_name(bucket) && self.bucket_path(bucket).is_dir()
    }

    pub fn create_bucket(&self, bucket: &str) -> io::Result<()> {
        if !valid_bucket_name(bucket) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid bucket name {bucket:?} (3-63 chars of a-z, 0-9, -)"),
            ));
        }
        fs::create_dir_all(self.bucket_path(bucket))
    }

    /// The file of the object (or the one a new object would get): the plain path when the
    /// key is [`path_safe`] and not already stored apart, else the one under `raw/`.
    pub fn object_path(&self, bucket: &str, key: &str) -> PathBuf {
        let raw = self.raw_path(bucket, key);
        if !path_safe(key) || raw.exists() {
            raw
        } else {
            self.root.join(bucket).join(key)
        }
    }

    fn raw_dir(&self, bucket: &str) -> PathBuf {
        self.meta_dir.join("raw").join(bucket)
    }

    fn raw_path(&self, bucket: &str, key: &str) -> PathBuf {
        self.raw_dir(bucket)
            .join(hex_lower(&Sha256::digest(key.as_bytes())))
    }

    /// Every key of `bucket` starting with `prefix`, in byte order: the files under the bucket
    /// directory whose relative path is a [`path_safe`] UTF-8 key (symbolic links are not
    /// followed) and the keys stored apart. Blocking.
    pub fn list_keys(&self, bucket: &str, prefix: &str) -> io::Result<Vec<String>> {
        fn walk(dir: &Path, rel: &str, prefix: &str, out: &mut Vec<String>) -> io::Result<()> {
            let entries = match fs::read_dir(dir) {
                Ok(e) => e,
                Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e),
            };
            for entry in entries {
                let entry = entry?;
                let Ok(name) = entry.file_name().into_string() else {
                    continue;
                };
                let ft = entry.file_type()?;
                let key = format!("{rel}{name}");
                if ft.is_dir() {
                    let sub = format!("{key}/");
                    if prefix.starts_with(&sub) || sub.starts_with(prefix) {
                        walk(&entry.path(), &sub, prefix, out)?;
                    }
                } else if ft.is_file() && key.starts_with(prefix) && path_safe(&key) {
                    out.push(key);
                }
            }
            Ok(())
        }
        let mut keys = Vec::new();
        walk(&self.bucket_path(bucket), "", prefix, &mut keys)?;
        let raw = self.raw_dir(bucket);
        match fs::read_dir(&raw) {
            Ok(entries) => {
                for entry in entries {
                    let entry = entry?;
                    let Ok(name) = entry.file_name().into_string() else {
                        continue;
                    };
                    let Some(hash) = name.strip_suffix(".key") else {
                        continue;
                    };
                    if !raw.join(hash).is_file() {
                        continue;
                    }
                    if let Ok(key) = fs::read_to_string(entry.path()) {
                        if key.starts_with(prefix) {
                            keys.push(key);
                        }
                    }
                }
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => {}
            Err(e) => return Err(e),
        }
        keys.sort_unstable();
        keys.dedup();
        Ok(keys)
    }

    fn sidecar_path(&self, bucket: &str, key: &str) -> PathBuf {
        self.meta_dir.join("objects").join(bucket).join(format!(
            "{}.json",
            hex_lower(&Sha256::digest(key.as_bytes()))
        ))
    }

    fn key_lock(&self, bucket: &str, key: &str) -> Arc<Mutex<()>> {
        let mut locks = self.locks.lock().unwrap();
        locks
            .entry((bucket.to_string(), key.to_string()))
            .or_default()
            .clone()
    }

    fn tmp_file(&self) -> io::Result<(PathBuf, File)> {
        use rand::Rng;
        let n: u64 = rand::thread_rng().gen();
        let p = self.meta_dir.join("tmp").join(format!("put-{n:016x}"));
        let f = fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .open(&p)?;
        Ok((p, f))
    }

    fn remember(&self, bucket: &str, key: &str, meta: &ObjectMeta) {
        self.cache
            .lock()
            .unwrap()
            .insert((bucket.to_string(), key.to_string()), meta.clone());
        let side = self.sidecar_path(bucket, key);
        if let Some(parent) = side.parent() {
            let _ = fs::create_dir_all(parent);
        }
        if let Ok(json) = serde_json::to_vec(meta) {
            let tmp = side.with_extension("json.tmp");
            if fs::write(&tmp, json).is_ok() {
                let _ = fs::rename(&tmp, &side);
            }
        }
    }

    fn forget(&self, bucket: &str, key: &str) {
        self.cache
            .lock()
            .unwrap()
            .remove(&(bucket.to_string(), key.to_string()));
        let _ = fs::remove_file(self.sidecar_path(bucket, key));
    }

    /// Opens an object and returns its metadata, computing it when missing or stale.
    /// `Ok(None)` when there is no such object. Blocking.
    pub fn open(&self, bucket: &str, key: &str) -> io::Result<Option<(ObjectMeta, File)>> {
        let path = self.object_path(bucket, key);
        let file = match File::open(&path) {
            Ok(f) => f,
            Err(e)
                if e.kind() == io::ErrorKind::NotFound
                    || e.raw_os_error() == Some(libc::ENOTDIR) =>
            {
                return Ok(None)
            }
            Err(e) => return Err(e),
        };
        let md = file.metadata()?;
        if !md.is_file() {
            return Ok(None);
        }
        let stamp = Stamp::of(&md);
        let k = (bucket.to_string(), key.to_string());
        if let Some(m) = self.cache.lock().unwrap().get(&k) {
            if m.stamp == stamp {
                return Ok(Some((m.clone(), file)));
            }
        }
        let lock = self.key_lock(bucket, key);
        let _g = lock.lock().unwrap();
        // Someone may have computed it while we waited.
        if let Some(m) = self.cache.lock().unwrap().get(&k) {
            if m.stamp == stamp {
                return Ok(Some((m.clone(), file)));
            }
        }
        let side = self.sidecar_path(bucket, key);
        let previous: Option<ObjectMeta> = fs::read(&side)
            .ok()
            .and_then(|b| serde_json::from_slice(&b).ok());
        if let Some(m) = &previous {
            if m.stamp == stamp {
                self.cache.lock().unwrap().insert(k, m.clone());
                return Ok(Some((m.clone(), file)));
            }
        }
        // Placed or changed by hand: compute once.
        let mut reader = file.try_clone()?;
        reader.seek(SeekFrom::Start(0))?;
        let (size, md5, crc) = digest_stream(&mut reader, None)?;
        let md_after = file.metadata()?;
        let stamp_after = Stamp::of(&md_after);
        let meta = ObjectMeta {
            stamp: stamp_after,
            size,
            etag: format!("\"{}\"", hex_upper(&md5)),
            crc64: crc,
            content_type: guess_content_type(key).to_string(),
            user_meta: Vec::new(),
            version_id: new_version_id(),
            last_modified: md_after
                .modified()
                .ok()
                .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
                .map(|d| d.as_secs())
                .unwrap_or(0),
        };
        self.remember(bucket, key, &meta);
        Ok(Some((meta, file)))
    }

    /// Stores an object (bucket must exist). Blocking.
    pub fn put(
        &self,
        bucket: &str,
        key: &str,
        data: impl Read,
        content_type: Option<&str>,
        user_meta: Vec<(String, String)>,
    ) -> io::Result<ObjectMeta> {
        let (tmp_path, mut tmp) = self.tmp_file()?;
        let res = (|| {
            let (size, md5, crc) = digest_stream(data, Some(&mut tmp))?;
            tmp.flush()?;
            drop(tmp);
            let meta = ObjectMeta {
                stamp: Stamp {
                    size,
                    mtime: 0,
                    mtime_nsec: 0,
                    ino: 0,
                },
                size,
                etag: format!("\"{}\"", hex_upper(&md5)),
                crc64: crc,
                content_type: content_type
                    .filter(|c| !c.is_empty())
                    .unwrap_or_else(|| guess_content_type(key))
                    .to_string(),
                user_meta,
                version_id: new_version_id(),
                last_modified: 0,
            };
            self.install(bucket, key, &tmp_path, meta)
        })();
        if res.is_err() {
            let _ = fs::remove_file(&tmp_path);
        }
        res
    }

    fn install(
        &self,
        bucket: &str,
        key: &str,
        tmp_path: &Path,
        mut meta: ObjectMeta,
    ) -> io::Result<ObjectMeta> {
        let lock = self.key_lock(bucket, key);
        let _g = lock.lock().unwrap();
        let raw = self.raw_path(bucket, key);
        let mut dest = None;
        if path_safe(key) && !raw.exists() {
            // A key whose path is taken (a directory of other keys, or a parent that is an
            // object) is stored apart, like the keys that are not paths at all.
            let plain = self.root.join(bucket).join(key);
            let placed = plain
                .parent()
                .map_or(Ok(()), fs::create_dir_all)
                .and_then(|()| fs::rename(tmp_path, &plain));
            if placed.is_ok() {
                dest = Some(plain);
            }
        }
        let dest = match dest {
            Some(d) => d,
            None => {
                fs::create_dir_all(self.raw_dir(bucket))?;
                let name = raw.with_extension("key");
                if !name.is_file() {
                    let tmp = raw.with_extension("key.tmp");
                    fs::write(&tmp, key.as_bytes())?;
                    fs::rename(&tmp, &name)?;
                }
                fs::rename(tmp_path, &raw)?;
                raw
            }
        };
        let md = fs::metadata(&dest)?;
        meta.stamp = Stamp::of(&md);
        meta.last_modified = md
            .modified()
            .ok()
            .and_then(|t| t.duration_since(UNIX_EPOCH).ok())
            .map(|d| d.as_secs())
            .unwrap_or(0);
        self.remember(bucket, key, &meta);
        Ok(meta)
    }

    /// Deletes an object; Ok(false) when it did not exist.
    pub fn delete(&self, bucket: &str, key: &str) -> io::Result<bool> {
        let lock = self.key_lock(bucket, key);
        let _g = lock.lock().unwrap();
        let raw = self.raw_path(bucket, key);
        let existed = if raw.is_file() {
            fs::remove_file(&raw)?;
            let _ = fs::remove_file(raw.with_extension("key"));
            true
        } else if path_safe(key) {
            let path = self.root.join(bucket).join(key);
            match fs::symlink_metadata(&path) {
                Ok(m) if m.is_file() => {
                    fs::remove_file(&path)?;
                    true
                }
                _ => false,
            }
        } else {
            false
        };
        self.forget(bucket, key);
        Ok(existed)
    }

    /// Replaces the object's content by a deterministic variant of it (same size,
    /// a few bytes inverted; a 0-byte object becomes 1 byte), as a new version with
    /// a new ETag. Readers that already opened the old file keep reading the old bytes.
    pub fn mutate(&self, bucket: &str, key: &str) -> io::Result<Option<ObjectMeta>> {
        let Some((old, mut file)) = self.open(bucket, key)? else {
            return Ok(None);
        };
        let (tmp_path, mut tmp) = self.tmp_file()?;
        file.seek(SeekFrom::Start(0))?;
        io::copy(&mut file, &mut tmp)?;
        let size = old.size;
        if size == 0 {
            tmp.write_all(&[0x5a])?;
        } else {
            let mut positions = vec![0, size / 2, size - 1];
            positions.dedup();
            for p in positions {
                let mut b = [0u8; 1];
                tmp.read_exact_at(&mut b, p)?;
                b[0] ^= 0xff;
                tmp.write_all_at(&b, p)?;
            }
        }
        tmp.flush()?;
        let mut reader = File::open(&tmp_path)?;
        let (size, md5, crc) = digest_stream(&mut reader, None)?;
        let meta = ObjectMeta {
            size,
            etag: format!("\"{}\"", hex_upper(&md5)),
            crc64: crc,
            version_id: new_version_id(),
            ..old
        };
        Ok(Some(self.install(bucket, key, &tmp_path, meta)?))
    }

    /// Writes `size` bytes of deterministic pseudo-random content (seeded by the key).
    pub fn create_pseudo_random(
        &self,
        bucket: &str,
        key: &str,
        size: u64,
    ) -> io::Result<ObjectMeta> {
        struct Gen {
            seed: u64,
            pos: u64,
            size: u64,
        }
        impl Read for Gen {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = ((self.size - self.pos) as usize).min(buf.len());
                crate::content::fill_pseudo_random(self.seed, self.pos, &mut buf[..n]);
                self.pos += n as u64;
                Ok(n)
            }
        }
        let seed = crate::crc64::crc64(key.as_bytes());
        self.create_bucket(bucket)?;
        self.put(bucket, key, Gen { seed, pos: 0, size }, None, Vec::new())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names() {
        assert!(valid_bucket_name("abc"));
        assert!(valid_bucket_name("my-bucket-1"));
        assert!(!valid_bucket_name("ab"));
        assert!(!valid_bucket_name("-ab"));
        assert!(!valid_bucket_name("Abc"));
        assert!(!valid_bucket_name(".oss-emulator-meta"));
        assert!(!valid_bucket_name("a_b"));
        assert!(validate_key("a/b c+ü.txt").is_ok());
        for ok in ["a/../b", "..", "a/./b", "a//b", "a/", "a\u{1}b", "a\\b"] {
            assert!(validate_key(ok).is_ok(), "{ok:?}");
            assert!(!path_safe(ok), "{ok:?}");
        }
        assert!(path_safe("a/b c+ü.txt"));
        for bad in ["", "/a", "\\a", "a\0b", &"k".repeat(1024)] {
            assert_eq!(
                validate_key(bad).unwrap_err().code,
                "InvalidObjectName",
                "{bad:?}"
            );
        }
    }

    #[test]
    fn put_open_mutate_hand_placed() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetaStore::new(dir.path()).unwrap();
        store.create_bucket("bkt").unwrap();
        let m = store
            .put("bkt", "a/b.txt", &b"hello world!"[..], None, vec![])
            .unwrap();
        assert_eq!(m.etag, "\"FC3FF98E8C6A0D3087D515C0473F8677\"");
        assert_eq!(m.crc64, 0x8483_c0fa_3260_7d61);
        assert_eq!(m.content_type, "text/plain");
        let (m2, _) = store.open("bkt", "a/b.txt").unwrap().unwrap();
        assert_eq!(m, m2);
        // placed by hand
        fs::write(dir.path().join("bkt/hand"), b"123456789").unwrap();
        let (h, _) = store.open("bkt", "hand").unwrap().unwrap();
        assert_eq!(h.crc64, 0x995D_C9BB_DF19_39FA);
        assert_eq!(h.size, 9);
        // a fresh store reads the sidecar instead of recomputing
        let store2 = MetaStore::new(dir.path()).unwrap();
        let (h2, _) = store2.open("bkt", "hand").unwrap().unwrap();
        assert_eq!(h.version_id, h2.version_id);
        // mutate
        let n = store.mutate("bkt", "hand").unwrap().unwrap();
        assert_ne!(n.etag, h.etag);
        assert_eq!(n.size, 9);
        let bytes = fs::read(dir.path().join("bkt/hand")).unwrap();
        assert_ne!(bytes, b"123456789");
        assert!(store.open("bkt", "missing").unwrap().is_none());
        assert!(store.open("bkt", "a").unwrap().is_none()); // a directory
        assert!(store.open("bkt", "hand/x").unwrap().is_none()); // under a file
        assert!(store.delete("bkt", "hand").unwrap());
        assert!(store.open("bkt", "hand").unwrap().is_none());
    }

    #[test]
    fn keys_unsafe_as_paths_are_stored_listed_and_deleted() {
        let dir = tempfile::tempdir().unwrap();
        let store = MetaStore::new(dir.path()).unwrap();
        store.create_bucket("bkt").unwrap();
        let keys = [
            "../x",
            "a//b",
            "dir/",
            "a/./b",
            "c\u{1}d",
            "a",
            "a/b",
            "x\\y",
            "..",
            "plain.txt",
        ];
        for (i, k) in keys.iter().enumerate() {
            store
                .put("bkt", k, format!("v{i}").as_bytes(), None, vec![])
                .unwrap();
        }
        // Nothing escaped the bucket directory or the metadata directory.
        assert!(!dir.path().join("x").exists());
        let mut want: Vec<String> = keys.iter().map(|k| k.to_string()).collect();
        want.sort();
        assert_eq!(store.list_keys("bkt", "").unwrap(), want);
        assert_eq!(
            store.list_keys("bkt", "a/").unwrap(),
            vec!["a/./b", "a//b", "a/b"]
        );
        for (i, k) in keys.iter().enumerate() {
            let (m, f) = store.open("bkt", k).unwrap().unwrap();
            assert_eq!(m.size, format!("v{i}").len() as u64, "{k:?}");
            let mut s = String::new();
            (&f).read_to_string(&mut s).unwrap();
            assert_eq!(s, format!("v{i}"), "{k:?}");
        }
        assert!(store.delete("bkt", "../x").unwrap());
        assert!(store.delete("bkt", "a").unwrap());
        assert!(store.open("bkt", "../x").unwrap().is_none());
        assert!(!store
            .list_keys("bkt", "")
            .unwrap()
            .contains(&"a".to_string()));
        // A key stored apart stays there when written again.
        store.put("bkt", "a", &b"again"[..], None, vec![]).unwrap();
        assert_eq!(store.open("bkt", "a").unwrap().unwrap().0.size, 5);
    }
}
