//! The resume token of a paused download: an opaque byte string that carries everything a later
//! run (in this process or another) needs to continue: the request (bucket, key, version id,
//! canonical destination, range, part size, traffic limit, payer, checkpoint directory) and the
//! record of the finished parts (the checkpoint's content, `checkpoint::Record`), if the pause
//! came after the temp file was made.
//!
//! Bytes: `MAGIC` (16 bytes), the format version (u32, little endian), the length of the body
//! (u32 LE), the body (JSON, unknown fields refused), then the HMAC-SHA256 of everything before
//! it under the client's resume token key (`resume_key`: the configured key, or the user's key
//! file). A token is a download request (it names the bucket, the key and the destination), so
//! it is authenticated, not merely checksummed: one whose MAC does not verify under this
//! client's key (edited and re-sealed with a plain checksum, sealed under another key, damaged,
//! truncated) is refused before anything is read, sent or written. The comparison is
//! constant-time (`hmac`'s `verify_slice`). Format 1 (this library's earlier tokens, sealed with
//! an unkeyed SHA-256 that anyone could recompute) is refused with a message that says so.
//!
//! A token that verifies is still judged (defence in depth, and the object may have changed):
//! its record goes through the same judgment as a checkpoint (`prepare`): the object's identity
//! (a HEAD: size, ETag, Last-Modified, CRC64), the plan, the temp file's identity (device,
//! inode, birth time) and size, every finished part re-read and CRC-checked (always, whatever
//! the request says), then the whole-object CRC64 at the end. A token whose record does not hold
//! is refused with an error (it never starts afresh silently, and never puts unverified bytes in
//! place); one of an object that changed is `ObjectChanged`.

use serde::{Deserialize, Serialize};

use super::checkpoint::Record;
use super::request::DownloadRequest;
use super::resume_key::{refused, Framing, ResumeTokenKey};
use crate::error::Result;

const MAGIC: &[u8; 16] = b"oss-ffi/resume\0\0";
/// 2: sealed with HMAC-SHA256 under the resume token key. (1: an unkeyed SHA-256; refused.)
const VERSION: u32 = 2;
const UNKEYED_VERSION: u32 = 1;
#[cfg(test)]
const HEADER: usize = 16 + 4 + 4;
/// The framing (`resume_key::Framing`); a record of 10000 parts takes about 1 MB, anything
/// much larger than 16 MiB is not ours.
const FRAMING: Framing = Framing {
    magic: MAGIC,
    version: VERSION,
    max_body: 16 << 20,
    kind: "",
};
const UNKEYED: &str = "it was made by an earlier release of this library (token format 1), whose tokens \
                       were sealed with an unkeyed checksum that anyone who can edit a stored token can \
                       recompute; such tokens are no longer accepted. Start the download again";

/// What a token says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct ResumeToken {
    pub bucket: String,
    pub key: String,
    pub version_id: Option<String>,
    /// The canonical destination (`validate::Paths::dest`).
    pub file_path: String,
    pub range: Option<(i64, i64)>,
    pub part_size: u64,
    pub traffic_limit: Option<u64>,
    pub request_payer: bool,
    pub checkpoint_dir: Option<String>,
    /// The finished parts and the temp file they are in; `None`: nothing was written yet.
    pub record: Option<Record>,
}

impl ResumeToken {
    /// The token of a paused download of `req` to `dest` (canonical).
    pub(crate) fn new(
        req: &DownloadRequest,
        dest: &std::path::Path,
        record: Option<Record>,
    ) -> Self {
        ResumeToken {
            bucket: req.object.bucket.clone(),
            key: req.object.key.clone(),
            version_id: req.object.version_id.clone(),
            file_path: dest.to_string_lossy().into_owned(),
            range: req.range,
            part_size: req.part_size,
            traffic_limit: req.object.traffic_limit,
            request_payer: req.object.request_payer,
            // Absolute, so that another process (another working directory) finds it.
            checkpoint_dir: req.checkpoint_dir.as_ref().map(|d| {
                std::path::absolute(d)
                    .unwrap_or_else(|_| d.clone())
                    .to_string_lossy()
                    .into_owned()
            }),
            record,
        }
    }

    /// The token's bytes, sealed with `key`.
    pub(crate) fn encode(&self, key: &ResumeTokenKey) -> Vec<u8> {
        let body = serde_json::to_vec(self).unwrap_or_default();
        FRAMING.seal(&body, key).unwrap_or_default()
    }

