//! The crate's module map (the crate docs at the top of `src/lib.rs`) is the one map of the
//! library's files, and it stays true: it names every `.rs` file under `src/` and no file that
//! does not exist; the README's "Layout" section points to it instead of keeping a copy.

use std::collections::BTreeSet;
use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Every `.rs` file under `dir`, as a path relative to `src/` with `/` separators.
fn files_under(dir: &Path, prefix: &str, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let entry = entry.unwrap();
        let name = entry.file_name().into_string().unwrap();
        let path = entry.path();
        if entry.file_type().unwrap().is_dir() {
            files_under(&path, &format!("{prefix}{name}/"), out);
        } else if name.ends_with(".rs") {
            out.insert(format!("{prefix}{name}"));
        }
    }
}

/// The files the map names: every backquoted `*.rs` path in the crate docs (`//!` lines) of
/// `src/lib.rs`.
fn files_in_map(lib_rs: &str) -> BTreeSet<String> {
    let docs: String = lib_rs
        .lines()
        .filter_map(|l| l.trim_start().strip_prefix("//!"))
        .collect::<Vec<_>>()
        .join("\n");
    docs.split('`')
        .skip(1)
        .step_by(2) // the text between a pair of backquotes
        .filter(|s| {
            s.ends_with(".rs")
                && s.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "_/.".contains(c))
        })
        .map(str::to_string)
        .collect()
}

#[test]
fn module_map_names_every_source_file_and_nothing_else() {
    let lib_rs = std::fs::read_to_string(root().join("src/lib.rs")).unwrap();
    let mapped = files_in_map(&lib_rs);
    let mut existing = BTreeSet::new();
    files_under(&root().join("src"), "", &mut existing);
    existing.remove("lib.rs"); // the map's own file
    assert!(existing.len() > 60, "found only {existing:?} under src/");
    let unmapped: Vec<_> = existing.difference(&mapped).collect();
    let absent: Vec<_> = mapped.difference(&existing).collect();
    assert!(
        unmapped.is_empty() && absent.is_empty(),
        "src/lib.rs's module map is out of date: files it does not name: {unmapped:?}; \
         files it names that do not exist: {absent:?}"
    );
}

#[test]
fn module_map_parser_reads_backquoted_paths_only() {
    let doc = "//! - `ffi/client.rs` (`oss_client_t`, Arc), `ffi/config.rs`\n\
               //!   (`Box`), [`download`]: `download/mod.rs`.\n\
               // `not/a/doc.rs`\n\
               pub mod x; // `nor/this.rs`\n";
    let got: Vec<String> = files_in_map(doc).into_iter().collect();
    assert_eq!(got, ["download/mod.rs", "ffi/client.rs", "ffi/config.rs"]);
}

/// The README keeps no second copy: its "Layout" section points to `src/lib.rs` and names no
/// file under `src/` itself.
#[test]
fn readme_layout_points_to_the_module_map() {
    let readme = std::fs::read_to_string(root().join("README.md")).unwrap();
    let start = readme
        .find("\n## Layout\n")
        .expect("README has a Layout section");
    let section = &readme[start + 1..];
    let section = &section[..section[3..].find("\n## ").map_or(section.len(), |i| i + 3)];
    assert!(section.contains("src/lib.rs"), "{section}");
    let copies: Vec<&str> = section
        .lines()
        .filter(|l| {
            l.match_indices("src/").any(|(i, _)| {
                let rest = &l[i + 4..];
                rest.starts_with(|c: char| c.is_ascii_lowercase()) && !rest.starts_with("lib.rs")
            })
        })
        .collect();
    assert!(
        copies.is_empty(),
        "README's Layout lists src/ itself: {copies:?}"
    );
}
