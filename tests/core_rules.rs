//! Rules the Rust API enforces by itself (the C ABI only converts to them): the date conditions
//! are RFC 1123 dates, the client's call timeout is a deadline over every call, and an abortable
//! progress callback stops its call with `ClientError:200042`. And one rule of the source's
//! shape: no function in `src/` is over 80 lines (a brace-matching scan; test code and macro
//! templates left out).

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

// ---- the shape of the source ----------------------------------------------------------------

/// The longest function `src/` may hold, in lines from its `fn` line to its closing brace.
const MAX_FN_LINES: usize = 80;

/// `src` with comments, string literals and character literals blanked out (newlines kept), so
/// that the braces left are the code's own.
fn code_only(src: &str) -> Vec<u8> {
    let s = src.as_bytes();
    let mut out = s.to_vec();
    let blank = |out: &mut Vec<u8>, from: usize, to: usize| {
        for b in &mut out[from..to.min(s.len())] {
            if *b != b'\n' {
                *b = b' ';
            }
        }
    };
    let ident = |b: u8| b.is_ascii_alphanumeric() || b == b'_';
    let mut i = 0;
    while i < s.len() {
        let rest = &s[i..];
        if rest.starts_with(b"//") {
            let end = rest
                .iter()
                .position(|&b| b == b'\n')
                .map_or(s.len(), |p| i + p);
            blank(&mut out, i, end);
            i = end;
        } else if rest.starts_with(b"/*") {
            let (mut depth, mut j) = (1, i + 2);
            while j < s.len() && depth > 0 {
                if s[j..].starts_with(b"/*") {
                    (depth, j) = (depth + 1, j + 2);
                } else if s[j..].starts_with(b"*/") {
                    (depth, j) = (depth - 1, j + 2);
                } else {
                    j += 1;
                }
            }
            blank(&mut out, i, j);
            i = j;
        } else if (rest.starts_with(b"r\"") || rest.starts_with(b"r#") || rest.starts_with(b"br"))
            && (i == 0 || !ident(s[i - 1]))
        {
            // A raw string: r"..", r#".."#, br"..".
            let start = i + rest.iter().position(|&b| b == b'r').unwrap() + 1;
            let hashes = s[start..].iter().take_while(|&&b| b == b'#').count();
            if s.get(start + hashes) != Some(&b'"') {
                i += 1;
                continue;
            }
            let close: Vec<u8> = std::iter::once(b'"').chain(vec![b'#'; hashes]).collect();
            let body = start + hashes + 1;
            let end = s[body..]
                .windows(close.len())
                .position(|w| w == close.as_slice())
                .map_or(s.len(), |p| body + p + close.len());
            blank(&mut out, i, end);
            i = end;
        } else if s[i] == b'"' {
            let mut j = i + 1;
            while j < s.len() && s[j] != b'"' {
                j += if s[j] == b'\\' { 2 } else { 1 };
            }
            blank(&mut out, i, j + 1);
            i = j + 1;
        } else if s[i] == b'\'' {
            // A character literal ('{', '\n', '\u{7f}'); a lifetime ('a) has no closing quote.
            let len = if rest.get(1) == Some(&b'\\') {
                rest.iter().skip(2).position(|&b| b == b'\'').map(|p| p + 3)
            } else {
                let c = std::str::from_utf8(&rest[1..rest.len().min(6)])
                    .ok()
                    .or_else(|| std::str::from_utf8(&rest[1..rest.len().min(5)]).ok())
                    .and_then(|t| t.chars().next());
                c.map(char::len_utf8)
                    .filter(|n| rest.get(n + 1) == Some(&b'\''))
                    .map(|n| n + 2)
            };
            match len {
                Some(n) => {
                    blank(&mut out, i, i + n);
                    i += n;
                }
                None => i += 1,
            }
        } else {
            i += 1;
        }
    }
    out
}

/// The index just past the block that opens at `open` (a `{`), by brace matching.
fn block_end(code: &[u8], open: usize) -> usize {
    let mut depth = 0usize;
    for (i, &b) in code.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return i + 1;
                }
            }
            _ => {}
        }
    }
    code.len()
}

/// The `{` that opens the item starting at `from`, or None when a `;` at bracket depth 0 comes
/// first (a declaration without a body, a `use`).
fn body_open(code: &[u8], from: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, &b) in code.iter().enumerate().skip(from) {
        match b {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth -= 1,
            b';' if depth <= 0 => return None,
            b'{' if depth <= 0 => return Some(i),
            _ => {}
        }
    }
    None
}

