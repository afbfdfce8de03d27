//! The resume token of a paused download: an opaque byte string that carries everything a later
//! run (in this process or another) needs to continue: the request (bucket, key, version id,
//! canonical destination, range, part size, traffic limit, payer, checkpoint directory) and the
//! record of the finished parts (the checkpoint's content, `checkpoint::Record`), if the pause
//! came after the temp file was made.
//!
//! Bytes: `MAGIC` (16 bytes), the format version (u32, little endian), the length of the body
//! (u32 LE), the body (JSON, unknown fields refused), then the SHA-256 of everything before it.
//! A truncated or altered token fails its framing or its checksum and is refused before anything
//! is read or sent. The checksum is not a signature: a token forged with a valid checksum is
//! believed no more than a checkpoint file is. Its record goes through the same judgment
//! (`prepare`): the object's identity (a HEAD: size, ETag, Last-Modified, CRC64), the plan, the
//! temp file's identity (device, inode, birth time) and size, every finished part re-read and
//! CRC-checked (always, whatever the request says), then the whole-object CRC64 at the end. A
//! token whose record does not hold is refused with an error (it never starts afresh silently, and
//! never puts unverified bytes in place); one of an object that changed is `ObjectChanged`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::checkpoint::Record;
use super::DownloadRequest;
use crate::error::{Error, Result};

const MAGIC: &[u8; 16] = b"oss-ffi/resume\0\0";
const VERSION: u32 = 1;
const HEADER: usize = 16 + 4 + 4;
const DIGEST: usize = 32;
/// A record of 10000 parts takes about 1 MB; anything much larger is not ours.
const MAX_BODY: usize = 16 << 20;

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

fn refused(why: impl std::fmt::Display) -> Error {
    Error::validate(format!("The resume token is refused: {why}"))
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

    pub(crate) fn encode(&self) -> Vec<u8> {
        let body = serde_json::to_vec(self).unwrap_or_default();
        let mut out = Vec::with_capacity(HEADER + body.len() + DIGEST);
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&VERSION.to_le_bytes());
        out.extend_from_slice(&(body.len() as u32).to_le_bytes());
        out.extend_from_slice(&body);
        let digest = Sha256::digest(&out);
        out.extend_from_slice(&digest);
        out
    }

    /// Decodes and checks a token's framing, checksum and internal consistency.
    pub(crate) fn decode(bytes: &[u8]) -> Result<ResumeToken> {
        if bytes.len() < HEADER + DIGEST {
            return Err(refused(format!("it is truncated ({} bytes)", bytes.len())));
        }
        if &bytes[..16] != MAGIC {
            return Err(refused("it is not a resume token of this library"));
        }
        let version = u32::from_le_bytes(bytes[16..20].try_into().unwrap_or_default());
        if version != VERSION {
            return Err(refused(format!("unknown token version {version}")));
        }
        let len = u32::from_le_bytes(bytes[20..24].try_into().unwrap_or_default()) as usize;
        if len > MAX_BODY || bytes.len() != HEADER + len + DIGEST {
            return Err(refused(format!(
                "its length ({} bytes) does not match its framing (truncated or extended)",
                bytes.len()
            )));
        }
        let (signed, digest) = bytes.split_at(HEADER + len);
        if Sha256::digest(signed).as_slice() != digest {
            return Err(refused(
                "its checksum does not match its content (corrupted)",
            ));
        }
        let token: ResumeToken = serde_json::from_slice(&signed[HEADER..])
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

    #[test]
    fn round_trip_and_every_damage_is_refused() {
        let t = token();
        let bytes = t.encode();
        assert_eq!(ResumeToken::decode(&bytes).unwrap(), t);
        for n in [0, 10, HEADER, bytes.len() - 1] {
            assert!(
                ResumeToken::decode(&bytes[..n]).is_err(),
                "truncated to {n}"
            );
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(ResumeToken::decode(&longer).is_err());
        for i in 0..bytes.len() {
            let mut b = bytes.clone();
            b[i] ^= 0x10;
            let e = ResumeToken::decode(&b).unwrap_err();
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
        assert!(ResumeToken::decode(&t.encode()).is_err());
    }
}
