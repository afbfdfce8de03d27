//! Rules the Rust API enforces by itself (the C ABI only converts to them): the date conditions
//! are RFC 1123 dates, the client's call timeout is a deadline over every call, and an abortable
//! progress callback stops its call with `ClientError:200042`.

mod download_support;

use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::Arc;
use std::time::Duration;

use download_support::*;
use oss_ffi::cancel::Cancel;
use oss_ffi::download::{resumable_download, MIN_PART_SIZE};
use oss_ffi::object::ObjectRequest;
use oss_ffi::progress::{with_abortable, AbortableProgressFn};
use oss_ffi::ErrorKind;

fn object(key: &str) -> ObjectRequest {
    ObjectRequest {
        bucket: BUCKET.into(),
        key: key.into(),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn date_conditions_that_are_not_http_dates_are_refused_before_sending() {
    let env = Env::new();
    env.object("dates/obj", 1000);
    let client = env.client();
    for (modified, unmodified) in [(Some("yesterday"), None), (None, Some("2015-11-13"))] {
        let mut req = object("dates/obj");
        req.if_modified_since = modified.map(String::from);
        req.if_unmodified_since = unmodified.map(String::from);
        env.emu.clear_log();
        let err = client.head_object(&req, &Cancel::new()).await.unwrap_err();
        assert_eq!(err.code, "ValidateError", "{err}");
        assert!(err.message.contains("RFC 1123"), "{err}");
        let err = client
            .get_object_with(&req, None, None, &Cancel::new(), |_| Ok(()))
            .await
            .unwrap_err();
        assert_eq!(err.code, "ValidateError", "{err}");
        let mut dl = env.request("dates/obj", "out");
        dl.object = req.clone();
        let err = resumable_download(&client, &dl, &Cancel::new())
            .await
            .unwrap_err();
        assert_eq!(err.code, "ValidateError", "{err}");
        assert!(env.emu.log().is_empty(), "{:?}", env.emu.log());
        assert!(!env.path("out").exists());
    }
    // A real date still goes out as it is.
    let mut req = object("dates/obj");
    req.if_unmodified_since = Some("Fri, 13 Nov 2015 14:47:53 GMT".into());
    let err = client.head_object(&req, &Cancel::new()).await.unwrap_err();
    assert_eq!(err.http_status, 412, "{err}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_call_timeout_bounds_rust_calls_without_call_cancel() {
    let env = Env::new();
    env.object("deadline/obj", 1000);
    // A deadline that has passed before the first request can be sent: no timing involved.
    let client = env.client_with(|c| c.call_timeout = Some(Duration::from_nanos(1)));
    let req = object("deadline/obj");
    let err = client.head_object(&req, &Cancel::new()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    let err = client
        .get_object_meta(&req, &Cancel::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    let err = client
        .get_object_with(&req, None, None, &Cancel::new(), |_| Ok(()))
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    let err = client
        .get_object_to_file(&req, None, &env.path("file"), None, &Cancel::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    let err = resumable_download(&client, &env.request("deadline/obj", "dl"), &Cancel::new())
        .await
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
    assert!(!env.path("file").exists() && !env.path("dl").exists());
    // The same client without the timeout reads the object.
    let plain = env.client();
    plain.head_object(&req, &Cancel::new()).await.unwrap();
}

/// Returns false (abort) from its `n`th call on.
fn abort_at(n: u32) -> (AbortableProgressFn, Arc<AtomicU32>) {
    let calls = Arc::new(AtomicU32::new(0));
    let c = calls.clone();
    let f: AbortableProgressFn = Arc::new(move |_, _, _| c.fetch_add(1, Ordering::SeqCst) + 1 < n);
    (f, calls)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abortable_progress_callback_stops_rust_calls() {
    let env = Env::new();
    // Big enough for several progress calls (paced by 1 MiB at least).
    let size = 40 * MIN_PART_SIZE;
    env.object("abort/obj", size);
    let client = env.client();

    // GetObject: aborted at its first progress call, the sink sees no more than one chunk.
    let (f, _) = abort_at(1);
    let req = object("abort/obj");
    let err = with_abortable(Some(f), Cancel::new(), |p, cancel| {
        let (client, req) = (client.clone(), req.clone());
        async move {
            client
                .get_object_with(&req, None, p, &cancel, |_| Ok(()))
                .await
        }
    })
    .await
    .unwrap_err();
    assert_eq!(err.kind, ErrorKind::Cancelled, "{err}");
    assert_eq!(err.code, "ClientError:200042", "{err}");

    // A resumable download: aborted, it keeps its checkpoint, and resumes to the whole file.
    let ckpt = env.ckpt_dir();
    let mut dl = env.request("abort/obj", "out");
    dl.part_size = MIN_PART_SIZE;
    dl.thread_num = 1;
    dl.checkpoint_dir = Some(ckpt.clone());
    let (f, _) = abort_at(2);
    let err = with_abortable(Some(f), Cancel::new(), |p, cancel| {
        let (client, mut dl) = (client.clone(), dl.clone());
        dl.progress = p;
        async move { resumable_download(&client, &dl, &cancel).await }
    })
    .await
    .unwrap_err();
    assert_eq!(err.code, "ClientError:200042", "{err}");
    assert!(checkpoint_in(&ckpt).is_some());
    assert!(!env.path("out").exists());
    let (f, calls) = abort_at(u32::MAX);
    let dl2 = dl.clone();
    with_abortable(Some(f), Cancel::new(), |p, cancel| {
        let (client, mut dl) = (client.clone(), dl2);
        dl.progress = p;
        async move { resumable_download(&client, &dl, &cancel).await }
    })
    .await
    .unwrap();
    assert!(calls.load(Ordering::SeqCst) > 0);
    assert_same_file(&env.emu.object_path(BUCKET, "abort/obj"), &env.path("out"));

    // Without a callback the call runs as it is.
    with_abortable(None, Cancel::new(), |p, cancel| {
        assert!(p.is_none());
        let (client, req) = (client.clone(), req.clone());
        async move {
            client
                .get_object_with(&req, None, None, &cancel, |_| Ok(()))
                .await
        }
    })
    .await
    .unwrap();
}
