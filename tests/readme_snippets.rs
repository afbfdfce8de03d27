//! The READMEs' code blocks run as written: every fenced ```c, ```cpp, ```python and ```sh block
//! of README.md and bindings/python/README.md is compiled and run (C and C++ programs against
//! this run's library, Python with the binding from the source tree, sh with bash and the tools
//! of a `make install` of this run's build on PATH), in a scratch directory, and must exit 0.
//! Blocks in other languages (json, rust, plain) are not run. And every document the project
//! cites is in the repository.
//!
//! An HTML comment on the line before a block (blank lines between allowed) says how to run it:
//!
//! - `<!-- snippet: emulator [endpoint=URL] [ak=AK] [sk=SK] [object=BUCKET/KEY:SIZE]... -->`:
//!   a local OSS server is started for the block with the credentials AK/SK (default `ak`/`sk`,
//!   also set as OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET) and the objects (pseudo-random
//!   content, SIZE with K/M suffixes); every occurrence of URL (default
//!   `http://127.0.0.1:9000`) in the block is replaced by the server's endpoint. For blocks
//!   written against the cloud (`endpoint=https://oss-cn-hangzhou.aliyuncs.com`).
//! - `<!-- snippet: server [endpoint=URL] -->` on a sh block that starts `oss-emulator`: it is
//!   run in the background (its `--port N` replaced by `--port 0`) until the end of the
//!   document; the later blocks of the document get URL replaced by the endpoint it prints.
//! - `<!-- snippet: skip REASON -->`: not run; the reason is required (keep these rare: a
//!   fragment of a program, a command that is the test suite itself).
//!
//! `/tmp/` in a block becomes the block's scratch directory. A C or C++ block without `main` is a
//! fragment: make it a program or mark it skip (the failure message says so).

mod support;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use oss_emulator::{Credential, Emulator, EmulatorConfig};
use support::*;

