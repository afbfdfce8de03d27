//! The batch's filters: include/exclude glob patterns on the local relative path, a size range
//! and a modification-time range.
//!
//! Patterns (as rclone's filters): `*` matches any run of characters but `/`, `**` any run
//! including `/` (`**/` also matches nothing, so `a/**/b` matches `a/b`), `?` one character but
//! `/`, `[abc]`, `[a-z]`, `[!a-z]` (or `[^a-z]`) one character of (not of) a class, `\x` the
//! character `x`; a pattern ending with `/` matches everything below that directory (`tmp/` is
//! `tmp/**`). A pattern starting with `/` is anchored at the destination's root; any other
//! pattern matches the end of the path at a component boundary (`*.gz` matches `a.gz` and
//! `2026/12/a.gz`; `logs/*.gz` matches `logs/a.gz` and `x/logs/a.gz`). Exclude wins; without any
//! include every path is included. Matching is linear in the path's length (no backtracking).

use crate::error::{Error, Result};

/// The longest pattern accepted, in bytes.
pub const MAX_PATTERN_BYTES: usize = 4096;

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Char(char),
    /// `?`
    One,
    /// `*`
    Star,
    /// `**`
    Any,
    /// `**/`: nothing, or anything ending with `/`.
    AnyDirs,
    Class {
        negated: bool,
        items: Vec<(char, char)>,
    },
}

/// One compiled glob pattern.
#[derive(Debug, Clone)]
pub struct Glob {
    tokens: Vec<Token>,
}

impl Glob {
    /// Compiles `pattern` (anchored at the start of the path when it starts with `/`, else
    /// matching any ending of the path at a component boundary).
    pub fn new(pattern: &str) -> Result<Glob> {
        if pattern.is_empty() || pattern.len() > MAX_PATTERN_BYTES || pattern.contains('\0') {
            return Err(Error::validate(format!(
                "the pattern {:?} must be 1 to {MAX_PATTERN_BYTES} bytes without NUL",
                pattern.chars().take(64).collect::<String>()
            )));
        }
        let (anchored, body) = match pattern.strip_prefix('/') {
            Some(rest) => (true, rest),
            None => (false, pattern),
        };
        // `dir/`: everything below it.
        let owned;
        let body = match body.ends_with('/') && !body.ends_with("\\/") {
            true => {
                owned = format!("{body}**");
                owned.as_str()
            }
            false => body,
        };
        let mut tokens = if anchored {
            Vec::new()
        } else {
            vec![Token::AnyDirs]
        };
        tokens.extend(parse(body).map_err(|why| {
            Error::validate(format!(
                "the pattern {pattern:?} is not a valid glob: {why}"
            ))
        })?);
        Ok(Glob { tokens })
    }

    /// Whether the whole `path` (relative, `/`-separated) matches. A simulation of the
    /// pattern's automaton: `at[i]` means "token `i` is next", `inside[i]` "within the run a
    /// `**/` at `i` matches, which must end with a `/`".
    pub fn matches(&self, path: &str) -> bool {
        let n = self.tokens.len();
        let mut at = vec![false; n + 1];
        let mut inside = vec![false; n + 1];
        at[0] = true;
        self.close(&mut at);
        for c in path.chars() {
            let mut next = vec![false; n + 1];
            let mut next_inside = vec![false; n + 1];
            for (i, t) in self.tokens.iter().enumerate() {
                if at[i] || (inside[i] && *t == Token::AnyDirs) {
                    step(t, i, c, &mut next, &mut next_inside);
                }
            }
            self.close(&mut next);
            if !next.iter().chain(&next_inside).any(|&s| s) {
                return false;
            }
            (at, inside) = (next, next_inside);
        }
        at[n]
    }

    /// Adds the states reachable without a character (`*`, `**`, `**/` may match nothing).
    fn close(&self, states: &mut [bool]) {
        for (i, t) in self.tokens.iter().enumerate() {
            if states[i] && matches!(t, Token::Star | Token::Any | Token::AnyDirs) {
                states[i + 1] = true;
            }
        }
    }
}

