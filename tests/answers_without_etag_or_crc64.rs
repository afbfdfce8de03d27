//! A server that sends neither ETag nor CRC64 (a proxy, a gateway, another S3-like server; never
//! OSS itself) must not get mixed versions reported as verified. The server here is the test's
//! own (tests/support/hostile_http.rs, a hand-written HTTP/1.1 server on loopback, not the
//! emulator): it answers ranged GETs and HEADs of one object and replaces the object after the
//! first request, with the same size and the same Last-Modified (a rewrite within the same
//! second), so nothing but an ETag or a CRC64 could tell the two versions apart.
//!
//! What must hold: a download that needs more than the first answer is refused before its temp
//! file exists when the answers carry no ETag (nothing can pin the later requests to the first
//! answer's version); a GetObject cut mid-body is not resumed from another version; a download
//! that succeeds without a whole-object CRC64 says it is not verified (`ObjectMeta::verified`),
//! one with it says it is.

mod support;

use std::sync::Arc;
use std::time::Duration;

use oss_ffi::cancel::Cancel;
use oss_ffi::client::Client;
use oss_ffi::config::Config;
use oss_ffi::download::{resumable_download, DownloadRequest};
use oss_ffi::object::ObjectRequest;
use support::hostile_http::{head, HostileServer, Request, Step};
use support::pattern;

const BUCKET: &str = "proxy-bucket";
const PART: u64 = 100 * 1024;
const SIZE: usize = 3 * PART as usize + 17;

/// What the server puts in its answers.
#[derive(Clone, Copy)]
struct Shape {
    etag: bool,
    crc64: bool,
    /// The object is replaced after the first request.
    switch: bool,
    /// Only the first answer has an ETag (later answers drop it and ignore If-Match).
    etag_first_only: bool,
    /// The first answer's body is cut after this many bytes (then the connection closes).
    cut_first: Option<usize>,
}

fn versions() -> [Vec<u8>; 2] {
    [pattern(SIZE, 1), pattern(SIZE, 2)]
}

/// `bytes=a-b` / `bytes=a-`.
fn range_of(r: &Request, len: usize) -> Option<(usize, usize)> {
    let spec = r.header("range")?.strip_prefix("bytes=")?;
    let (a, b) = spec.split_once('-')?;
    let a: usize = a.parse().ok()?;
    let b: usize = if b.is_empty() {
        len - 1
    } else {
        b.parse::<usize>().ok()?.min(len - 1)
    };
    Some((a, b))
}

fn server(shape: Shape) -> HostileServer {
    let vs = Arc::new(versions());
    HostileServer::start(move |r, n| {
        let v = if shape.switch && n > 0 { 1 } else { 0 };
        let data = &vs[v];
        let etag = format!("\"{}\"", if v == 0 { "A" } else { "B" }.repeat(32));
        let mut h: Vec<(&str, String)> = vec![
            ("Last-Modified", "Tue, 01 Dec 2026 07:00:00 GMT".into()),
            ("x-oss-request-id", format!("PROXY{n:019}")),
            ("Content-Type", "application/octet-stream".into()),
        ];
        if shape.etag && !(shape.etag_first_only && n > 0) {
            h.push(("ETag", etag.clone()));
            if let Some(want) = r.header("if-match") {
                if want != etag {
                    let hh = [("Content-Length", "0"), ("ETag", etag.as_str())];
                    return vec![Step::Send(head("412 Precondition Failed", &hh))];
                }
            }
        }
        if shape.crc64 {
            h.push((
                "x-oss-hash-crc64ecma",
                oss_ffi::crc64::update(0, data).to_string(),
            ));
        }
        let (status, body) = match range_of(r, data.len()) {
            Some((a, b)) => {
                h.push(("Content-Range", format!("bytes {a}-{b}/{}", data.len())));
                ("206 Partial Content", &data[a..=b])
            }
            None => ("200 OK", &data[..]),
        };
        h.push(("Content-Length", body.len().to_string()));
        let hh: Vec<(&str, &str)> = h.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let mut steps = vec![Step::Send(head(status, &hh))];
        if r.method != "HEAD" {
            let send = match (n, shape.cut_first) {
                (0, Some(cut)) => &body[..cut.min(body.len())],
                _ => body,
            };
            steps.push(Step::Send(send.to_vec()));
        }
        steps
    })
}

fn client(s: &HostileServer) -> Client {
    s.client(Config {
        retry_base_delay: Duration::from_millis(5),
        is_path_style: true,
        ..Config::default()
    })
}

fn request(dest: &std::path::Path) -> DownloadRequest {
    let mut r = DownloadRequest::new(BUCKET, "obj");
    r.file_path = Some(dest.to_path_buf());
    r.part_size = PART;
    r.thread_num = 3;
    r
}