/// Every function of one file as (name, first line, lines), test code (`#[cfg(test)]` items)
/// and macro definitions (`macro_rules!` templates; what they generate has no lines of its own)
/// left out.
fn functions(src: &str) -> Vec<(String, usize, usize)> {
    let code = code_only(src);
    let text = String::from_utf8_lossy(&code);
    let line_of = |at: usize| code[..at].iter().filter(|&&b| b == b'\n').count() + 1;
    let mut skipped: Vec<(usize, usize)> = Vec::new();
    for marker in ["#[cfg(test)]", "macro_rules!"] {
        for (at, _) in text.match_indices(marker) {
            if let Some(open) = body_open(&code, at + marker.len()) {
                skipped.push((at, block_end(&code, open)));
            }
        }
    }
    let mut found = Vec::new();
    for (at, _) in text.match_indices("fn ") {
        let word_start = at == 0 || !(code[at - 1].is_ascii_alphanumeric() || code[at - 1] == b'_');
        let name: String = text[at + 3..]
            .trim_start()
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_')
            .collect();
        if !word_start || name.is_empty() || skipped.iter().any(|&(a, b)| (a..b).contains(&at)) {
            continue;
        }
        if let Some(open) = body_open(&code, at) {
            let end = block_end(&code, open);
            found.push((name, line_of(at), line_of(end - 1) - line_of(at) + 1));
        }
    }
    found
}

fn rust_files(dir: &std::path::Path, out: &mut Vec<std::path::PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            rust_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn the_scan_measures_functions_and_skips_test_code_and_literals() {
    let src = "fn a() {\n    let s = \"}}\";\n    let c = '{';\n    // }\n}\n\
               fn b<'x>(v: &'x [u8; 2]) -> usize { v.len() }\n\
               trait T { fn c(&self); }\n\
               #[cfg(test)]\nmod tests {\n    fn d() {\n    }\n}\n\
               macro_rules! m { () => { fn e() {} }; }\n\
               fn f(g: fn(u8) -> u8) { let r = r#\"{\"#; }\n";
    let got: Vec<(String, usize, usize)> = functions(src);
    let want = [("a", 1, 5), ("b", 6, 1), ("f", 14, 1)];
    let want: Vec<(String, usize, usize)> = want
        .iter()
        .map(|&(n, l, c)| (n.to_string(), l, c))
        .collect();
    assert_eq!(got, want);
}

#[test]
fn no_function_in_src_is_over_80_lines() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    assert!(files.len() > 20, "{files:?}");
    let mut long = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        for (name, line, lines) in functions(&text) {
            if lines > MAX_FN_LINES {
                let rel = f.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
                long.push(format!("{}:{line} fn {name}: {lines} lines", rel.display()));
            }
        }
    }
    assert!(
        long.is_empty(),
        "functions over {MAX_FN_LINES} lines (split them into steps):\n{}",
        long.join("\n")
    );
}

/// A process-global that is initialised lazily (`OnceLock`, `OnceCell`, `Lazy`, `LazyLock`,
/// `Once`) must not exist in `src/`: its first use may run on a library thread in the middle of a
/// download, and a process `fork()`ed at that instant inherits it in its "being initialised"
/// state with no thread left to finish it, so the child's first use waits forever (a forked child
/// is supported: it initialises the SDK again and downloads with a client of its own). Globals
/// are plain atomics or const-initialised locks that only the SDK's initialisation takes; per
/// client state lives in the client.
#[test]
fn no_process_global_in_src_is_initialised_lazily() {
    let src = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    let lazy = ["OnceLock", "OnceCell", "LazyLock", "Lazy", "Once"];
    let mut found = Vec::new();
    for f in &files {
        let text = std::fs::read_to_string(f).unwrap();
        let code = String::from_utf8(code_only(&text)).unwrap();
        for (n, line) in code.lines().enumerate() {
            let Some(at) = line.find("static ") else {
                continue;
            };
            let Some(colon) = line[at..].find(':') else {
                continue;
            };
            // The type's outer path (`std::sync::OnceLock<..>` gives `OnceLock`).
            let ty = line[at + colon + 1..]
                .trim_start()
                .split(['<', ' ', '=', ';'])
                .next()
                .unwrap_or("");
            let ty = ty.rsplit("::").next().unwrap_or(ty);
            if lazy.contains(&ty) {
                let rel = f.strip_prefix(env!("CARGO_MANIFEST_DIR")).unwrap();
                found.push(format!(
                    "{}:{}: {}",
                    rel.display(),
                    n + 1,
                    text.lines().nth(n).unwrap().trim()
                ));
            }
        }
    }
    assert!(
        found.is_empty(),
        "lazily initialised process-globals (a fork() during their first use leaves them \
         initialising forever in the child; use an atomic or initialise at oss_initialize_sdk):\n{}",
        found.join("\n")
    );
}