/// One character `c` read in state `i` (token `t`).
fn step(t: &Token, i: usize, c: char, next: &mut [bool], inside: &mut [bool]) {
    match t {
        Token::Char(x) if *x == c => next[i + 1] = true,
        Token::One if c != '/' => next[i + 1] = true,
        Token::Star if c != '/' => next[i] = true,
        Token::Any => next[i] = true,
        Token::AnyDirs => {
            inside[i] = true;
            if c == '/' {
                next[i + 1] = true;
            }
        }
        Token::Class { negated, items } => {
            let within = items.iter().any(|&(lo, hi)| lo <= c && c <= hi);
            if c != '/' && within != *negated {
                next[i + 1] = true;
            }
        }
        _ => {}
    }
}

fn parse(p: &str) -> std::result::Result<Vec<Token>, String> {
    let chars: Vec<char> = p.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        i += 1;
        match c {
            '*' if chars.get(i) == Some(&'*') => {
                i += 1;
                if chars.get(i) == Some(&'/') {
                    i += 1;
                    out.push(Token::AnyDirs);
                } else {
                    out.push(Token::Any);
                }
            }
            '*' => out.push(Token::Star),
            '?' => out.push(Token::One),
            '\\' => match chars.get(i) {
                Some(&x) => {
                    out.push(Token::Char(x));
                    i += 1;
                }
                None => return Err("it ends with a lone '\\'".into()),
            },
            '[' => {
                let (t, used) = parse_class(&chars[i..])?;
                out.push(t);
                i += used;
            }
            c => out.push(Token::Char(c)),
        }
    }
    Ok(out)
}

/// The class after a `[`: the token and the characters used (its closing `]` included).
fn parse_class(chars: &[char]) -> std::result::Result<(Token, usize), String> {
    let mut i = 0;
    let negated = matches!(chars.first(), Some('!') | Some('^'));
    if negated {
        i += 1;
    }
    let mut items = Vec::new();
    let mut first = true;
    loop {
        let Some(&c) = chars.get(i) else {
            return Err("a '[' class is not closed by ']'".into());
        };
        i += 1;
        if c == ']' && !first {
            break;
        }
        first = false;
        let lo = if c == '\\' {
            let x = *chars.get(i).ok_or("a '[' class is not closed by ']'")?;
            i += 1;
            x
        } else {
            c
        };
        let hi = if chars.get(i) == Some(&'-') && chars.get(i + 1).is_some_and(|&x| x != ']') {
            i += 2;
            chars[i - 1]
        } else {
            lo
        };
        if hi < lo {
            return Err(format!("the range {lo}-{hi} is reversed"));
        }
        items.push((lo, hi));
    }
    Ok((Token::Class { negated, items }, i))
}

/// Every filter of a batch, compiled.
#[derive(Debug, Clone)]
pub struct Filter {
    include: Vec<Glob>,
    exclude: Vec<Glob>,
    min_size: Option<u64>,
    max_size: Option<u64>,
    modified_after: Option<i64>,
    modified_before: Option<i64>,
}

impl Filter {
    /// Compiles the `include` and `exclude` patterns (`ValidateError` naming a bad one) with
    /// the size range `(min, max)` in bytes and the modification-time range `(after, before)` in
    /// Unix seconds, each bound inclusive and optional.
    pub fn new(
        include: &[String],
        exclude: &[String],
        (min_size, max_size): (Option<u64>, Option<u64>),
        (modified_after, modified_before): (Option<i64>, Option<i64>),
    ) -> Result<Filter> {
        let compile = |v: &[String]| v.iter().map(|p| Glob::new(p)).collect::<Result<Vec<_>>>();
        Ok(Filter {
            include: compile(include)?,
            exclude: compile(exclude)?,
            min_size,
            max_size,
            modified_after,
            modified_before,
        })
    }

    /// Whether the time filters are set (a key list then needs each object's Last-Modified).
    pub fn needs_time(&self) -> bool {
        self.modified_after.is_some() || self.modified_before.is_some()
    }