fn leftovers(dir: &std::path::Path, dest_name: &str) -> Vec<String> {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n != dest_name)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parts_of_an_object_without_etag_are_refused_not_mixed() {
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("out.bin");
    std::fs::write(&dest, b"the good old content").unwrap();
    let s = server(Shape {
        etag: false,
        crc64: false,
        switch: true,
        etag_first_only: false,
        cut_first: None,
    });
    let c = client(&s);
    let result = resumable_download(&c, &request(&dest), &Cancel::new()).await;
    let written = std::fs::read(&dest).unwrap();
    let [a, b] = versions();
    assert!(
        written != [&a[..PART as usize], &b[PART as usize..]].concat(),
        "parts of two versions were put in place as one object: {result:?}"
    );
    let err = result.expect_err("an object without ETag needs more than one request: refused");
    assert!(err.message.contains("no ETag"), "a clear error: {err}");
    assert_eq!(
        written, b"the good old content",
        "the destination is untouched"
    );
    assert!(
        leftovers(work.path(), "out.bin").is_empty(),
        "nothing left: {:?}",
        leftovers(work.path(), "out.bin")
    );
    assert_eq!(
        s.requests().len(),
        1,
        "nothing asked after the first answer"
    );

    // The same with a checkpoint directory: refused as well, before any checkpoint exists.
    let ckpt = work.path().join("ckpt");
    std::fs::create_dir(&ckpt).unwrap();
    let mut r = request(&dest);
    r.checkpoint_dir = Some(ckpt.clone());
    let err = resumable_download(&c, &r, &Cancel::new())
        .await
        .expect_err("refused with a checkpoint directory too");
    assert!(err.message.contains("no ETag"), "{err}");
    assert_eq!(std::fs::read(&dest).unwrap(), b"the good old content");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_an_etag_the_same_switch_is_caught() {
    // The control: the same server with an ETag (and still no CRC64): the parts are pinned
    // (If-Match), the switch is ObjectChanged, nothing is put in place.
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("out.bin");
    let s = server(Shape {
        etag: true,
        crc64: false,
        switch: true,
        etag_first_only: false,
        cut_first: None,
    });
    let err = resumable_download(&client(&s), &request(&dest), &Cancel::new())
        .await
        .expect_err("a pinned part of another version is refused");
    assert_eq!(err.kind, oss_ffi::ErrorKind::ObjectChanged, "{err}");
    assert!(!dest.exists());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn later_answers_that_drop_the_etag_are_refused_not_mixed() {
    // Only the first answer has an ETag; the later ones (another version) drop it and ignore
    // If-Match: an answer to a pinned request must say its ETag.
    let work = tempfile::tempdir().unwrap();
    let dest = work.path().join("out.bin");
    let s = server(Shape {
        etag: true,
        crc64: false,
        switch: true,
        etag_first_only: true,
        cut_first: None,
    });
    let result = resumable_download(&client(&s), &request(&dest), &Cancel::new()).await;
    let err = result.expect_err("answers without their ETag cannot be checked against the pin");
    assert!(err.message.contains("has no ETag"), "{err}");
    assert!(!dest.exists());
    assert!(leftovers(work.path(), "out.bin").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_getobject_without_etag_is_not_resumed_from_another_version() {
    let s = server(Shape {
        etag: false,
        crc64: false,
        switch: true,
        etag_first_only: false,
        cut_first: Some(1000),
    });
    let c = client(&s);
    let req = ObjectRequest {
        bucket: BUCKET.into(),
        key: "obj".into(),
        ..Default::default()
    };
    let mut got = Vec::new();
    let result = c
        .get_object_with(&req, None, None, &Cancel::new(), |d| {
            got.extend_from_slice(d);
            Ok(())
        })
        .await;
    let [a, b] = versions();
    assert!(
        got != [&a[..1000], &b[1000..]].concat(),
        "a GetObject returned two versions' bytes as one: {result:?}"
    );
    let err = result.expect_err("a cut body without ETag cannot be resumed safely");
    assert!(err.message.contains("no ETag"), "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_download_without_a_whole_object_crc64_is_reported_unverified() {
    let work = tempfile::tempdir().unwrap();
    let [a, _] = versions();
    for (etag, crc64, part, expect_verified) in [
        // One request, no ETag and no CRC64: it succeeds, and says it was not verified.
        (false, false, SIZE as u64, false),
        // Several parts pinned to an ETag, no CRC64: the same.
        (true, false, PART, false),
        // With the CRC64: verified.
        (true, true, PART, true),
        (false, true, SIZE as u64, true),
    ] {
        let s = server(Shape {
            etag,
            crc64,
            switch: false,
            etag_first_only: false,
            cut_first: None,
        });
        let c = client(&s);
        let dest = work.path().join(format!("out-{etag}-{crc64}-{part}.bin"));
        let mut r = request(&dest);
        r.part_size = part;
        let meta = resumable_download(&c, &r, &Cancel::new())
            .await
            .unwrap_or_else(|e| panic!("etag {etag} crc64 {crc64}: {e}"));
        assert_eq!(std::fs::read(&dest).unwrap(), a);
        assert_eq!(
            meta.verified, expect_verified,
            "download, etag {etag} crc64 {crc64} part {part}"
        );
        // GetObject says the same.
        let req = ObjectRequest {
            bucket: BUCKET.into(),
            key: "obj".into(),
            ..Default::default()
        };
        let meta = c
            .get_object_with(&req, None, None, &Cancel::new(), |_| Ok(()))
            .await
            .unwrap();
        assert_eq!(meta.verified, crc64, "GetObject, crc64 {crc64}");
        // A range is never verified end to end (no CRC64 of a range is published).
        let mut r = request(&dest);
        r.range = Some((0, 999));
        r.part_size = SIZE as u64;
        let meta = resumable_download(&c, &r, &Cancel::new()).await.unwrap();
        assert!(!meta.verified, "a range, crc64 {crc64}");
    }
}
