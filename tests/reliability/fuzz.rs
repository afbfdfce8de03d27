//! A stable, bounded, deterministic fuzzer (cargo-fuzz needs a nightly toolchain): seeded random
//! mutations of a checked-in corpus (tests/fuzz-corpus/<target>/) fed to the parsers that read
//! untrusted bytes — the checkpoint file (raw, and re-sealed with a valid checksum so that hostile
//! but well-formed records reach the resume judgement), the XML error body, Content-Range, HTTP
//! dates and answer headers. Checked: no panic, no case slower than 2 s, and the round-trip
//! properties that exist. Time: `OSS_FFI_FUZZ_SECS` (default 20 in CI, 300 in soak mode), split
//! across the targets. A failing input is written to target/fuzz-failures/ for replay.

use std::panic::AssertUnwindSafe;
use std::path::PathBuf;
use std::time::{Duration, Instant, UNIX_EPOCH};

use oss_ffi::download::fuzzing;
use oss_ffi::download::fuzzing::{parse_content_range, parse_error_body, parse_error_xml};

use crate::download_support::Rng;
use crate::support;
use crate::tally;

type Target = fn(&[u8], &Ctx);

struct Ctx {
    /// Valid checkpoint files (sealed corpus records).
    checkpoints: Vec<Vec<u8>>,
}

const INTERESTING: &[&[u8]] = &[
    b"0",
    b"-1",
    b"18446744073709551615",
    b"18446744073709551616",
    b"99999999999999999999999",
    b"null",
    b"true",
    b"\"\"",
    b"[]",
    b"{}",
    b"\xff\xfe",
    b"\x00",
    b"&amp;",
    b"&#0;",
    b"&#xFFFFFFFF;",
    b"<![CDATA[",
    b"]]>",
    b"<Error>",
    b"</Error>",
    b"bytes ",
    b"/",
    b"-",
    b" GMT",
    b"9999-12-31T23:59:59.000Z",
    b"\xe9\x80\x80",
];

fn mutate(rng: &mut Rng, data: &[u8], others: &[Vec<u8>]) -> Vec<u8> {
    let mut d = data.to_vec();
    for _ in 0..1 + rng.below(4) {
        let len = d.len() as u64;
        match rng.below(9) {
            0 if len > 0 => {
                let i = rng.below(len) as usize;
                d[i] ^= 1 << rng.below(8);
            }
            1 if len > 0 => {
                let i = rng.below(len) as usize;
                d[i] = rng.next() as u8;
            }
            2 => {
                let i = rng.below(len + 1) as usize;
                let s = INTERESTING[rng.below(INTERESTING.len() as u64) as usize];
                d.splice(i..i, s.iter().copied());
            }
            3 if len > 0 => {
                let a = rng.below(len) as usize;
                let b = (a + 1 + rng.below(16) as usize).min(d.len());
                d.drain(a..b);
            }
            4 if len > 0 => {
                let a = rng.below(len) as usize;
                let b = (a + 1 + rng.below(32) as usize).min(d.len());
                let chunk = d[a..b].to_vec();
                let at = rng.below(d.len() as u64 + 1) as usize;
                d.splice(at..at, chunk);
            }
            5 => d.truncate(rng.below(len + 1) as usize),
            6 if !others.is_empty() => {
                let o = &others[rng.below(others.len() as u64) as usize];
                let cut = rng.below(o.len() as u64 + 1) as usize;
                let at = rng.below(len + 1) as usize;
                d.truncate(at);
                d.extend_from_slice(&o[cut..]);
            }
            7 => {
                // Replace a run of digits with an interesting number.
                if let Some(i) = (0..d.len()).find(|&i| d[i].is_ascii_digit() && rng.below(8) == 0)
                {
                    let j = (i..d.len())
                        .find(|&j| !d[j].is_ascii_digit())
                        .unwrap_or(d.len());
                    let s = INTERESTING[rng.below(5) as usize];
                    d.splice(i..j, s.iter().copied());
                }
            }
            _ => {
                let n = rng.below(8) as usize;
                for _ in 0..n {
                    d.push(rng.next() as u8);
                }
            }
        }
    }
    d
}