/// One fenced block and what the comment before it says.
#[derive(Debug, Clone, PartialEq)]
struct Snippet {
    /// 1-based line of the opening fence.
    line: usize,
    lang: Lang,
    code: String,
    directive: Directive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lang {
    C,
    Cpp,
    Python,
    Sh,
}

#[derive(Debug, Clone, PartialEq)]
enum Directive {
    None,
    Skip(String),
    Emulator {
        endpoint: String,
        ak: String,
        sk: String,
        objects: Vec<(String, String, u64)>,
    },
    Server {
        endpoint: String,
    },
}

const DEFAULT_ENDPOINT: &str = "http://127.0.0.1:9000";

fn lang_of(info: &str) -> Option<Lang> {
    match info
        .split_whitespace()
        .next()?
        .to_ascii_lowercase()
        .as_str()
    {
        "c" => Some(Lang::C),
        "cpp" | "c++" | "cxx" => Some(Lang::Cpp),
        "python" | "py" | "python3" => Some(Lang::Python),
        "sh" | "bash" | "shell" => Some(Lang::Sh),
        _ => None,
    }
}

fn parse_size(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.chars().last() {
        Some('K' | 'k') => (&s[..s.len() - 1], 1u64 << 10),
        Some('M' | 'm') => (&s[..s.len() - 1], 1 << 20),
        Some('G' | 'g') => (&s[..s.len() - 1], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .map(|n| n * mult)
        .map_err(|_| format!("bad size {s:?}"))
}

/// `<!-- snippet: ... -->` → the directive; other comments are not directives.
fn parse_directive(comment: &str) -> Result<Option<Directive>, String> {
    let Some(body) = comment
        .trim()
        .strip_prefix("<!--")
        .and_then(|c| c.strip_suffix("-->"))
        .map(str::trim)
        .and_then(|c| c.strip_prefix("snippet:"))
    else {
        return Ok(None);
    };
    let body = body.trim();
    let (word, rest) = body.split_once(char::is_whitespace).unwrap_or((body, ""));
    let rest = rest.trim();
    let pairs = || -> Result<Vec<(&str, &str)>, String> {
        rest.split_whitespace()
            .map(|t| {
                t.split_once('=')
                    .ok_or(format!("want key=value, not {t:?}"))
            })
            .collect()
    };
    match word {
        "skip" if rest.is_empty() => Err("`snippet: skip` needs a reason".into()),
        "skip" => Ok(Some(Directive::Skip(rest.to_string()))),
        "emulator" => {
            let (mut endpoint, mut ak, mut sk, mut objects) = (
                DEFAULT_ENDPOINT.to_string(),
                "ak".to_string(),
                "sk".to_string(),
                Vec::new(),
            );
            for (k, v) in pairs()? {
                match k {
                    "endpoint" => endpoint = v.to_string(),
                    "ak" => ak = v.to_string(),
                    "sk" => sk = v.to_string(),
                    "object" => {
                        let (path, size) = v.rsplit_once(':').ok_or("object=BUCKET/KEY:SIZE")?;
                        let (bucket, key) = path.split_once('/').ok_or("object=BUCKET/KEY:SIZE")?;
                        objects.push((bucket.to_string(), key.to_string(), parse_size(size)?));
                    }
                    _ => return Err(format!("unknown emulator setting {k:?}")),
                }
            }
            Ok(Some(Directive::Emulator {
                endpoint,
                ak,
                sk,
                objects,
            }))
        }
        "server" => {
            let mut endpoint = DEFAULT_ENDPOINT.to_string();
            for (k, v) in pairs()? {
                match k {
                    "endpoint" => endpoint = v.to_string(),
                    _ => return Err(format!("unknown server setting {k:?}")),
                }
            }
            Ok(Some(Directive::Server { endpoint }))
        }
        _ => Err(format!(
            "unknown snippet directive {word:?} (skip, emulator, server)"
        )),
    }
}

/// The blocks of a Markdown text in the languages that are run.
fn extract(markdown: &str) -> Result<Vec<Snippet>, String> {
    let lines: Vec<&str> = markdown.lines().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let trimmed = lines[i].trim_start();
        let indent = lines[i].len() - trimmed.len();
        let fence_len = trimmed.chars().take_while(|&c| c == '`').count();
        if indent > 3 || fence_len < 3 {
            i += 1;
            continue;
        }
        let info = &trimmed[fence_len..];
        let start = i;
        // The closing fence: at least as many backticks, nothing else.
        let mut end = i + 1;
        while end < lines.len() {
            let t = lines[end].trim();
            if t.len() >= fence_len && t.chars().all(|c| c == '`') {
                break;
            }
            end += 1;
        }
        if end == lines.len() {
            return Err(format!("line {}: a code block is never closed", start + 1));
        }
        i = end + 1;
        let Some(lang) = lang_of(info) else { continue };
        // The comment before the block (blank lines between allowed).
        let mut j = start;
        let mut directive = Directive::None;
        while j > 0 {
            j -= 1;
            let l = lines[j].trim();
            if l.is_empty() {
                continue;
            }
            if let Some(d) = parse_directive(l).map_err(|e| format!("line {}: {e}", j + 1))? {
                directive = d;
            }
            break;
        }
        // As CommonMark reads a fence indented by N spaces (a block in a list item): up to N
        // spaces are removed from each of its lines.
        let code = lines[start + 1..end]
            .iter()
            .map(|l| {
                let spaces = l.len() - l.trim_start_matches(' ').len();
                format!("{}\n", &l[spaces.min(indent)..])
            })
            .collect::<String>();
        out.push(Snippet {
            line: start + 1,
            lang,
            code,
            directive,
        });
    }
    Ok(out)
}

// ---- running ------------------------------------------------------------------------------------

/// `make install-files install-tools-files` of this run's build into a scratch prefix, once: the
/// sh blocks find oss_download, oss_async_download and oss-emulator on PATH there.
fn installed_prefix() -> &'static Path {
    static PREFIX: OnceLock<PathBuf> = OnceLock::new();
    PREFIX.get_or_init(|| {
        let prefix = build_dir("readme-snippets").join("prefix");
        let _ = std::fs::remove_dir_all(&prefix);
        let emulator_bin = target_dir().join("oss-emulator");
        assert!(
            emulator_bin.is_file(),
            "{} is not built: cargo build -p oss-emulator (scripts/test.sh builds the workspace first)",
            emulator_bin.display()
        );
        let out = Command::new("make")
            .current_dir(repo_root())
            .args(["-s", "install-files", "install-tools-files"])
            .arg(format!("PREFIX={}", prefix.display()))
            .arg(format!("LIBSRC={}", lib_dir().display()))
            .arg(format!("BINSRC={}", target_dir().display()))
            .output()
            .expect("make");
        assert!(
            out.status.success(),
            "make install: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        prefix
    })
}

fn python() -> String {
    std::env::var("PYTHON").unwrap_or_else(|_| "python3".to_string())
}

/// The environment every block runs in: none of the library's variables from the caller, no
/// proxy for loopback, the binding from the source tree, the installed tools first on PATH.
fn base_env(cmd: &mut Command) {
    for v in LIBRARY_ENV {
        cmd.env_remove(v);
    }
    let path = format!(
        "{}:{}",
        installed_prefix().join("bin").display(),
        std::env::var("PATH").unwrap_or_default()
    );
    cmd.env("PATH", path)
        .env("NO_PROXY", "127.0.0.1,localhost,::1")
        .env("no_proxy", "127.0.0.1,localhost,::1")
        .env("PYTHONPATH", repo_root().join("bindings/python/src"))
        .env("OSS_FFI_LIBRARY", lib_dir().join("liboss_ffi.so"))
        .env_remove("LD_LIBRARY_PATH");
}

/// Waits for `child` (at most 5 minutes: a hung block fails instead of hanging the suite).
fn wait(mut child: Child, what: &str) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(300);
    loop {
        if let Some(_status) = child.try_wait().map_err(|e| e.to_string())? {
            let out = child.wait_with_output().map_err(|e| e.to_string())?;
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
            return if out.status.success() {
                Ok(())
            } else {
                Err(format!("{what}: {}\n{text}", out.status))
            };
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            return Err(format!("{what}: still running after 5 minutes"));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn compile(lang: Lang, src: &Path, exe: &Path) -> Result<(), String> {
    let (compiler, std) = match lang {
        Lang::C => ("cc", "-std=c11"),
        _ => ("c++", "-std=c++11"),
    };
    ensure_soname_link(&lib_dir());
    let out = Command::new(compiler)
        .args([std, "-Wall", "-Wextra", "-Werror", "-pthread"])
        .arg(format!("-I{}", repo_root().join("include").display()))
        .arg(src)
        .arg("-o")
        .arg(exe)
        .arg(format!("-L{}", lib_dir().display()))
        .arg("-loss_ffi")
        .arg(format!("-Wl,-rpath,{}", lib_dir().display()))
        .output()
        .map_err(|e| e.to_string())?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "does not compile:\n{}",
            String::from_utf8_lossy(&out.stderr)
        ))
    }
}

/// A server started by a `server` block, stopped with the document.
struct Server(Child);

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs the blocks of one document; returns the failures (each with its line).
fn run_document(rel: &str) -> Vec<String> {
    let text = std::fs::read_to_string(repo_root().join(rel)).unwrap();
    let snippets = match extract(&text) {
        Ok(s) => s,
        Err(e) => return vec![format!("{rel}: {e}")],
    };
    assert!(!snippets.is_empty(), "{rel}: no code blocks found");
    let scratch_root = tempfile::tempdir().unwrap();
    let mut failures = Vec::new();
    let mut servers: Vec<Server> = Vec::new();
    // URL in the text -> the endpoint of a server a `server` block started.
    let mut substitutions: BTreeMap<String, String> = BTreeMap::new();
    for (n, s) in snippets.iter().enumerate() {
        let what = format!("{rel}:{} ({:?} block)", s.line, s.lang);
        if let Directive::Skip(reason) = &s.directive {
            println!("{what}: skipped ({reason})");
            continue;
        }
        let dir = scratch_root.path().join(format!("block-{n}"));
        let work = dir.join("work");
        std::fs::create_dir_all(&work).unwrap();
        let mut code = s.code.replace("/tmp/", &format!("{}/", dir.display()));
        for (from, to) in &substitutions {
            code = code.replace(from.as_str(), to);
        }
        let mut env: Vec<(String, String)> = Vec::new();
        let _emu = match &s.directive {
            Directive::Emulator {
                endpoint,
                ak,
                sk,
                objects,
            } => {
                let emu = Emulator::start(EmulatorConfig {
                    root: dir.join("server"),
                    credentials: vec![Credential::new(ak, sk)],
                    ..Default::default()
                })
                .expect("start the emulator");
                for (bucket, key, size) in objects {
                    emu.create_object(bucket, key, *size).unwrap();
                }
                code = code.replace(endpoint.as_str(), &emu.endpoint());
                env.push(("OSS_ACCESS_KEY_ID".into(), ak.clone()));
                env.push(("OSS_ACCESS_KEY_SECRET".into(), sk.clone()));
                Some(emu)
            }
            _ => None,
        };
        let result = match (s.lang, &s.directive) {
            (Lang::Sh, Directive::Server { endpoint }) => {
                start_server(&code, &work, endpoint).map(|(server, url)| {
                    substitutions.insert(endpoint.clone(), url);
                    servers.push(server);
                })
            }
            (_, Directive::Server { .. }) => Err("`snippet: server` is for sh blocks".into()),
            (Lang::C | Lang::Cpp, _) if !code.contains("main(") => Err(
                "a fragment (no main): make it a complete program or mark it \
                 `<!-- snippet: skip REASON -->`"
                    .into(),
            ),
            (Lang::C | Lang::Cpp, _) => {
                let src = dir.join(if s.lang == Lang::C {
                    "snippet.c"
                } else {
                    "snippet.cpp"
                });
                std::fs::write(&src, &code).unwrap();
                let exe = dir.join("snippet");
                compile(s.lang, &src, &exe).and_then(|()| {
                    let mut cmd = Command::new(&exe);
                    spawn_and_wait(&mut cmd, &work, &env, &what)
                })
            }
            (Lang::Python, _) => {
                let src = dir.join("snippet.py");
                std::fs::write(&src, &code).unwrap();
                let mut cmd = Command::new(python());
                cmd.arg(&src);
                spawn_and_wait(&mut cmd, &work, &env, &what)
            }
            (Lang::Sh, _) => {
                let mut cmd = Command::new("bash");
                cmd.args(["-euo", "pipefail", "-c", &code]);
                spawn_and_wait(&mut cmd, &work, &env, &what)
            }
        };
        match result {
            Ok(()) => println!("{what}: ok"),
            Err(e) => failures.push(format!("{what}: {e}\n--- the block as run:\n{code}")),
        }
    }
    drop(servers);
    failures
}

fn spawn_and_wait(
    cmd: &mut Command,
    work: &Path,
    env: &[(String, String)],
    what: &str,
) -> Result<(), String> {
    base_env(cmd);
    cmd.current_dir(work)
        .envs(env.iter().map(|(k, v)| (k, v)))
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let child = cmd.spawn().map_err(|e| format!("cannot start: {e}"))?;
    wait(child, what)
}

/// Runs a `server` block in the background with `--port N` made `--port 0`; returns it and the
/// endpoint it printed.
fn start_server(code: &str, work: &Path, endpoint: &str) -> Result<(Server, String), String> {
    let port = endpoint.rsplit(':').next().unwrap_or("");
    let code = code.replace(&format!("--port {port}"), "--port 0");
    let mut cmd = Command::new("bash");
    base_env(&mut cmd);
    let mut child = cmd
        .args(["-euo", "pipefail", "-c", &format!("exec {}", code.trim())])
        .current_dir(work)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .map_err(|e| e.to_string())?;
    let mut line = String::new();
    std::io::BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut line)
        .map_err(|e| e.to_string())?;
    let server = Server(child);
    match line.trim().strip_prefix("listening on ") {
        Some(url) => Ok((server, url.to_string())),
        None => Err(format!(
            "the server printed {line:?}, not `listening on URL`"
        )),
    }
}