    /// Whether an object of `size` bytes, modified at `modified` (Unix seconds; `None`: unknown,
    /// which fails any time filter), at the local relative `path`, passes every filter.
    pub fn accepts(&self, path: &str, size: u64, modified: Option<i64>) -> bool {
        if self.min_size.is_some_and(|m| size < m) || self.max_size.is_some_and(|m| size > m) {
            return false;
        }
        if self.needs_time() {
            let Some(t) = modified else { return false };
            if self.modified_after.is_some_and(|a| t < a)
                || self.modified_before.is_some_and(|b| t > b)
            {
                return false;
            }
        }
        if self.exclude.iter().any(|g| g.matches(path)) {
            return false;
        }
        self.include.is_empty() || self.include.iter().any(|g| g.matches(path))
    }
}

/// A listing's or HEAD's Last-Modified as Unix seconds.
pub fn unix_seconds(last_modified: &str) -> Option<i64> {
    let t = crate::date::parse_time(last_modified)?;
    match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => i64::try_from(d.as_secs()).ok(),
        Err(e) => i64::try_from(e.duration().as_secs()).ok().map(|s| -s),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m(p: &str, path: &str) -> bool {
        Glob::new(p).unwrap().matches(path)
    }

    #[test]
    fn a_star_stays_within_one_component_and_two_stars_cross_them() {
        assert!(m("*.gz", "a.gz"));
        assert!(m("*.gz", "2026/12/a.gz"), "unanchored: any ending");
        assert!(!m("/*.gz", "2026/a.gz"), "anchored: * does not cross /");
        assert!(m("/*.gz", "a.gz"));
        assert!(m("/**.gz", "2026/12/a.gz"));
        assert!(m("/a/**/b", "a/b"));
        assert!(m("/a/**/b", "a/x/y/b"));
        assert!(!m("/a/**/b", "a/xb"));
        assert!(m("logs/*.gz", "x/logs/a.gz"));
        assert!(!m("logs/*.gz", "xlogs/a.gz"), "component boundary");
        assert!(!m("*.gz", "a.gzip"));
        assert!(m("tmp/", "tmp/a"));
        assert!(m("tmp/", "x/tmp/b/c"));
        assert!(!m("tmp/", "tmp"));
        assert!(!m("/tmp/", "x/tmp/a"));
    }

    #[test]
    fn question_marks_classes_and_escapes() {
        assert!(m("/a?c", "abc"));
        assert!(!m("/a?c", "a/c"));
        assert!(m("/[a-c]x", "bx"));
        assert!(!m("/[!a-c]x", "bx"));
        assert!(m("/[^a-c]x", "dx"));
        assert!(m("/[]]x", "]x"));
        assert!(m("/\\*", "*"));
        assert!(!m("/\\*", "a"));
        assert!(m("/é?", "éü"));
        for bad in ["", "[abc", "a\\", "[z-a]"] {
            assert!(Glob::new(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn many_stars_match_in_linear_time() {
        let p = "/".to_string() + &"*a".repeat(200) + "b";
        let path = "a".repeat(5000);
        assert!(!m(&p, &path));
    }

    #[test]
    fn exclude_wins_and_sizes_and_times_are_inclusive() {
        let f = Filter::new(
            &["*.gz".into()],
            &["/tmp/**".into()],
            (Some(10), Some(20)),
            (Some(100), Some(200)),
        )
        .unwrap();
        assert!(f.accepts("a.gz", 10, Some(100)));
        assert!(f.accepts("d/a.gz", 20, Some(200)));
        assert!(!f.accepts("tmp/a.gz", 15, Some(150)));
        assert!(!f.accepts("a.txt", 15, Some(150)));
        assert!(!f.accepts("a.gz", 9, Some(150)));
        assert!(!f.accepts("a.gz", 21, Some(150)));
        assert!(!f.accepts("a.gz", 15, Some(99)));
        assert!(!f.accepts("a.gz", 15, Some(201)));
        assert!(!f.accepts("a.gz", 15, None));
        assert_eq!(unix_seconds("1970-01-01T00:01:40.000Z"), Some(100));
    }
}