    /// Decodes a token and checks its framing, its MAC under `key` and its internal
    /// consistency.
    pub(crate) fn decode(bytes: &[u8], key: &ResumeTokenKey) -> Result<ResumeToken> {
        let body = FRAMING.open(bytes, key, &[(UNKEYED_VERSION, UNKEYED)])?;
        let token: ResumeToken = serde_json::from_slice(body)
            .map_err(|e| refused(format!("its content does not parse: {e}")))?;
        if let Some(r) = &token.record {
            let same = r.bucket == token.bucket
                && r.key == token.key
                && r.version_id == token.version_id
                && r.range == token.range
                && r.requested_part_size == token.part_size
                && r.dest_path == token.file_path;
            if !same {
                return Err(refused(
                    "its record describes another download than its request",
                ));
            }
        }
        Ok(token)
    }

    /// The download request the token continues (threads, progress, direct I/O are the caller's
    /// to set; the finished parts are always re-read and checked).
    pub(crate) fn request(&self) -> DownloadRequest {
        let mut req = DownloadRequest::new(self.bucket.clone(), self.key.clone());
        req.object.version_id = self.version_id.clone();
        req.object.traffic_limit = self.traffic_limit;
        req.object.request_payer = self.request_payer;
        req.file_path = Some(self.file_path.clone().into());
        req.range = self.range;
        req.part_size = self.part_size;
        req.checkpoint_dir = self.checkpoint_dir.clone().map(Into::into);
        req.verify_parts_on_resume = true;
        req
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn token() -> ResumeToken {
        let mut req = DownloadRequest::new("bkt", "k");
        req.range = Some((1, 9));
        ResumeToken::new(&req, std::path::Path::new("/tmp/x"), None)
    }

    fn key() -> ResumeTokenKey {
        ResumeTokenKey::new(&[7u8; 32]).unwrap()
    }

    /// The token's framing with `version` and `body`, sealed with an unkeyed SHA-256 (what
    /// format 1 was, and what anyone can compute).
    fn unkeyed(version: u32, body: &[u8]) -> Vec<u8> {
        use sha2::{Digest, Sha256};
        let mut out = MAGIC.to_vec();
        out.extend_from_slice(&version.to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(body);
        let d = Sha256::digest(&out);
        out.extend_from_slice(&d);
        out
    }

    #[test]
    fn round_trip_and_every_damage_is_refused() {
        let t = token();
        let bytes = t.encode(&key());
        assert_eq!(ResumeToken::decode(&bytes, &key()).unwrap(), t);
        for n in [0, 10, HEADER, bytes.len() - 1] {
            assert!(
                ResumeToken::decode(&bytes[..n], &key()).is_err(),
                "truncated to {n}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(ResumeToken::decode(&longer, &key()).is_err());
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            let e = ResumeToken::decode(&b, &key()).unwrap_err();
            assert!(
                e.message.starts_with("The resume token is refused"),
                "{e:?}"
            );
        }
    }

    #[test]
    fn a_record_of_another_request_is_refused() {
        use crate::download::checkpoint::ObjectIdentity;
        use crate::download::plan::Plan;
        let mut t = token();
        let plan = Plan::new(0, 10, 100 * 1024);
        let id = ObjectIdentity {
            size: 10,
            etag: "e".into(),
            last_modified: "m".into(),
            crc64: None,
        };
        t.record = Some(Record::new(
            "bkt",
            "other",
            None,
            id,
            t.range,
            t.part_size,
            &plan,
            std::path::Path::new("/tmp/x"),
            std::path::Path::new("/tmp/x.temp"),
        ));
        assert!(ResumeToken::decode(&t.encode(&key()), &key()).is_err());
    }

    #[test]
    fn edited_and_resealed_tokens_are_refused() {
        let mut t = token();
        t.file_path = "/home/victim/.bashrc".into();
        t.bucket = "attacker".into();
        t.record = None;
        let body = serde_json::to_vec(&t).unwrap();
        // Re-sealed with the unkeyed SHA-256 in the current format.
        let e = ResumeToken::decode(&unkeyed(VERSION, &body), &key()).unwrap_err();
        assert!(e.message.contains("MAC does not verify"), "{}", e.message);
        // Sealed under another key (another user's key file, another configured key).
        let other = ResumeTokenKey::new(&[8u8; 32]).unwrap();
        let e = ResumeToken::decode(&t.encode(&other), &key()).unwrap_err();
        assert!(e.message.contains("MAC does not verify"), "{}", e.message);
        assert_eq!(e.code, "ValidateError");
        // A token of the earlier release (format 1, unkeyed): refused, saying why.
        let e = ResumeToken::decode(&unkeyed(1, &serde_json::to_vec(&token()).unwrap()), &key())
            .unwrap_err();
        assert!(e.message.contains("earlier release"), "{}", e.message);
        assert!(e.message.contains("unkeyed checksum"), "{}", e.message);
        // The genuine token under the right key still decodes.
        assert_eq!(ResumeToken::decode(&t.encode(&key()), &key()).unwrap(), t);
    }
}