fn check_document(rel: &str) {
    let failures = run_document(rel);
    assert!(
        failures.is_empty(),
        "{} block(s) of {rel} failed as written:\n\n{}",
        failures.len(),
        failures.join("\n\n")
    );
}

#[test]
fn readme_snippets_run_as_written() {
    check_document("README.md");
}

#[test]
fn python_readme_snippets_run_as_written() {
    check_document("bindings/python/README.md");
}

// ---- the extractor ------------------------------------------------------------------------------

#[test]
fn extractor_finds_blocks_and_their_directives() {
    let md = "intro\n\n```c\nint main(void) { return 0; }\n```\n\n\
              <!-- snippet: skip a fragment -->\n\n```python\nx(\n```\n\
              ```json\n{}\n```\n\
              <!-- snippet: emulator endpoint=https://e.example object=bkt/dir/k.bin:3M ak=a sk=b -->\n\
              ````sh\necho ```\n````\n\
              <!-- a comment, not a directive -->\n```cpp\n```\n\
              <!-- snippet: server -->\n```bash\noss-emulator --port 9000\n```\n";
    let s = extract(md).unwrap();
    assert_eq!(s.len(), 5, "{s:#?}");
    assert_eq!((s[0].lang, s[0].line), (Lang::C, 3));
    assert_eq!(s[0].directive, Directive::None);
    assert_eq!(s[1].directive, Directive::Skip("a fragment".into()));
    assert_eq!(s[2].lang, Lang::Sh);
    assert_eq!(s[2].code, "echo ```\n");
    assert_eq!(
        s[2].directive,
        Directive::Emulator {
            endpoint: "https://e.example".into(),
            ak: "a".into(),
            sk: "b".into(),
            objects: vec![("bkt".into(), "dir/k.bin".into(), 3 << 20)],
        }
    );
    assert_eq!((s[3].lang, &s[3].directive), (Lang::Cpp, &Directive::None));
    assert_eq!(
        s[4].directive,
        Directive::Server {
            endpoint: DEFAULT_ENDPOINT.into()
        }
    );
}

