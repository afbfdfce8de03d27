//! Listings (`oss_ffi::listing`) against the local OSS server (pages, delimiter, keys that are
//! awkward on the wire and on disk, the emulator's listing faults, 503s retried, cut pages
//! asked again) and against a hostile HTTP server (endless or repeated tokens, entries going
//! backwards, huge answers, malformed XML): every bad answer ends in a clear error, never in
//! an endless loop.

mod download_support;
mod support;

use download_support::{list_all, signed_client, Env};
use oss_emulator::{Emulator, FaultAction, FaultRule, Faults};
use oss_ffi::cancel::Cancel;
use oss_ffi::listing::{ListRequest, Listing};
use oss_ffi::ErrorKind;
use support::hostile_http::{answer, head, HostileServer, Step};

const BUCKET: &str = "list-bucket";

fn request(max_keys: u32) -> ListRequest {
    ListRequest {
        max_keys,
        ..ListRequest::new(BUCKET)
    }
}

/// Keys OSS allows that are awkward in a URL, in XML or as a local path.
const ODD: &[&str] = &[
    "../x",
    "a//b",
    "dir/",
    "dir/sub/f",
    "dir/z",
    "ctl\u{1}\u{1f}char",
    "tab\there",
    "pct%41+plus sp&amp;<lt>",
    "back\\slash",
    "unicode-你好/é",
    "a",
    "a/b",
    "~tilde",
];

/// 1023 bytes, the longest key OSS allows.
fn long_key() -> String {
    format!("zz{}k", "é".repeat(510))
}

fn all_keys() -> Vec<String> {
    let mut keys: Vec<String> = ODD.iter().map(|s| s.to_string()).collect();
    keys.push(long_key());
    keys.sort();
    keys
}

fn seed(emu: &Emulator) {
    for k in all_keys() {
        emu.put_object(BUCKET, &k, k.as_bytes()).unwrap();
    }
}