fn corpus(target: &str) -> Vec<Vec<u8>> {
    let dir = support::repo_root().join("tests/fuzz-corpus").join(target);
    let mut v: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| (e.path(), std::fs::read(e.path()).unwrap()))
        .collect();
    v.sort();
    v.into_iter().map(|(_, b)| b).collect()
}

// ---- targets --------------------------------------------------------------------------------

fn checkpoint_raw(input: &[u8], ctx: &Ctx) {
    if let Ok(out) = fuzzing::checkpoint_reencode(input) {
        let again = fuzzing::checkpoint_reencode(&out).expect("a re-encoded checkpoint parses");
        assert_eq!(again, out, "checkpoint encoding is not stable");
        for expected in &ctx.checkpoints {
            let _ = fuzzing::checkpoint_would_resume(&out, expected);
        }
    }
}

fn checkpoint_sealed(input: &[u8], ctx: &Ctx) {
    // A mutated record with a valid checksum: structurally hostile values reach the judgement.
    if let Ok(sealed) = fuzzing::checkpoint_seal(input) {
        match fuzzing::checkpoint_reencode(&sealed) {
            Ok(again) => assert_eq!(again, sealed, "sealed checkpoint does not round-trip"),
            // A sealed record of another format or version is refused; nothing else is.
            Err(e) => assert!(e.starts_with("unknown format"), "{e}"),
        }
        for expected in &ctx.checkpoints {
            let _ = fuzzing::checkpoint_would_resume(&sealed, expected);
        }
    }
}

fn error_body(input: &[u8], _: &Ctx) {
    let status = 400 + (input.len() % 200) as u16;
    let e = parse_error_body(status, input);
    assert!(!e.code.is_empty(), "an error without a code");
    assert_eq!(e.http_status, status);
    let _ = parse_error_xml(&String::from_utf8_lossy(input));
}

fn content_range(input: &[u8], _: &Ctx) {
    let s = String::from_utf8_lossy(input);
    if let Some((a, b, t)) = parse_content_range(&s) {
        assert!(
            a <= b && b < t,
            "accepted an impossible range {a}-{b}/{t} from {s:?}"
        );
    }
}

fn http_date(input: &[u8], _: &Ctx) {
    let s = String::from_utf8_lossy(input);
    let _ = fuzzing::parse_time(&s);
}

fn headers(input: &[u8], _: &Ctx) {
    let text = input;
    let mut pairs: Vec<(&[u8], &[u8])> = Vec::new();
    for line in text.split(|&b| b == b'\n') {
        if let Some(i) = line.iter().position(|&b| b == b':') {
            let v = &line[i + 1..];
            let v = v.strip_prefix(b" ").unwrap_or(v);
            pairs.push((&line[..i], v));
        }
    }
    let m = fuzzing::meta_from_header_pairs(&pairs);
    if let Some((_, v)) = pairs
        .iter()
        .rev()
        .find(|(k, _)| k.eq_ignore_ascii_case(b"x-oss-hash-crc64ecma"))
    {
        if let Ok(n) = std::str::from_utf8(v).unwrap_or("").trim().parse::<u64>() {
            // Several values: the first is used; only check when there is one.
            if pairs
                .iter()
                .filter(|(k, _)| k.eq_ignore_ascii_case(b"x-oss-hash-crc64ecma"))
                .count()
                == 1
                && reqwest_value_ok(v)
            {
                assert_eq!(m.crc64, Some(n));
            }
        }
    }
}

fn reqwest_value_ok(v: &[u8]) -> bool {
    v.iter().all(|&b| b == b'\t' || (0x20..0x7f).contains(&b))
}