#[test]
fn an_indented_fence_loses_its_indent_as_commonmark_says() {
    let md = "- an item:\n\n  ```python\n  import os\n\n  def f() -> None:\n      pass\n  ```\n";
    let s = extract(md).unwrap();
    assert_eq!(s.len(), 1);
    assert_eq!(s[0].code, "import os\n\ndef f() -> None:\n    pass\n");
}

#[test]
fn extractor_refuses_bad_directives_and_open_blocks() {
    for bad in [
        "<!-- snippet: skip -->\n```c\n```\n",
        "<!-- snippet: sometimes -->\n```c\n```\n",
        "<!-- snippet: emulator port -->\n```c\n```\n",
        "```c\nint main(void) { return 0; }\n",
    ] {
        assert!(extract(bad).is_err(), "{bad}");
    }
}

// ---- cited documents ------------------------------------------------------------------------------

/// Files of the repository (without target/ and .git/).
fn repo_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        let name = e.file_name();
        if name == "target" || name == ".git" || name == "node_modules" {
            continue;
        }
        if p.is_dir() {
            repo_files(&p, out);
        } else {
            out.push(p);
        }
    }
}

/// Every relative Markdown link of the project's documents names a file of the repository, and
/// nothing cites the specification outside it (the shared specification directory: its copies live in docs/).
#[test]
fn cited_documents_are_in_the_repository() {
    let mut files = Vec::new();
    repo_files(&repo_root(), &mut files);
    let mut missing = Vec::new();
    for f in &files {
        let ext = f.extension().and_then(|e| e.to_str()).unwrap_or("");
        if !["md", "rs", "c", "cc", "cpp", "h", "py", "sh", "toml", "txt"].contains(&ext) {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(f) else {
            continue;
        };
        let rel = f.strip_prefix(repo_root()).unwrap().display().to_string();
        if text.contains(&["shared", "/spec/"].concat()) {
            missing.push(format!(
                "{rel}: cites the shared specification directory (the copies are in docs/)"
            ));
        }
        if ext != "md" {
            continue;
        }
        for (i, _) in text.match_indices("](") {
            let target: String = text[i + 2..].chars().take_while(|&c| c != ')').collect();
            let target = target.split('#').next().unwrap_or("").trim();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            if !f.parent().unwrap().join(target).exists() {
                missing.push(format!(
                    "{rel}: links to {target}, which is not in the repository"
                ));
            }
        }
    }
    assert!(missing.is_empty(), "{}", missing.join("\n"));
    for doc in ["docs/oss-protocol.md", "docs/cpp-sdk-surface.md"] {
        assert!(repo_root().join(doc).is_file(), "{doc}");
    }
}

/// Where a text names an issue by its number ("issue" or "issues", then spaces, `-`, `_` or `#`,
/// then a digit; any case): the byte offsets of the matches.
fn issue_number_mentions(text: &str) -> Vec<usize> {
    let lower = text.to_ascii_lowercase();
    let b = lower.as_bytes();
    let mut found = Vec::new();
    for (i, _) in lower.match_indices("issue") {
        if i > 0 && b[i - 1].is_ascii_alphanumeric() {
            continue;
        }
        let mut j = i + "issue".len();
        if b.get(j) == Some(&b's') {
            j += 1;
        }
        while matches!(b.get(j), Some(b' ' | b'-' | b'_' | b'#')) {
            j += 1;
        }
        if b.get(j).is_some_and(u8::is_ascii_digit) {
            found.push(i);
        }
    }
    found
}

#[test]
fn issue_number_mentions_are_recognised() {
    let word = "Issue";
    for hit in [
        format!("{word} 12"),
        format!("(see {word}s 13 and 16)"),
        format!("{word}-14 rows"),
        format!("fn {}_17_case()", word.to_lowercase()),
        format!("{word} #7"),
    ] {
        assert_eq!(issue_number_mentions(&hit).len(), 1, "{hit}");
    }
    for miss in [
        format!("an {word} was found"),
        format!("t{}s 3", word.to_lowercase()),
        format!("{word}s of 2026"),
        format!("{word}s: 3"),
    ] {
        assert!(issue_number_mentions(&miss).is_empty(), "{miss}");
    }
}

/// Documents, code, comments and test names say what a behaviour is, never which issue asked for
/// it: issue numbers appear in CHANGELOG.md only (the history), so that a reader of any other
/// file needs no tracker to understand it.
#[test]
fn issue_numbers_appear_only_in_the_changelog() {
    // The tracked files (untracked ones, such as a virtualenv, are not the project's); outside a
    // git checkout, every file but the build directories.
    let tracked = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(repo_root())
        .stderr(Stdio::null())
        .output()
        .ok()
        .filter(|o| o.status.success() && !o.stdout.is_empty());
    let files: Vec<PathBuf> = match tracked {
        Some(o) => String::from_utf8_lossy(&o.stdout)
            .split('\0')
            .filter(|s| !s.is_empty())
            .map(|s| repo_root().join(s))
            .collect(),
        None => {
            let mut files = Vec::new();
            repo_files(&repo_root(), &mut files);
            files
        }
    };
    let mut found = Vec::new();
    for f in &files {
        let rel = f.strip_prefix(repo_root()).unwrap();
        if rel == Path::new("CHANGELOG.md") {
            continue;
        }
        let Ok(text) = std::fs::read_to_string(f) else {
            continue; // not text
        };
        for at in issue_number_mentions(&text) {
            let line = text[..at].matches('\n').count() + 1;
            let mention: String = text[at..]
                .chars()
                .take_while(|&c| c != '\n')
                .take(80)
                .collect();
            found.push(format!("{}:{line}: {mention}", rel.display()));
        }
    }
    assert!(
        found.is_empty(),
        "issue numbers outside CHANGELOG.md (name the behaviour instead; history goes to CHANGELOG.md):\n{}",
        found.join("\n")
    );
}
