//! The HEAD-less start: a fresh resumable download starts with the ranged GET of its first part
//! (no HEAD). The answer tells the object (Content-Range's total, ETag, Last-Modified, CRC64,
//! version id, request id), carries the user's conditions and its body is the first part's; the
//! parts after it are pinned to its ETag. A 0-byte object (416 on any Range) and a resume (a
//! checkpoint exists) start with a HEAD. The request log of the local server shows it.

mod download_support;

use download_support::*;
use oss_emulator::{FaultAction, FaultRule, Faults, LogEntry};
use oss_ffi::cancel::Cancel;
use oss_ffi::download::{resumable_download, MIN_PART_SIZE};
use oss_ffi::object::{ObjectRequest, ResponseHeader};
use oss_ffi::ErrorKind;

const PS: u64 = MIN_PART_SIZE;

fn log_in_order(env: &Env) -> Vec<LogEntry> {
    let mut l = env.emu.log();
    l.sort_by_key(|e| e.seq);
    l
}

fn ranged_get(action: FaultAction) -> FaultRule {
    FaultRule::new(action).method("GET").ranged(true)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_objects_take_one_request_and_large_ones_no_head() {
    let env = Env::new();
    let client = env.client();
    for ckpt in [false, true] {
        for size in [1, PS - 1, PS, PS + 1, 3 * PS + 7] {
            let key = format!("hl/sizes-{size}");
            let src = env.object(&key, size);
            let out = format!("out-{ckpt}-{size}");
            let mut req = env.request(&key, &out);
            req.part_size = PS;
            req.thread_num = 3;
            if ckpt {
                req.checkpoint_dir = Some(env.ckpt_dir());
            }
            let head = client
                .head_object(&object_request(&key), &Cancel::new())
                .await
                .unwrap();
            env.emu.clear_log();
            let (r, _) = download(&client, &req, size).await;
            let meta = r.unwrap_or_else(|e| panic!("size {size}: {e}"));
            assert_same_file(&src, &env.path(&out));

            let log = log_in_order(&env);
            assert!(
                log.iter().all(|e| e.method == "GET"),
                "size {size}: a fresh download sends no HEAD: {log:?}"
            );
            let parts = size.div_ceil(PS) as usize;
            assert_eq!(log.len(), parts, "size {size}: one GET per part: {log:?}");
            // The first request asks for the first part, unpinned; the others are pinned.
            assert_eq!(
                log[0].range.as_deref(),
                Some(format!("bytes=0-{}", PS - 1).as_str())
            );
            assert_eq!(log[0].range_behavior.as_deref(), Some("standard"));
            assert_eq!(log[0].if_match, None);
            for g in &log[1..] {
                assert_eq!(g.if_match.as_deref(), Some(head.etag.as_str()));
            }
            let fetched: u64 = log.iter().map(|e| e.bytes_sent).sum();
            assert_eq!(fetched, size, "size {size}: no byte fetched twice");

            // The metadata is the whole object's, as a HEAD tells it.
            assert_eq!(meta.content_length, size);
            assert_eq!(meta.etag, head.etag);
            assert_eq!(meta.last_modified, head.last_modified);
            assert_eq!(meta.crc64, head.crc64);
            assert!(meta.crc64.is_some());
            assert_eq!(meta.version_id, head.version_id);
            assert_eq!(meta.object_type, head.object_type);
            assert_eq!(meta.request_id, log[0].request_id);
            let header = |n: &str| {
                meta.headers
                    .iter()
                    .find(|(k, _)| k == n)
                    .map(|(_, v)| v.clone())
            };
            assert_eq!(header("content-length"), Some(size.to_string()));
            assert_eq!(header("content-range"), None);
        }
    }
    assert_no_leftovers(&[env.work.path()]);
}

/// A 0-byte object refuses any Range (416 under `standard`): the download falls back to a HEAD,
/// which tells the size, and writes an empty file.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_empty_object_falls_back_to_a_head() {
    let env = Env::new();
    let client = env.client();
    let src = env.object("hl/empty", 0);
    for ckpt in [false, true] {
        let mut req = env.request("hl/empty", "empty");
        if ckpt {
            req.checkpoint_dir = Some(env.ckpt_dir());
        }
        env.emu.clear_log();
        let (r, p) = download(&client, &req, 0).await;
        let meta = r.unwrap();
        assert_eq!(meta.content_length, 0);
        assert!(meta.crc64.is_some() && !meta.etag.is_empty());
        assert_same_file(&src, &env.path("empty"));
        assert_eq!(p.calls(), vec![(0, 0, 0)]);
        let log = log_in_order(&env);
        let shape: Vec<(&str, u16)> = log.iter().map(|e| (e.method.as_str(), e.status)).collect();
        assert_eq!(shape, vec![("GET", 416), ("HEAD", 200)], "{log:?}");
        std::fs::remove_file(env.path("empty")).unwrap();
    }
    // A range on it is refused as before (the HEAD's size decides).
    let mut req = env.request("hl/empty", "empty-range");
    req.range = Some((0, -1));
    let e = resumable_download(&client, &req, &Cancel::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, "ValidateError", "{e}");
    assert_no_leftovers(&[env.work.path()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_range_starts_with_the_first_part_of_the_range() {
    let env = Env::new();
    let client = env.client();
    let size = 4 * PS + 100;
    let src = env.object("hl/range", size);
    let s = |v: u64| v as i64;
    // (range, first GET's Range header, file start, file length)
    let cases: Vec<((i64, i64), String, u64, u64)> = vec![
        (
            (s(1000), -1),
            format!("bytes=1000-{}", 1000 + PS - 1),
            1000,
            size - 1000,
        ),
        ((s(7), s(5000)), "bytes=7-5000".into(), 7, 4994),
        (
            (s(PS + 3), s(2 * PS + 2)),
            format!("bytes={}-{}", PS + 3, 2 * PS + 2),
            PS + 3,
            PS,
        ),
        (
            (s(size - 10), s(size + 5000)),
            format!("bytes={}-{}", size - 10, size + 5000),
            size - 10,
            10,
        ),
        (
            (s(2 * PS), s(size + 5000)),
            format!("bytes={}-{}", 2 * PS, 3 * PS - 1),
            2 * PS,
            size - 2 * PS,
        ),
    ];
    for (i, ((a, b), first_range, start, len)) in cases.into_iter().enumerate() {
        let out = format!("r{i}");
        let mut req = env.request("hl/range", &out);
        req.part_size = PS;
        req.range = Some((a, b));
        env.emu.clear_log();
        let (r, _) = download(&client, &req, len).await;
        let meta = r.unwrap_or_else(|e| panic!("range ({a}, {b}): {e}"));
        assert_eq!(
            meta.content_length, size,
            "the object's size, not the part's"
        );
        assert_file_is_slice(&env.path(&out), &src, start, len);
        let log = log_in_order(&env);
        assert!(log.iter().all(|e| e.method == "GET"), "{log:?}");
        assert_eq!(log.len() as u64, len.div_ceil(PS), "{log:?}");
        assert_eq!(log[0].range.as_deref(), Some(first_range.as_str()));
        assert_eq!(log[0].status, 206);
    }
    // A start at or past the end: the GET's 416 falls back to the HEAD, refused as before.
    let mut req = env.request("hl/range", "bad");
    req.range = Some((size as i64, -1));
    env.emu.clear_log();
    let e = resumable_download(&client, &req, &Cancel::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, "ValidateError", "{e}");
    assert_eq!(e.kind, ErrorKind::InvalidArgument);
    assert!(!env.path("bad").exists());
    assert_no_leftovers(&[env.work.path()]);
}

/// The user's conditions go on the first GET and give the same error (code, kind, status) as
/// a HEAD with them; nothing is written and no other request is sent.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn conditions_apply_to_the_first_get_with_the_heads_errors() {
    let env = Env::new();
    let client = env.client();
    let size = 3 * PS + 1;
    let src = env.object("hl/cond", size);
    let etag = env
        .emu
        .object_meta(BUCKET, "hl/cond")
        .unwrap()
        .unwrap()
        .etag;
    const PAST: &str = "Fri, 13 Nov 2015 14:47:53 GMT";
    const FUTURE: &str = "Fri, 01 Jan 2100 00:00:00 GMT";
    type Edit = Box<dyn Fn(&mut ObjectRequest)>;
    let failing: Vec<(&str, u16, Edit)> = vec![
        (
            "If-Match other",
            412,
            Box::new(|o| o.if_match = vec!["\"0000\"".into()]),
        ),
        ("If-None-Match the ETag", 304, {
            let etag = etag.clone();
            Box::new(move |o| o.if_none_match = vec![etag.clone()])
        }),
        (
            "If-Modified-Since the future",
            304,
            Box::new(|o| o.if_modified_since = Some(FUTURE.into())),
        ),
        (
            "If-Unmodified-Since the past",
            412,
            Box::new(|o| o.if_unmodified_since = Some(PAST.into())),
        ),
    ];
    for (what, status, edit) in failing {
        let mut head_req = object_request("hl/cond");
        edit(&mut head_req);
        let head_err = client
            .head_object(&head_req, &Cancel::new())
            .await
            .unwrap_err();
        for ckpt in [false, true] {
            let mut req = env.request("hl/cond", "cond");
            req.part_size = PS;
            if ckpt {
                req.checkpoint_dir = Some(env.ckpt_dir());
            }
            edit(&mut req.object);
            env.emu.clear_log();
            let (r, _) = download(&client, &req, size).await;
            let e = r.unwrap_err();
            assert_eq!(e.http_status, status, "{what}: {e}");
            assert_eq!(e.code, head_err.code, "{what}: {e} / HEAD: {head_err}");
            assert_eq!(e.kind, head_err.kind, "{what}: {e}");
            assert_eq!(e.kind, ErrorKind::Server, "{what}: {e}");
            assert!(!e.request_id.is_empty(), "{what}: {e}");
            let log = log_in_order(&env);
            let shape: Vec<(&str, u16)> =
                log.iter().map(|e| (e.method.as_str(), e.status)).collect();
            assert_eq!(shape, vec![("GET", status)], "{what}: {log:?}");
            assert!(!env.path("cond").exists(), "{what}");
            assert_no_leftovers(&[env.work.path()]);
        }
    }
    assert_eq!(
        client
            .head_object(
                &ObjectRequest {
                    if_match: vec!["\"0000\"".into()],
                    ..object_request("hl/cond")
                },
                &Cancel::new()
            )
            .await
            .unwrap_err()
            .code,
        "PreconditionFailed"
    );

    // Conditions that hold: the first GET carries them (If-Match as given), the parts after it
    // are pinned to the ETag.
    let given = format!("\"1111\", {etag}");
    let mut req = env.request("hl/cond", "cond-ok");
    req.part_size = PS;
    req.object.if_match = vec!["\"1111\"".into(), etag.clone()];
    req.object.if_modified_since = Some(PAST.into());
    req.object.if_unmodified_since = Some(FUTURE.into());
    env.emu.clear_log();
    download(&client, &req, size).await.0.unwrap();
    assert_same_file(&src, &env.path("cond-ok"));
    let log = log_in_order(&env);
    assert_eq!(log.len(), 4, "{log:?}");
    assert!(log.iter().all(|e| e.method == "GET"), "{log:?}");
    assert_eq!(log[0].if_match.as_deref(), Some(given.as_str()));
    for g in &log[1..] {
        assert_eq!(g.if_match.as_deref(), Some(etag.as_str()));
    }

    // A small object with a condition that holds: one request.
    env.object("hl/cond-small", 10);
    let small_etag = env
        .emu
        .object_meta(BUCKET, "hl/cond-small")
        .unwrap()
        .unwrap()
        .etag;
    let mut req = env.request("hl/cond-small", "cond-small");
    req.object.if_match = vec![small_etag.clone()];
    req.object.if_none_match = vec!["\"2222\"".into()];
    env.emu.clear_log();
    download(&client, &req, 10).await.0.unwrap();
    let log = log_in_order(&env);
    assert_eq!(log.len(), 1, "{log:?}");
    assert_eq!(log[0].if_match.as_deref(), Some(small_etag.as_str()));
    assert_no_leftovers(&[env.work.path()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn version_ids_go_on_the_first_get() {
    let env = Env::new();
    let client = env.client();
    let size = 2 * PS + 5;
    let src = env.object("hl/ver", size);
    let version = env
        .emu
        .object_meta(BUCKET, "hl/ver")
        .unwrap()
        .unwrap()
        .version_id;
    let mut req = env.request("hl/ver", "ver");
    req.part_size = PS;
    req.object.version_id = Some(version.clone());
    env.emu.clear_log();
    let meta = download(&client, &req, size).await.0.unwrap();
    assert_same_file(&src, &env.path("ver"));
    assert_eq!(meta.version_id.as_deref(), Some(version.as_str()));
    let log = log_in_order(&env);
    assert_eq!(log.len(), 3, "{log:?}");
    for g in &log {
        assert_eq!(g.method, "GET");
        assert!(
            g.query.contains(&format!("versionId={version}")),
            "{}",
            g.query
        );
    }
    // A version that does not exist: the HEAD's error, from the first GET.
    let mut head_req = object_request("hl/ver");
    head_req.version_id = Some("no-such-version".into());
    let head_err = client
        .head_object(&head_req, &Cancel::new())
        .await
        .unwrap_err();
    req.object.version_id = Some("no-such-version".into());
    env.emu.clear_log();
    let e = download(&client, &req, size).await.0.unwrap_err();
    assert_eq!(e.code, head_err.code, "{e}");
    assert_eq!(e.code, "NoSuchVersion", "{e}");
    assert_eq!(e.http_status, 404);
    assert_eq!(env.emu.log().len(), 1);
    assert_no_leftovers(&[env.work.path()]);
}

/// The object replaced after the first answer: the next part's pinned GET finds another ETag,
/// the download fails with ObjectChanged and leaves nothing; the next call gets the new version.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_object_replaced_after_the_first_answer_is_object_changed() {
    let env = Env::new();
    let client = env.client();
    let size = 6 * PS + 3;
    for (ckpt, threads) in [(false, 1u32), (true, 1), (false, 4), (true, 4)] {
        let key = format!("hl/mutate-{ckpt}-{threads}");
        env.object(&key, size);
        let old = env.emu.object_meta(BUCKET, &key).unwrap().unwrap().etag;
        // The second GET (the first pinned one) replaces the object before it is served.
        env.faults(Faults::none().with(ranged_get(FaultAction::Mutate).after(1).count(1)));
        let mut req = env.request(&key, "mut");
        req.part_size = PS;
        req.thread_num = threads;
        if ckpt {
            req.checkpoint_dir = Some(env.ckpt_dir());
        }
        env.emu.clear_log();
        let e = download(&client, &req, size).await.0.unwrap_err();
        let new = env.emu.object_meta(BUCKET, &key).unwrap().unwrap().etag;
        assert_ne!(old, new);
        assert_eq!(e.kind, ErrorKind::ObjectChanged, "{e}");
        assert_eq!(e.code, "ObjectChanged");
        assert!(e.message.contains(&old) && e.message.contains(&new), "{e}");
        assert!(!env.path("mut").exists());
        assert_no_leftovers(&[env.work.path()]);
        let log = log_in_order(&env);
        assert_eq!(log[0].method, "GET", "{log:?}");
        assert_eq!(log[0].if_match, None);
        assert!(
            log.iter()
                .any(|g| g.method == "GET" && g.if_match.as_deref() == Some(old.as_str())),
            "{log:?}"
        );
        // The next call downloads the new version.
        env.faults(Faults::none());
        download(&client, &req, size).await.0.unwrap();
        assert_same_file(&env.emu.object_path(BUCKET, &key), &env.path("mut"));
        std::fs::remove_file(env.path("mut")).unwrap();
    }
}

/// The first answer's body cut mid-way: the first part goes on from the cut, pinned.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_cut_first_answer_is_resumed_from_the_cut() {
    let env = Env::new();
    let client = env.client();
    let size = 2 * PS + 9;
    let src = env.object("hl/cut", size);
    let etag = env.emu.object_meta(BUCKET, "hl/cut").unwrap().unwrap().etag;
    env.faults(
        Faults::none().with(
            ranged_get(FaultAction::Cut {
                bytes: Some(40_000),
            })
            .count(1),
        ),
    );
    let mut req = env.request("hl/cut", "cut");
    req.part_size = PS;
    req.thread_num = 1;
    env.emu.clear_log();
    download(&client, &req, size).await.0.unwrap();
    assert_same_file(&src, &env.path("cut"));
    let log = log_in_order(&env);
    assert!(log.iter().all(|e| e.method == "GET"), "{log:?}");
    assert_eq!(
        log[0].range.as_deref(),
        Some(format!("bytes=0-{}", PS - 1).as_str())
    );
    let (a, b) = parse_range(log[1].range.as_deref().unwrap());
    assert!(a <= 40_000 && b == PS - 1, "{log:?}");
    assert_eq!(log[1].if_match.as_deref(), Some(etag.as_str()));
}

/// The first GET failing past the client's retries (a 503 burst): the download starts with a
/// HEAD instead, as before, and its parts' retries finish it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failing_first_get_falls_back_to_a_head() {
    let env = Env::new();
    let client = env.client();
    let size = 3 * PS + 1;
    let src = env.object("hl/burst", size);
    let tries = client.config().max_retries as u64 + 1;
    env.faults(Faults::fail_next_gets(tries, 503));
    env.emu.clear_log();
    download(&client, &req_of(&env, "hl/burst", "burst"), size)
        .await
        .0
        .unwrap();
    assert_same_file(&src, &env.path("burst"));
    let log = log_in_order(&env);
    assert!(log[..tries as usize]
        .iter()
        .all(|e| e.method == "GET" && e.status == 503));
    assert_eq!(log[tries as usize].method, "HEAD", "{log:?}");
    assert_eq!(log.len() as u64, tries + 1 + 4, "{log:?}");
}

fn req_of(env: &Env, key: &str, out: &str) -> oss_ffi::download::DownloadRequest {
    let mut req = env.request(key, out);
    req.part_size = PS;
    req
}

/// A resume (a checkpoint exists) starts with a HEAD and fetches only the missing parts.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resume_starts_with_a_head() {
    let env = Env::new();
    let client = env.client();
    let size = 6 * PS + 3;
    let src = env.object("hl/resume", size);
    env.faults(
        Faults::none().with(
            ranged_get(FaultAction::Status {
                status: 403,
                code: Some("AccessDenied".into()),
            })
            .after(3)
            .count(1),
        ),
    );
    let mut req = req_of(&env, "hl/resume", "resume");
    req.thread_num = 1;
    req.checkpoint_dir = Some(env.ckpt_dir());
    let e = download(&client, &req, size).await.0.unwrap_err();
    assert_eq!(e.code, "AccessDenied", "{e}");
    assert!(checkpoint_in(&env.ckpt_dir()).is_some());
    env.faults(Faults::none());
    env.emu.clear_log();
    let (r, p) = download(&client, &req, size).await;
    r.unwrap();
    assert_eq!(p.first(), Some(3 * PS), "three parts were on disk");
    assert_same_file(&src, &env.path("resume"));
    let log = log_in_order(&env);
    assert_eq!(log[0].method, "HEAD", "{log:?}");
    assert_eq!(log.len(), 1 + 4, "{log:?}");
    assert!(log[1..]
        .iter()
        .all(|g| parse_range(g.range.as_deref().unwrap()).0 >= 3 * PS));
    assert_no_leftovers(&[env.work.path()]);
}

/// The metadata is the object's own, as the HEAD told it: the response-* overrides (which the
/// parts still send) are not on the first GET.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_metadata_has_no_response_overrides() {
    let env = Env::new();
    let client = env.client();
    let size = 2 * PS + 1;
    let src = env.object("hl/over", size);
    let head = client
        .head_object(&object_request("hl/over"), &Cancel::new())
        .await
        .unwrap();
    let mut req = req_of(&env, "hl/over", "over");
    req.object.response_headers = vec![
        (ResponseHeader::ContentType, "text/x-override".into()),
        (ResponseHeader::CacheControl, "no-store".into()),
    ];
    env.emu.clear_log();
    let meta = download(&client, &req, size).await.0.unwrap();
    assert_same_file(&src, &env.path("over"));
    assert_eq!(meta.content_type, head.content_type);
    assert_ne!(meta.content_type, "text/x-override");
    assert!(!meta.headers.iter().any(|(k, _)| k == "cache-control"));
    let log = log_in_order(&env);
    assert!(!log[0].query.contains("response-"), "{}", log[0].query);
    assert!(log[1..]
        .iter()
        .all(|g| g.query.contains("response-content-type=")));
}
