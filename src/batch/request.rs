//! The batch request (placeholder: the batch job's owner replaces this file).

/// What a batch downloads: every object under a prefix, or a caller's list of keys.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    Prefix(String),
    Keys(Vec<String>),
}