/// A fresh emulator holding every key of [`all_keys`], each with its own name as content.
fn seeded() -> Env {
    let env = Env::new();
    seed(&env.emu);
    env
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn small_pages_list_every_odd_key_once_in_byte_order() {
    let env = seeded();
    let emu = &env.emu;
    assert_eq!(long_key().len(), 1023);
    for v4 in [false, true] {
        let c = signed_client(&emu.endpoint(), v4);
        for max_keys in [1, 3, 1000] {
            emu.clear_log();
            let mut l = Listing::new(&c, request(max_keys)).unwrap();
            let mut keys = Vec::new();
            let mut pages = 0;
            while let Some(p) = l.next_page(&Cancel::new()).await.unwrap() {
                pages += 1;
                assert!(p.entries.len() <= max_keys as usize);
                assert!(!p.request_id.is_empty());
                for e in &p.entries {
                    assert_eq!(e.size, e.key.len() as u64, "{:?}", e.key);
                    assert!(e.etag.starts_with('"'));
                    assert_eq!(e.storage_class, "Standard");
                    assert_eq!(e.object_type, "Normal");
                    assert!(e.last_modified.ends_with('Z'));
                }
                keys.extend(p.entries.into_iter().map(|e| e.key));
            }
            assert_eq!(keys, all_keys(), "v4={v4} max_keys={max_keys}");
            let n = all_keys().len();
            assert_eq!(pages, n.div_ceil(max_keys as usize));
            let log = emu.log();
            assert!(log
                .iter()
                .all(|e| e.status == 200 && e.auth == if v4 { "v4" } else { "v1" }));
            assert!(log.iter().all(|e| e.query.contains("encoding-type=url")));
            // Done stays done.
            assert!(l.next_page(&Cancel::new()).await.unwrap().is_none());
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delimiter_groups_keys_into_common_prefixes_across_pages() {
    let env = seeded();
    let emu = &env.emu;
    let c = signed_client(&emu.endpoint(), true);
    for max_keys in [1, 2, 1000] {
        let req = ListRequest {
            delimiter: "/".into(),
            ..request(max_keys)
        };
        let (entries, prefixes) = list_all(&c, req).await;
        let keys: Vec<String> = entries.into_iter().map(|e| e.key).collect();
        let want_keys: Vec<String> = all_keys()
            .into_iter()
            .filter(|k| !k.contains('/'))
            .collect();
        assert_eq!(keys, want_keys, "max_keys={max_keys}");
        assert_eq!(prefixes, vec!["../", "a/", "dir/", "unicode-你好/"]);
    }
    // The same as a stream of pages.
    use futures_util::StreamExt;
    let req = ListRequest {
        delimiter: "/".into(),
        ..request(2)
    };
    let pages: Vec<_> = Listing::new(&c, req)
        .unwrap()
        .into_stream(Cancel::new())
        .collect()
        .await;
    let prefixes: Vec<String> = pages
        .into_iter()
        .flat_map(|p| p.unwrap().common_prefixes)
        .collect();
    assert_eq!(prefixes, vec!["../", "a/", "dir/", "unicode-你好/"]);
    // Under a prefix.
    let req = ListRequest {
        prefix: "dir/".into(),
        delimiter: "/".into(),
        ..request(1)
    };
    let (entries, prefixes) = list_all(&c, req).await;
    let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
    assert_eq!(keys, vec!["dir/", "dir/z"]);
    assert_eq!(prefixes, vec!["dir/sub/"]);
    let req = ListRequest {
        start_after: "a/b".into(),
        ..request(2)
    };
    let (entries, _) = list_all(&c, req).await;
    let keys: Vec<String> = entries.into_iter().map(|e| e.key).collect();
    let want: Vec<String> = all_keys()
        .into_iter()
        .filter(|k| k.as_str() > "a/b")
        .collect();
    assert_eq!(keys, want);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_503_and_a_cut_page_are_retried_and_the_listing_is_whole() {
    let env = seeded();
    let emu = &env.emu;
    let c = signed_client(&emu.endpoint(), true);
    emu.set_faults(
        Faults::default()
            .with(
                FaultRule::new(FaultAction::Status {
                    status: 503,
                    code: None,
                })
                .listing(true)
                .after(1)
                .count(2),
            )
            .with(
                FaultRule::new(FaultAction::Cut { bytes: Some(300) })
                    .listing(true)
                    .after(4)
                    .count(1),
            ),
    );
    emu.clear_log();
    let (entries, _) = list_all(&c, request(3)).await;
    let keys: Vec<String> = entries.into_iter().map(|e| e.key).collect();
    assert_eq!(keys, all_keys());
    let faults: Vec<String> = emu.log().iter().filter_map(|e| e.fault.clone()).collect();
    assert_eq!(faults, vec!["status:503", "status:503", "cut:300"]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_page_without_a_token_is_an_error_not_a_loop() {
    let env = seeded();
    let emu = &env.emu;
    let c = signed_client(&emu.endpoint(), false);
    emu.set_faults(
        Faults::default().with(FaultRule::new(FaultAction::ListTruncatedNoToken).after(1)),
    );
    let mut l = Listing::new(&c, request(2)).unwrap();
    assert_eq!(
        l.next_page(&Cancel::new())
            .await
            .unwrap()
            .unwrap()
            .entries
            .len(),
        2
    );
    let e = l.next_page(&Cancel::new()).await.unwrap_err();
    assert_eq!(e.code, "ListingTruncatedWithoutToken", "{e:?}");
    assert_eq!(e.kind, ErrorKind::Server);
    assert!(!e.is_retryable());
    // A failed listing stays failed.
    assert_eq!(
        l.next_page(&Cancel::new()).await.unwrap_err().code,
        "ListingTruncatedWithoutToken"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_listing_that_changes_between_pages_stays_ordered_and_unique() {
    let env = seeded();
    let emu = &env.emu;
    let c = signed_client(&emu.endpoint(), true);
    // After page 1: one key added behind the listing (never seen), one ahead (seen), one of
    // the keys still to come deleted (not seen).
    emu.set_faults(
        Faults::default()
            .with(
                FaultRule::new(FaultAction::ListInsert {
                    key: "0-behind".into(),
                })
                .after(1)
                .count(1),
            )
            .with(
                FaultRule::new(FaultAction::ListInsert {
                    key: "zz-ahead".into(),
                })
                .after(1)
                .count(1),
            )
            .with(
                FaultRule::new(FaultAction::ListDelete {
                    key: "dir/z".into(),
                })
                .after(1)
                .count(1),
            ),
    );
    let (entries, _) = list_all(&c, request(2)).await;
    let keys: Vec<String> = entries.into_iter().map(|e| e.key).collect();
    let mut want: Vec<String> = all_keys().into_iter().filter(|k| k != "dir/z").collect();
    want.push("zz-ahead".into());
    want.sort();
    assert_eq!(keys, want);
}

// --- A hostile server -------------------------------------------------------------------

fn xml_page(keys: &[&str], truncated: bool, token: Option<&str>) -> String {
    let mut x = String::from(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult><Name>list-bucket</Name>\
         <EncodingType>url</EncodingType>",
    );
    x.push_str(&format!("<IsTruncated>{truncated}</IsTruncated>"));
    if let Some(t) = token {
        x.push_str(&format!(
            "<NextContinuationToken>{t}</NextContinuationToken>"
        ));
    }
    for k in keys {
        x.push_str(&format!(
            "<Contents><Key>{k}</Key><Size>1</Size><ETag>\"E\"</ETag></Contents>"
        ));
    }
    x.push_str("</ListBucketResult>");
    x
}

fn xml_answer(body: &str) -> Vec<Step> {
    answer(
        "200 OK",
        &[
            ("Content-Type", "application/xml"),
            ("Content-Length", &body.len().to_string()),
            ("x-oss-request-id", "HOSTILE000000000000000000"),
        ],
        body.as_bytes(),
    )
}

async fn list_hostile(server: &HostileServer, req: ListRequest) -> oss_ffi::Error {
    let c = signed_client(&server.endpoint(), true);
    let mut l = Listing::new(&c, req).unwrap();
    let mut pages = 0u64;
    loop {
        match l.next_page(&Cancel::new()).await {
            Ok(Some(_)) => {
                pages += 1;
                assert!(pages < 10_000, "the listing did not stop");
            }
            Ok(None) => panic!("the hostile listing ended without an error"),
            Err(e) => return e,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_token_is_a_loop_error() {
    let server = HostileServer::start(|_, n| {
        xml_answer(&xml_page(&[&format!("k{n:05}")], true, Some("same-token")))
    });
    let e = list_hostile(&server, request(1)).await;
    assert_eq!(e.code, "ListingLoop", "{e:?}");
    assert!(e.message.contains("same-token"), "{}", e.message);
    assert_eq!(server.requests().len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_that_do_not_grow_across_pages_are_a_loop_error() {
    // New tokens every time, but the same keys again.
    let server = HostileServer::start(|_, n| {
        xml_answer(&xml_page(&["a", "b"], true, Some(&format!("t{n}"))))
    });
    let e = list_hostile(&server, request(2)).await;
    assert_eq!(e.code, "ListingLoop", "{e:?}");
    assert_eq!(server.requests().len(), 2);
    // Keys out of order within one page.
    let server = HostileServer::start(|_, _| xml_answer(&xml_page(&["b", "a"], false, None)));
    assert_eq!(list_hostile(&server, request(2)).await.code, "ListingLoop");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_tokens_stop_at_the_empty_page_run_or_the_page_limit() {
    // Fresh tokens, no entries: stops after MAX_EMPTY_PAGES + 1 pages.
    let server =
        HostileServer::start(|_, n| xml_answer(&xml_page(&[], true, Some(&format!("t{n}")))));
    let e = list_hostile(&server, request(1000)).await;
    assert_eq!(e.code, "ListingLoop", "{e:?}");
    assert_eq!(
        server.requests().len() as u32,
        oss_ffi::listing::MAX_EMPTY_PAGES + 1
    );
    // Fresh tokens and ever-growing keys: an endless bucket, stopped by the caller's limit.
    let server = HostileServer::start(|_, n| {
        xml_answer(&xml_page(
            &[&format!("k{n:08}")],
            true,
            Some(&format!("t{n}")),
        ))
    });
    let req = ListRequest {
        max_pages: Some(50),
        ..request(1)
    };
    let e = list_hostile(&server, req).await;
    assert_eq!(e.code, "ListingTooLarge", "{e:?}");
    assert_eq!(server.requests().len(), 50);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn endless_sparse_pages_with_fresh_tokens_and_keys_are_a_loop_error() {
    // One fresh key and a fresh token per page when 1000 were asked for, forever: without a
    // page limit of the caller's, stopped after MAX_SPARSE_PAGES + 1 pages.
    let server = HostileServer::start(|_, n| {
        xml_answer(&xml_page(
            &[&format!("k{n:08}")],
            true,
            Some(&format!("t{n}")),
        ))
    });
    let e = list_hostile(&server, request(1000)).await;
    assert_eq!(e.code, "ListingLoop", "{e:?}");
    assert!(e.message.contains("does not end"), "{}", e.message);
    assert_eq!(
        server.requests().len() as u32,
        oss_ffi::listing::MAX_SPARSE_PAGES + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_oss_cannot_hold_are_entries_marked_invalid_and_the_listing_goes_on() {
    // A NUL and a 10,000-character key between good ones, over two pages.
    let long = format!("c{}", "x".repeat(10_000));
    let first = xml_page(&["a", "b%00c", &long], true, Some("t1"));
    let server = HostileServer::start(move |_, n| match n {
        0 => xml_answer(&first),
        _ => xml_answer(&xml_page(&["zz"], false, None)),
    });
    let c = signed_client(&server.endpoint(), true);
    let (entries, _) = Listing::new(&c, request(3))
        .unwrap()
        .collect_all(&Cancel::new())
        .await
        .unwrap();
    let keys: Vec<&str> = entries.iter().map(|e| e.key.as_str()).collect();
    // An invalid entry has no usable key, only its reason and a short escaped text.
    assert_eq!(keys, ["a", "", "", "zz"]);
    let nul = entries[1].invalid.as_ref().expect("the NUL key is marked");
    assert_eq!(nul.shown, "b\\0c");
    assert!(nul.rule.contains("NUL"), "{nul:?}");
    let big = entries[2].invalid.as_ref().expect("the long key is marked");
    assert!(big.rule.contains("10001 bytes"), "{big:?}");
    assert!(
        big.shown.starts_with("cxxx") && big.shown.len() < 250,
        "{big:?}"
    );
    assert!(entries[0].invalid.is_none() && entries[3].invalid.is_none());
    assert_eq!(server.requests().len(), 2);
    // Invalid keys still take part in the ordering guard (by their whole key), and the
    // message stays short.
    let back = xml_page(&["d", &long], false, None);
    let server = HostileServer::start(move |_, _| xml_answer(&back));
    let e = list_hostile(&server, request(3)).await;
    assert_eq!(e.code, "ListingLoop", "{e:?}");
    assert!(e.message.len() < 1000, "{}", e.message.len());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn truncated_pages_of_only_invalid_keys_count_as_empty_for_the_endless_guard() {
    // A fresh token and a fresh key OSS cannot hold on every page: no usable entry, so the
    // listing stops as one of empty pages does, after MAX_EMPTY_PAGES + 1 pages.
    let server = HostileServer::start(|_, n| {
        xml_answer(&xml_page(
            &[&format!("k{n:08}%00")],
            true,
            Some(&format!("t{n}")),
        ))
    });
    let e = list_hostile(&server, request(1)).await;
    assert_eq!(e.code, "ListingLoop", "{e:?}");
    assert_eq!(
        server.requests().len() as u32,
        oss_ffi::listing::MAX_EMPTY_PAGES + 1
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn huge_answers_are_refused_without_reading_them() {
    // Declared too large.
    let server = HostileServer::start(|_, _| {
        vec![Step::Send(head(
            "200 OK",
            &[
                ("Content-Length", "1000000000"),
                ("Content-Type", "application/xml"),
            ],
        ))]
    });
    let req = ListRequest {
        max_page_bytes: 1 << 20,
        ..request(1000)
    };
    let e = list_hostile(&server, req.clone()).await;
    assert_eq!(e.code, "ListingTooLarge", "{e:?}");
    // No Content-Length: read up to the cap, then refused.
    let big = xml_page(&["k"], false, None).replace(
        "</ListBucketResult>",
        &format!("<Pad>{}</Pad></ListBucketResult>", "x".repeat(2 << 20)),
    );
    let server = HostileServer::start(move |_, _| {
        vec![
            Step::Send(head("200 OK", &[("Content-Type", "application/xml")])),
            Step::Send(big.clone().into_bytes()),
        ]
    });
    let e = list_hostile(&server, req).await;
    assert_eq!(e.code, "ListingTooLarge", "{e:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_answers_and_bad_keys_are_clear_errors() {
    for (body, code) in [
        (
            "<ListBucketResult><IsTruncated>false".to_string(),
            "MalformedListing",
        ),
        ("<html>nope</html>".to_string(), "MalformedListing"),
        (
            xml_page(&[], false, None).replace(
                "</ListBucketResult>",
                "<CommonPrefixes><Prefix>a%00/</Prefix></CommonPrefixes></ListBucketResult>",
            ),
            "InvalidListedKey",
        ),
        (xml_page(&["%FF%FE"], false, None), "MalformedListing"),
        (xml_page(&["a"], true, None), "ListingTruncatedWithoutToken"),
    ] {
        let server = HostileServer::start(move |_, _| xml_answer(&body));
        let e = list_hostile(&server, request(10)).await;
        assert_eq!(e.code, code, "{e:?}");
        assert_eq!(e.request_id, "HOSTILE000000000000000000");
        assert_eq!(server.requests().len(), 1, "{code} was retried");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_listed_key_reads_its_own_object_or_is_refused_before_sending() {
    let env = seeded();
    let emu = &env.emu;
    let dots = ["./y", "a/./b", "a/../b", "..", "d/..", "d/.../e"];
    for k in dots {
        emu.put_object(BUCKET, k, k.as_bytes()).unwrap();
    }
    // Objects a normalised path would reach instead.
    for k in ["y", "a/b", "b"] {
        emu.put_object(BUCKET, k, b"the wrong object").unwrap();
    }
    for v4 in [false, true] {
        let c = signed_client(&emu.endpoint(), v4);
        let (entries, _) = list_all(&c, request(1000)).await;
        for k in all_keys().iter().map(String::as_str).chain(dots) {
            assert!(entries.iter().any(|e| e.key == k), "{k:?} not listed");
        }
        for e in entries.iter().filter(|e| e.size != 16) {
            let req = oss_ffi::object::ObjectRequest {
                bucket: BUCKET.into(),
                key: e.key.clone(),
                ..Default::default()
            };
            let mut got = Vec::new();
            let r = c
                .get_object_with(&req, None, None, &Cancel::new(), |b| {
                    got.extend_from_slice(b);
                    Ok(())
                })
                .await;
            let dot_segment = e.key.split('/').any(|s| s == "." || s == "..");
            match r {
                // A URL would lose a `.`/`..` segment on the way (normalised by the HTTP
                // stack): such keys are refused before anything is sent, never read wrong.
                Err(err) if dot_segment => {
                    assert_eq!(err.code, "ValidateError", "{:?}", e.key);
                    assert!(got.is_empty());
                }
                Ok(_) if !dot_segment => {
                    assert_eq!(got, e.key.as_bytes(), "GET {:?} (v4={v4})", e.key)
                }
                other => panic!("GET {:?} (v4={v4}): {other:?}", e.key),
            }
        }
    }
}

/// The listing a model computes: keys under `prefix`, grouped at the first `delimiter`.
fn model(keys: &[String], prefix: &str, delimiter: &str) -> (Vec<String>, Vec<String>) {
    let (mut plain, mut groups) = (Vec::new(), Vec::new());
    for k in keys.iter().filter(|k| k.starts_with(prefix)) {
        let rest = &k[prefix.len()..];
        match rest.find(delimiter).filter(|_| !delimiter.is_empty()) {
            Some(i) => groups.push(format!("{prefix}{}", &rest[..i + delimiter.len()])),
            None => plain.push(k.clone()),
        }
    }
    groups.sort();
    groups.dedup();
    (plain, groups)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pseudo_random_keys_list_like_the_model_for_any_page_size_and_delimiter() {
    let env = Env::new();
    let emu = &env.emu;
    let alphabet = ['a', 'b', '/', '.', '%', ' ', 'é', '+'];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut keys = Vec::new();
    while keys.len() < 80 {
        let mut k = String::new();
        for _ in 0..1 + (state % 6) {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            k.push(alphabet[(state >> 33) as usize % alphabet.len()]);
        }
        if oss_ffi::endpoint::validate_key(&k).is_ok() && !k.starts_with('/') && !keys.contains(&k)
        {
            keys.push(k);
        }
    }
    keys.sort();
    for k in &keys {
        emu.put_object(BUCKET, k, b"m").unwrap();
    }
    let c = signed_client(&emu.endpoint(), true);
    for (prefix, delimiter) in [
        ("", ""),
        ("", "/"),
        ("a", "/"),
        ("", "b/"),
        ("b", "a"),
        ("é", ""),
    ] {
        for max_keys in [1, 2, 7, 1000] {
            let req = ListRequest {
                prefix: prefix.into(),
                delimiter: delimiter.into(),
                ..request(max_keys)
            };
            let (entries, prefixes) = list_all(&c, req).await;
            let got: Vec<String> = entries.into_iter().map(|e| e.key).collect();
            assert_eq!(
                (got, prefixes),
                model(&keys, prefix, delimiter),
                "prefix={prefix:?} delimiter={delimiter:?} max_keys={max_keys}"
            );
        }
    }
}