/// Generated round trips (not mutation-based).
fn round_trips(rng: &mut Rng) -> u64 {
    let mut n = 0;
    for _ in 0..2000 {
        // Content-Range.
        let t = 1 + rng.next() % u64::MAX;
        let a = rng.below(t);
        let b = a + rng.below(t - a);
        assert_eq!(
            parse_content_range(&format!("bytes {a}-{b}/{t}")),
            Some((a, b, t))
        );
        // HTTP dates.
        let secs = rng.below(253_402_300_799); // up to 9999-12-31
        let when = UNIX_EPOCH + Duration::from_secs(secs);
        let text = httpdate::fmt_http_date(when);
        assert_eq!(fuzzing::parse_time(&text), Some(when), "{text}");
        // Error XML with escaped random text.
        let field = |rng: &mut Rng| -> String {
            (0..rng.below(20))
                .map(|_| char::from_u32(0x20 + rng.below(0x2000) as u32).unwrap_or('x'))
                .collect::<String>()
                .trim()
                .to_string()
        };
        let (code, msg) = (format!("C{}", field(rng)), field(rng));
        let esc = |s: &str| {
            s.replace('&', "&amp;")
                .replace('<', "&lt;")
                .replace('>', "&gt;")
        };
        let xml = format!(
            "<?xml version=\"1.0\"?><Error><Code>{}</Code><Message>{}</Message><RequestId>R1</RequestId></Error>",
            esc(&code),
            esc(&msg)
        );
        let e = parse_error_body(403, xml.as_bytes());
        assert_eq!(
            (e.code.as_str(), e.message.as_str()),
            (code.trim(), msg.trim()),
            "{xml}"
        );
        assert_eq!(e.request_id, "R1");
        n += 3;
    }
    n
}

pub fn run(rng: &mut Rng) {
    let secs: u64 = std::env::var("OSS_FFI_FUZZ_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(tally::scale(20, 300));
    let records = corpus("checkpoint");
    let checkpoints: Vec<Vec<u8>> = records
        .iter()
        .map(|r| fuzzing::checkpoint_seal(r).expect("the corpus records seal"))
        .collect();
    for c in &checkpoints {
        assert_eq!(fuzzing::checkpoint_would_resume(c, c), Ok(true));
    }
    let ctx = Ctx {
        checkpoints: checkpoints.clone(),
    };
    let generated = round_trips(rng);
    tally::add(&tally::FUZZ_CASES, generated);

    let targets: Vec<(&str, Target, Vec<Vec<u8>>)> = vec![
        ("checkpoint", checkpoint_raw as Target, checkpoints.clone()),
        ("checkpoint-sealed", checkpoint_sealed, records),
        ("error_xml", error_body, corpus("error_xml")),
        ("content_range", content_range, corpus("content_range")),
        ("http_date", http_date, corpus("http_date")),
        ("headers", headers, corpus("headers")),
    ];
    let per = Duration::from_secs_f64(secs as f64 / targets.len() as f64);
    for (name, target, seeds) in targets {
        let t0 = Instant::now();
        let mut cases = 0u64;
        let mut pool = seeds.clone();
        while t0.elapsed() < per {
            let base = &pool[rng.below(pool.len() as u64) as usize];
            let input = mutate(rng, base, &seeds);
            let started = Instant::now();
            let r = std::panic::catch_unwind(AssertUnwindSafe(|| target(&input, &ctx)));
            let took = started.elapsed();
            cases += 1;
            if r.is_err() || took > Duration::from_secs(2) {
                let dir = support::target_dir().join("fuzz-failures");
                std::fs::create_dir_all(&dir).unwrap();
                let file = dir.join(format!("{name}-{cases}"));
                std::fs::write(&file, &input).unwrap();
                if r.is_err() {
                    tally::inc(&tally::CRASHES);
                    panic!(
                        "fuzz {name}: panic on the input saved at {}",
                        file.display()
                    );
                }
                tally::inc(&tally::HANGS);
                panic!(
                    "fuzz {name}: {took:?} on the input saved at {}",
                    file.display()
                );
            }
            // Keep some mutants as new bases (bounded pool).
            if rng.below(16) == 0 && input.len() < 1 << 16 {
                if pool.len() < 256 {
                    pool.push(input);
                } else {
                    let i = rng.below(pool.len() as u64) as usize;
                    pool[i] = input;
                }
            }
        }
        tally::add(&tally::FUZZ_CASES, cases);
        println!(
            "    fuzz {name}: {cases} cases in {:.1} s",
            t0.elapsed().as_secs_f64()
        );
    }
}
