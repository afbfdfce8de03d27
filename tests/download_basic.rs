//! Resumable download: byte-identical results across sizes, ranges, thread counts and signature
//! versions; request shape (pinned, ranged, standard behaviour); validation before any traffic.

mod download_support;

use download_support::*;
use oss_ffi::cancel::Cancel;
use oss_ffi::download::{resumable_download, DownloadRequest, MIN_PART_SIZE};
use oss_ffi::ErrorKind;

const PS: u64 = MIN_PART_SIZE;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sizes_around_part_boundaries_are_byte_identical() {
    let env = Env::new();
    let client = env.client();
    for size in [
        0,
        1,
        PS - 1,
        PS,
        PS + 1,
        2 * PS - 1,
        2 * PS + 1,
        37 * PS + 5,
    ] {
        let key = format!("sizes/obj-{size}");
        let src = env.object(&key, size);
        let mut req = env.request(&key, &format!("out-{size}"));
        req.part_size = PS;
        let (r, p) = download(&client, &req, size).await;
        let meta = r.unwrap_or_else(|e| panic!("size {size}: {e}"));
        assert_eq!(meta.content_length, size);
        let emu_meta = env.emu.object_meta(BUCKET, &key).unwrap().unwrap();
        assert_eq!(meta.etag, emu_meta.etag);
        assert_eq!(meta.crc64, Some(emu_meta.crc64));
        assert!(!meta.request_id.is_empty());
        assert!(!meta.last_modified.is_empty());
        assert_same_file(&src, &env.path(&format!("out-{size}")));
        if size == 0 {
            assert_eq!(p.calls(), vec![(0, 0, 0)]);
        }
    }
    assert_no_leftovers(&[env.work.path()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thread_counts_1_to_32() {
    let env = Env::new();
    let client = env.client();
    let size = 33 * PS + 777;
    let src = env.object("threads/obj", size);
    for threads in [1u32, 2, 3, 4, 7, 8, 16, 31, 32] {
        let mut req = env.request("threads/obj", &format!("t{threads}"));
        req.part_size = PS;
        req.thread_num = threads;
        env.emu.clear_log();
        let (r, _) = download(&client, &req, size).await;
        r.unwrap_or_else(|e| panic!("{threads} threads: {e}"));
        assert_same_file(&src, &env.path(&format!("t{threads}")));
        assert_eq!(gets(&env, "threads/obj").len(), 34);
    }
    // More threads than parts: still correct.
    let mut req = env.request("threads/obj", "t-many");
    req.part_size = 8 * MIB;
    req.thread_num = 32;
    download(&client, &req, size).await.0.unwrap();
    assert_same_file(&src, &env.path("t-many"));
    assert_no_leftovers(&[env.work.path()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn part_requests_are_pinned_ranged_and_standard() {
    let env = Env::new();
    let client = env.client();
    let size = 5 * PS + 3;
    env.object("pin/obj", size);
    let etag = env
        .emu
        .object_meta(BUCKET, "pin/obj")
        .unwrap()
        .unwrap()
        .etag;
    let mut req = env.request("pin/obj", "pinned");
    req.part_size = PS;
    // The user's own condition applies to the first GET only (here it is the ETag anyway; the
    // conditions of the first request are tested in download_headless.rs).
    req.object.if_match = vec![etag.clone()];
    download(&client, &req, size).await.0.unwrap();
    let log = env.emu.log();
    let heads: Vec<_> = log.iter().filter(|e| e.method == "HEAD").collect();
    assert!(heads.is_empty(), "a fresh download sends no HEAD: {log:?}");
    let gets: Vec<_> = log.iter().filter(|e| e.method == "GET").collect();
    assert_eq!(gets.len(), 6);
    let mut starts: Vec<u64> = Vec::new();
    for g in &gets {
        assert_eq!(g.if_match.as_deref(), Some(etag.as_str()));
        assert_eq!(g.range_behavior.as_deref(), Some("standard"));
        assert_eq!(g.status, 206);
        let (a, b) = parse_range(g.range.as_deref().unwrap());
        assert!(b - a < PS);
        starts.push(a);
    }
    starts.sort();
    assert_eq!(starts, (0..6).map(|i| i * PS).collect::<Vec<_>>());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ranges_write_only_the_range() {
    let env = Env::new();
    let client = env.client();
    let size = 3 * PS + 100;
    let src = env.object("range/obj", size);
    let cases: Vec<(i64, i64, u64, u64)> = vec![
        (0, 0, 0, 1),                                    // first byte
        (size as i64 - 1, size as i64 - 1, size - 1, 1), // last byte
        (size as i64 - 1, -1, size - 1, 1),              // last byte, to the end
        (1000, 250_000, 1000, 249_001),                  // middle, several parts
        (12345, -1, 12345, size - 12345),                // to the end
        (5, size as i64 + 1000, 5, size - 5),            // end past the object: clamped
        (0, -1, 0, size),                                // everything
    ];
    for (i, (s, e, start, len)) in cases.into_iter().enumerate() {
        let ckpt = env.ckpt_dir();
        let mut req = env.request("range/obj", &format!("r{i}"));
        req.part_size = PS;
        req.range = Some((s, e));
        req.checkpoint_dir = Some(ckpt);
        let (r, _) = download(&client, &req, len).await;
        let meta = r.unwrap_or_else(|err| panic!("range ({s}, {e}): {err}"));
        assert_eq!(meta.content_length, size, "meta describes the object");
        assert_file_is_slice(&env.path(&format!("r{i}")), &src, start, len);
    }
    // A start at or past the end is refused.
    let mut req = env.request("range/obj", "bad-range");
    req.range = Some((size as i64, -1));
    let e = resumable_download(&client, &req, &Cancel::new())
        .await
        .unwrap_err();
    assert_eq!(e.code, "ValidateError", "{e}");
    assert!(!env.path("bad-range").exists());
    assert_no_leftovers(&[env.work.path()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signature_v1_and_v4() {
    let env = Env::new();
    let size = 4 * PS + 1;
    let src = env.object("sig/obj v4+é", size);
    for v4 in [false, true] {
        let client = client_for(&env.emu.endpoint(), v4);
        env.emu.clear_log();
        let mut req = env.request("sig/obj v4+é", &format!("sig-{v4}"));
        req.part_size = PS;
        req.object.version_id = None;
        download(&client, &req, size).await.0.unwrap();
        assert_same_file(&src, &env.path(&format!("sig-{v4}")));
        let want = if v4 { "v4" } else { "v1" };
        assert!(env
            .emu
            .log()
            .iter()
            .all(|e| e.auth == want && e.status < 300));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn crc_mismatch_is_detected_and_nothing_is_put_in_place() {
    let env = Env::new();
    let client = env.client();
    let size = 3 * PS;
    let src = env.object("crc/obj", size);
    env.emu.object_meta(BUCKET, "crc/obj").unwrap(); // metadata (CRC) recorded now
                                                     // Change bytes behind the emulator's back, keeping size and mtime: it keeps the old CRC.
    let f = std::fs::OpenOptions::new().write(true).open(&src).unwrap();
    let mtime = f.metadata().unwrap().modified().unwrap();
    std::os::unix::fs::FileExt::write_all_at(&f, b"XYZ", PS + 10).unwrap();
    f.set_modified(mtime).unwrap();
    drop(f);
    for ckpt in [false, true] {
        let mut req = env.request("crc/obj", "crc-out");
        req.part_size = PS;
        if ckpt {
            req.checkpoint_dir = Some(env.ckpt_dir());
        }
        let (r, _) = download(&client, &req, size).await;
        let e = r.unwrap_err();
        assert_eq!(e.code, "CrcCheckError", "{e}");
        assert_eq!(e.kind, ErrorKind::CrcMismatch);
        assert!(!env.path("crc-out").exists());
        assert_no_leftovers(&[env.work.path()]);
    }
    // With CRC checking off the (server-side corrupt) bytes are accepted as they are.
    let client = env.client_with(|c| c.enable_crc64 = false);
    let mut req = env.request("crc/obj", "crc-off");
    req.part_size = PS;
    download(&client, &req, size).await.0.unwrap();
    assert_same_file(&src, &env.path("crc-off"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn validation_happens_before_any_traffic() {
    let env = Env::new();
    let client = env.client();
    env.object("v/obj", 10);
    let base = env.request("v/obj", "v-out");
    let missing_dir = env.path("no-such-dir");
    let a_dir = env.work.path().to_path_buf();
    type Edit = Box<dyn Fn(&mut DownloadRequest)>;
    let cases: Vec<(&str, Edit)> = vec![
        ("short bucket", Box::new(|r| r.object.bucket = "ab".into())),
        (
            "upper-case bucket",
            Box::new(|r| r.object.bucket = "Abc".into()),
        ),
        ("dash bucket", Box::new(|r| r.object.bucket = "abc-".into())),
        ("empty key", Box::new(|r| r.object.key = String::new())),
        ("long key", Box::new(|r| r.object.key = "k".repeat(1024))),
        ("backslash key", Box::new(|r| r.object.key = "\\k".into())),
        ("small part", Box::new(|r| r.part_size = 100 * 1024 - 1)),
        ("huge part", Box::new(|r| r.part_size = 5 * 1024 * MIB + 1)),
        ("no threads", Box::new(|r| r.thread_num = 0)),
        ("too many threads", Box::new(|r| r.thread_num = 100_000)),
        ("negative start", Box::new(|r| r.range = Some((-1, 5)))),
        ("end before start", Box::new(|r| r.range = Some((5, 4)))),
        ("end below -1", Box::new(|r| r.range = Some((0, -2)))),
        ("empty path", Box::new(|r| r.file_path = Some("".into()))),
        (
            "missing checkpoint dir",
            Box::new(move |r| r.checkpoint_dir = Some(missing_dir.clone())),
        ),
        (
            "destination is a directory",
            Box::new(move |r| r.file_path = Some(a_dir.clone())),
        ),
        (
            "missing parent",
            Box::new(|r| r.file_path = Some("/no/such/dir/file".into())),
        ),
        (
            "escaping key ../",
            Box::new(|r| {
                r.object.key = "../x".into();
                r.file_path = None;
            }),
        ),
        (
            "absolute key",
            Box::new(|r| {
                r.object.key = "/etc/x".into();
                r.file_path = None;
            }),
        ),
        (
            "a/../../b",
            Box::new(|r| {
                r.object.key = "a/../../b".into();
                r.file_path = None;
            }),
        ),
        (
            "control chars",
            Box::new(|r| {
                r.object.key = "a\u{1}b".into();
                r.file_path = None;
            }),
        ),
        (
            "NUL",
            Box::new(|r| {
                r.object.key = "a\0b".into();
                r.file_path = None;
            }),
        ),
    ];
    for (name, edit) in cases {
        let mut req = base.clone();
        edit(&mut req);
        let e = resumable_download(&client, &req, &Cancel::new())
            .await
            .unwrap_err();
        assert_eq!(e.code, "ValidateError", "{name}: {e}");
        assert_eq!(e.kind, ErrorKind::InvalidArgument, "{name}");
        assert!(!e.message.is_empty());
    }
    assert!(env.emu.log().is_empty(), "validation sent requests");
    assert_no_leftovers(&[env.work.path()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn default_path_is_the_key_under_the_current_directory() {
    let env = Env::new();
    let client = env.client();
    let src = env.object("dir/sub/default.bin", 2 * PS + 9);
    // This test binary's other tests use absolute paths only.
    std::env::set_current_dir(env.work.path()).unwrap();
    std::fs::create_dir_all(env.work.path().join("dir/sub")).unwrap();
    let mut req = DownloadRequest::new(BUCKET, "dir/sub/default.bin");
    req.part_size = PS;
    download(&client, &req, 2 * PS + 9).await.0.unwrap();
    assert_same_file(&src, &env.work.path().join("dir/sub/default.bin"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn server_errors_and_conditions_of_the_head() {
    let env = Env::new();
    let client = env.client();
    env.object("cond/obj", 1000);
    let etag = env
        .emu
        .object_meta(BUCKET, "cond/obj")
        .unwrap()
        .unwrap()
        .etag;
    let mut req = env.request("cond/missing", "c1");
    let e = download(&client, &req, 0).await.0.unwrap_err();
    assert_eq!(e.code, "NoSuchKey", "{e}");
    req.object.key = "cond/obj".into();
    req.object.if_match = vec!["\"0000\"".into()];
    let e = download(&client, &req, 1000).await.0.unwrap_err();
    assert_eq!(e.http_status, 412, "{e}");
    req.object.if_match.clear();
    req.object.if_none_match = vec![etag.clone()];
    let e = download(&client, &req, 1000).await.0.unwrap_err();
    assert_eq!(e.http_status, 304, "{e}");
    req.object.if_none_match.clear();
    req.object.if_unmodified_since = Some("Fri, 13 Nov 2015 14:47:53 GMT".into());
    let e = download(&client, &req, 1000).await.0.unwrap_err();
    assert_eq!(e.http_status, 412, "{e}");
    req.object.if_unmodified_since = None;
    req.object.if_modified_since = Some("Fri, 13 Nov 2015 14:47:53 GMT".into());
    download(&client, &req, 1000).await.0.unwrap();
    assert!(!env.path("c1").exists() || std::fs::metadata(env.path("c1")).unwrap().len() == 1000);
    assert_no_leftovers(&[env.work.path()]);
}

/// Direct I/O on (the default) and off give the same bytes, whatever the alignment: part sizes
/// that are not a multiple of 4 KiB put part boundaries inside a block (heads and tails through
/// the page cache, the aligned middle direct), and a range starting at an odd offset shifts
/// every block. (Where the test's file system refuses direct I/O both runs are buffered.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn direct_io_on_and_off_give_the_same_bytes_at_any_alignment() {
    let env = Env::new();
    let client = env.client();
    let size = 9 * PS + 4097;
    let src = std::fs::read(env.object("direct/obj", size)).unwrap();
    let mut n = 0;
    for direct in [true, false] {
        for part in [PS, PS + 1, PS + 4095, 3 * PS + 2049] {
            for range in [None, Some((1i64, -1i64)), Some((4095, size as i64 - 2))] {
                n += 1;
                let out = format!("d{n}");
                let mut req = env.request("direct/obj", &out);
                req.part_size = part;
                req.thread_num = 4;
                req.direct_io = direct;
                req.range = range;
                let want = match range {
                    None => src.clone(),
                    Some((a, -1)) => src[a as usize..].to_vec(),
                    Some((a, b)) => src[a as usize..=b as usize].to_vec(),
                };
                let (r, _) = download(&client, &req, want.len() as u64).await;
                r.unwrap_or_else(|e| panic!("direct {direct}, part {part}, range {range:?}: {e}"));
                let got = std::fs::read(env.path(&out)).unwrap();
                assert!(
                    got == want,
                    "direct {direct}, part {part}, range {range:?}: the file differs"
                );
            }
        }
    }
    assert_no_leftovers(&[env.work.path()]);
}
