//! Listing a bucket (ListObjectsV2): pages, continuation tokens, and the guards that keep a
//! wrong or hostile server from looping a caller forever or handing it a key it cannot use.
//!
//! A [`Listing`] asks for one page at a time through the signed request path (the
//! transport's retries apply to each page; a page whose body is cut is asked for again within
//! the same retry budget), always with `encoding-type=url`, and decodes what the server
//! encoded, so that every key OSS allows comes back exactly. It refuses, with an error of kind
//! `Server` that is never retried:
//! - `ListingLoop`: a continuation token seen before, or entries that do not grow strictly
//!   (within a page, and from one page to the next), or more than [`MAX_EMPTY_PAGES`]
//!   truncated pages in a row with no entry, or more than [`MAX_SPARSE_PAGES`] truncated pages
//!   in a row each holding under 1% of the entries asked for (an endless listing that hands out
//!   a fresh token and a key or two per page would otherwise never end);
//! - `ListingTruncatedWithoutToken`: `IsTruncated` true and no `NextContinuationToken`;
//! - `ListingTooLarge`: a page larger than [`ListRequest::max_page_bytes`], or more pages
//!   than [`ListRequest::max_pages`];
//! - `MalformedListing`: not a `ListBucketResult` document, a field missing or unparseable,
//!   an entry outside the prefix, an encoding that does not decode to UTF-8;
//! - `InvalidListedKey`: a common prefix of more than 1023 bytes or with a NUL.
//!
//! A key OSS cannot hold (more than 1023 bytes, or a NUL) does not fail the page: its entry is
//! yielded marked [`ListEntry::invalid`] (the rule it breaks and the key escaped and cut, never
//! the whole key), with an empty `key`, so that a caller goes on with the other keys and
//! reports that one. Such entries still take part in the ordering guards, and a truncated page
//! holding nothing else counts as an empty page for the endless-listing guards.
//!
//! Used by the batch download and the Python filesystem (later); it knows nothing of files.

use std::collections::HashSet;

use crate::cancel::Cancel;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::log::{self, Level};
use crate::transport::{header_str, HttpRequest};

/// The most truncated pages in a row that may carry no entry at all.
pub const MAX_EMPTY_PAGES: u32 = 64;
/// The most truncated pages in a row that may each hold under 1% of `max_keys` entries (only
/// when that is at least one entry: `max_keys` >= 100).
pub const MAX_SPARSE_PAGES: u32 = 1000;
/// The default cap on one page's answer: 1000 keys of 1023 bytes, each byte encoded as `%XX`,
/// with their fields, are about 3.5 MiB.
pub const DEFAULT_MAX_PAGE_BYTES: u64 = 8 << 20;
/// The longest key OSS allows, in bytes.
pub const MAX_KEY_BYTES: usize = 1023;

/// The rule `key` breaks if OSS cannot hold it (more than [`MAX_KEY_BYTES`] bytes, or a NUL),
/// for a message; `None` for a key OSS allows (an empty key is the caller's to judge).
pub fn key_rule(key: &str) -> Option<String> {
    if key.len() > MAX_KEY_BYTES {
        Some(format!(
            "it is {} bytes long; OSS keys are at most {MAX_KEY_BYTES} bytes",
            key.len()
        ))
    } else if key.contains('\0') {
        Some("it holds a NUL character, which no OSS key can".to_string())
    } else {
        None
    }
}

/// `key` as shown in a message: escaped (control characters visible), cut after 200 characters.
pub fn shown(key: &str) -> String {
    const MAX: usize = 200;
    match key.char_indices().nth(MAX) {
        Some((i, _)) => format!(
            "{}... ({} bytes in all)",
            key[..i].escape_debug(),
            key.len()
        ),
        None => key.escape_debug().to_string(),
    }
}

/// What to list.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListRequest {
    pub bucket: String,
    /// Only keys starting with this ("" = all).
    pub prefix: String,
    /// Groups keys by what follows the prefix up to the first delimiter ("" = no grouping).
    pub delimiter: String,
    /// Only keys after this one, in byte order ("" = from the start).
    pub start_after: String,
    /// Entries (keys and common prefixes) per page, 1..=1000.
    pub max_keys: u32,
    /// The largest page answer accepted, in bytes.
    pub max_page_bytes: u64,
    /// Stop with `ListingTooLarge` after this many pages (None: no limit).
    pub max_pages: Option<u64>,
    /// Sends `x-oss-request-payer: requester`.
    pub request_payer: bool,
}

impl ListRequest {
    pub fn new(bucket: &str) -> ListRequest {
        ListRequest {
            bucket: bucket.to_string(),
            prefix: String::new(),
            delimiter: String::new(),
            start_after: String::new(),
            max_keys: 1000,
            max_page_bytes: DEFAULT_MAX_PAGE_BYTES,
            max_pages: None,
            request_payer: false,
        }
    }

    fn validate(&self) -> Result<()> {
        crate::endpoint::validate_bucket(&self.bucket)?;
        if !(1..=1000).contains(&self.max_keys) {
            return Err(Error::validate(format!(
                "max_keys must be between 1 and 1000, got {}",
                self.max_keys
            )));
        }
        for (what, v) in [
            ("prefix", &self.prefix),
            ("delimiter", &self.delimiter),
            ("start_after", &self.start_after),
        ] {
            if v.len() > MAX_KEY_BYTES || v.contains('\0') {
                return Err(Error::validate(format!(
                    "the {what} must be at most {MAX_KEY_BYTES} bytes without NUL"
                )));
            }
        }
        if self.max_page_bytes == 0 {
            return Err(Error::validate("max_page_bytes must not be 0"));
        }
        Ok(())
    }
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListEntry {
    /// The key, decoded: exactly as stored. Empty when [`ListEntry::invalid`] is set.
    pub key: String,
    pub size: u64,
    /// Verbatim, quotes included.
    pub etag: String,
    /// As sent (ISO 8601, `2026-12-07T08:06:26.000Z`).
    pub last_modified: String,
    /// `Standard`, `IA`, `Archive`, ... ("" when absent).
    pub storage_class: String,
    /// `Normal`, `Multipart`, `Appendable`, `Symlink` ("" when absent).
    pub object_type: String,
    /// Set when the listed key is one OSS cannot hold (over 1023 bytes, or with a NUL): the
    /// entry has no usable key (`key` is empty) and a caller skips it, reporting this.
    pub invalid: Option<InvalidKey>,
}

/// A listed key OSS cannot hold, as much of it as a message needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidKey {
    /// The key escaped (no control character, no NUL) and cut after 200 characters.
    pub shown: String,
    /// The rule it breaks (`it is 10005 bytes long; OSS keys are at most 1023 bytes`).
    pub rule: String,
}

/// One page of a listing.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    /// In byte order.
    pub entries: Vec<ListEntry>,
    /// The groups (with a delimiter), decoded, in byte order.
    pub common_prefixes: Vec<String>,
    /// Whether more pages follow.
    pub is_truncated: bool,
    /// The token of the next page (decoded), when truncated.
    pub next_token: Option<String>,
    pub request_id: String,
}

/// A listing in progress: call [`Listing::next_page`] until it returns `None`.
pub struct Listing {
    client: Client,
    req: ListRequest,
    token: Option<String>,
    seen_tokens: HashSet<String>,
    /// The greatest entry (key or common prefix) returned so far.
    last: Option<String>,
    pages: u64,
    empty_run: u32,
    sparse_run: u32,
    done: bool,
    failed: Option<Error>,
}

impl Listing {
    /// Checks the request; sends nothing.
    pub fn new(client: &Client, req: ListRequest) -> Result<Listing> {
        req.validate()?;
        Ok(Listing {
            client: client.clone(),
            req,
            token: None,
            seen_tokens: HashSet::new(),
            last: None,
            pages: 0,
            empty_run: 0,
            sparse_run: 0,
            done: false,
            failed: None,
        })
    }

    /// The next page, or `None` once the last one was returned. After an error every call
    /// returns that error again (a listing that failed stays failed).
    pub async fn next_page(&mut self, cancel: &Cancel) -> Result<Option<ListPage>> {
        if let Some(e) = &self.failed {
            return Err(e.clone());
        }
        if self.done {
            return Ok(None);
        }
        let r = self.next_page_inner(cancel).await;
        if let Err(e) = &r {
            // A cancelled listing may be asked again; anything else is final.
            if e.kind == crate::error::ErrorKind::Cancelled {
                self.done = false;
            } else {
                self.failed = Some(e.clone());
            }
        }
        r
    }

    async fn next_page_inner(&mut self, cancel: &Cancel) -> Result<Option<ListPage>> {
        self.done = true;
        if let Some(max) = self.req.max_pages {
            if self.pages >= max {
                return Err(Error::server(
                    "ListingTooLarge",
                    format!(
                        "listing {}/{} went past {max} pages",
                        self.req.bucket, self.req.prefix
                    ),
                ));
            }
        }
        let mut page = self.fetch(cancel).await?;
        self.check(&page)?;
        // The ordering guards saw the whole keys; the entries keep none of an invalid one.
        for e in page.entries.iter_mut().filter(|e| e.invalid.is_some()) {
            e.key = String::new();
        }
        self.pages += 1;
        // Entries with an invalid key are no entries for the endless-listing guards.
        let held = page.entries.iter().filter(|e| e.invalid.is_none()).count()
            + page.common_prefixes.len();
        if held == 0 && page.is_truncated {
            self.empty_run += 1;
            if self.empty_run > MAX_EMPTY_PAGES {
                return Err(self.looping(format!(
                    "more than {MAX_EMPTY_PAGES} truncated pages in a row had no entry"
                )));
            }
        } else {
            self.empty_run = 0;
        }
        if page.is_truncated && held as u64 * 100 < u64::from(self.req.max_keys) {
            self.sparse_run += 1;
            if self.sparse_run > MAX_SPARSE_PAGES {
                return Err(self.looping(format!(
                    "more than {MAX_SPARSE_PAGES} truncated pages in a row each held under 1% \
                     of the {} entries asked for: the listing does not end",
                    self.req.max_keys
                )));
            }
        } else {
            self.sparse_run = 0;
        }
        if page.is_truncated {
            self.done = false;
            let token = page.next_token.clone().unwrap_or_default();
            if !self.seen_tokens.insert(token.clone()) {
                return Err(self.looping(format!(
                    "the server sent the continuation token {token:?} a second time"
                )));
            }
            self.token = Some(token);
        }
        Ok(Some(page))
    }

    /// Every remaining page's entries and common prefixes, in order.
    pub async fn collect_all(&mut self, cancel: &Cancel) -> Result<(Vec<ListEntry>, Vec<String>)> {
        let (mut entries, mut prefixes) = (Vec::new(), Vec::new());
        while let Some(p) = self.next_page(cancel).await? {
            entries.extend(p.entries);
            prefixes.extend(p.common_prefixes);
        }
        Ok((entries, prefixes))
    }

    /// The pages as a stream (ends after the last page or the first error).
    pub fn into_stream(self, cancel: Cancel) -> impl futures_util::Stream<Item = Result<ListPage>> {
        futures_util::stream::unfold(
            (self, cancel, false),
            |(mut listing, cancel, failed)| async move {
                if failed {
                    return None;
                }
                match listing.next_page(&cancel).await {
                    Ok(Some(p)) => Some((Ok(p), (listing, cancel, false))),
                    Ok(None) => None,
                    Err(e) => Some((Err(e), (listing, cancel, true))),
                }
            },
        )
    }

    fn looping(&self, why: String) -> Error {
        Error::server(
            "ListingLoop",
            format!(
                "listing {}/{} stopped: {why}",
                self.req.bucket, self.req.prefix
            ),
        )
    }

    fn http_request(&self) -> HttpRequest {
        let mut query = vec![
            ("list-type".to_string(), Some("2".to_string())),
            ("encoding-type".to_string(), Some("url".to_string())),
            ("max-keys".to_string(), Some(self.req.max_keys.to_string())),
        ];
        let mut add = |k: &str, v: &str| {
            if !v.is_empty() {
                query.push((k.to_string(), Some(v.to_string())));
            }
        };
        add("prefix", &self.req.prefix);
        add("delimiter", &self.req.delimiter);
        match &self.token {
            Some(t) => add("continuation-token", t),
            None => add("start-after", &self.req.start_after),
        }
        let mut headers = Vec::new();
        if self.req.request_payer {
            headers.push(("x-oss-request-payer".to_string(), "requester".to_string()));
        }
        HttpRequest {
            method: reqwest::Method::GET,
            bucket: self.req.bucket.clone(),
            key: String::new(),
            query,
            headers,
            url: None,
        }
    }

    /// One page: sent with the transport's retries; a body cut short is asked for again
    /// within the same budget.
    async fn fetch(&self, cancel: &Cancel) -> Result<ListPage> {
        let http = self.http_request();
        let cfg = self.client.config();
        let mut attempt = 0u32;
        loop {
            let r = self.client.send(&http, cancel).await?;
            let request_id = header_str(r.resp.headers(), "x-oss-request-id").unwrap_or_default();
            let host = r.host.clone();
            let (transport, switched) = (self.client.transport(), self.client.switched(cancel));
            match transport
                .read_capped(r, self.req.max_page_bytes, &switched)
                .await
            {
                Ok(Ok(body)) => {
                    return parse_page(&body, &self.req.prefix)
                        .map(|mut p| {
                            p.request_id = request_id.clone();
                            p
                        })
                        .map_err(|e| e.with_request_id(request_id).with_host(host));
                }
                Ok(Err(size)) => {
                    return Err(Error::server(
                        "ListingTooLarge",
                        format!(
                        "a page of listing {}/{} is {size} bytes or more; at most {} are accepted",
                        self.req.bucket, self.req.prefix, self.req.max_page_bytes
                    ),
                    )
                    .with_request_id(request_id)
                    .with_host(host))
                }
                Err(e) if e.is_retryable() && attempt < cfg.max_retries => {
                    attempt += 1;
                    let delay = cfg.retry_delay(attempt);
                    log::log(Level::Warn, || {
                        format!(
                            "ListObjectsV2 {}/{}: {e}; retry {attempt}/{} in {} ms",
                            self.req.bucket,
                            self.req.prefix,
                            cfg.max_retries,
                            delay.as_millis()
                        )
                    });
                    cancel.sleep(delay).await?;
                }
                Err(e) => return Err(e),
            }
        }
    }

    /// The guards that need the listing's history: strictly growing entries, keys after
    /// `start_after`.
    fn check(&mut self, page: &ListPage) -> Result<()> {
        for (what, list) in [
            (
                "keys",
                page.entries
                    .iter()
                    .map(|e| e.key.as_str())
                    .collect::<Vec<_>>(),
            ),
            (
                "common prefixes",
                page.common_prefixes.iter().map(String::as_str).collect(),
            ),
        ] {
            if let Some(w) = list.windows(2).find(|w| w[0] >= w[1]) {
                return Err(self.looping(format!(
                    "the page's {what} are not in strictly increasing order ('{}' then '{}')",
                    shown(w[0]),
                    shown(w[1])
                )));
            }
            if let (Some(last), Some(first)) = (&self.last, list.first()) {
                if *first <= last.as_str() {
                    return Err(self.looping(format!(
                        "the page starts at '{}', not after '{}' where the previous one ended",
                        shown(first),
                        shown(last)
                    )));
                }
            }
        }
        if self.last.is_none() && !self.req.start_after.is_empty() {
            if let Some(first) = page.entries.first() {
                if first.key <= self.req.start_after {
                    return Err(self.looping(format!(
                        "the key '{}' is not after start-after '{}'",
                        shown(&first.key),
                        shown(&self.req.start_after)
                    )));
                }
            }
        }
        let page_last = [
            page.entries.last().map(|e| &e.key),
            page.common_prefixes.last(),
        ]
        .into_iter()
        .flatten()
        .max();
        if let Some(l) = page_last {
            self.last = Some(l.clone());
        }
        Ok(())
    }
}

fn malformed(why: impl Into<String>) -> Error {
    Error::server(
        "MalformedListing",
        format!("the listing answer is malformed: {}", why.into()),
    )
}

/// A key or common prefix as listed: decoded when the answer says `EncodingType` url.
fn listed_name(raw: &str, url: bool, what: &str) -> Result<String> {
    if !url {
        return Ok(raw.to_string());
    }
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(raw).collect();
    String::from_utf8(bytes).map_err(|_| {
        malformed(format!(
            "the {what} {} does not decode to UTF-8",
            shown(raw)
        ))
    })
}

/// Parses a `ListBucketResult` document (ListObjectsV2).
pub(crate) fn parse_page(body: &[u8], prefix: &str) -> Result<ListPage> {
    let text = std::str::from_utf8(body).map_err(|_| malformed("the answer is not UTF-8"))?;
    let raw = RawPage::read(text)?;
    let is_truncated = raw
        .truncated
        .ok_or_else(|| malformed("IsTruncated is missing"))?;
    let url = raw.encoding.eq_ignore_ascii_case("url");
    let mut page = ListPage {
        is_truncated,
        ..Default::default()
    };
    for c in raw.contents {
        page.entries.push(entry(c, url, prefix)?);
    }
    for p in raw.prefixes {
        let p = listed_name(&p, url, "common prefix")?;
        if let Some(rule) = key_rule(&p) {
            return Err(Error::server(
                "InvalidListedKey",
                format!(
                    "the listing holds the common prefix '{}': {rule}",
                    shown(&p)
                ),
            ));
        }
        if p.is_empty() || !p.starts_with(prefix) {
            return Err(malformed(format!(
                "the common prefix {p:?} is not under the prefix {prefix:?}"
            )));
        }
        page.common_prefixes.push(p);
    }
    if is_truncated {
        page.next_token = Some(next_token(raw.next_token, url)?);
    }
    Ok(page)
}

/// One listed object from its raw fields: key, size, etag, last-modified, storage class, type.
fn entry(fields: [Option<String>; 6], url: bool, prefix: &str) -> Result<ListEntry> {
    let [key, size, etag, lm, sc, ty] = fields;
    let key = key.ok_or_else(|| malformed("a Contents has no Key"))?;
    let key = listed_name(&key, url, "key")?;
    let show = || shown(&key);
    if key.is_empty() || !key.starts_with(prefix) {
        return Err(malformed(format!(
            "the key '{}' is not under the prefix {prefix:?}",
            show()
        )));
    }
    let size = size
        .ok_or_else(|| malformed(format!("the key '{}' has no Size", show())))?
        .trim()
        .parse::<u64>()
        .map_err(|_| malformed(format!("the key '{}' has an invalid Size", show())))?;
    let invalid = key_rule(&key).map(|rule| InvalidKey {
        shown: show(),
        rule,
    });
    Ok(ListEntry {
        invalid,
        key,
        size,
        etag: etag.unwrap_or_default(),
        last_modified: lm.unwrap_or_default(),
        storage_class: sc.unwrap_or_default(),
        object_type: ty.unwrap_or_default(),
    })
}

/// The continuation token of a truncated page, decoded.
fn next_token(raw: Option<String>, url: bool) -> Result<String> {
    let raw = raw.filter(|t| !t.is_empty()).ok_or_else(|| {
        Error::server(
            "ListingTruncatedWithoutToken",
            "the listing answer says IsTruncated but has no NextContinuationToken",
        )
    })?;
    if !url {
        return Ok(raw);
    }
    let bytes: Vec<u8> = percent_encoding::percent_decode_str(&raw).collect();
    String::from_utf8(bytes).map_err(|_| malformed("the token does not decode to UTF-8"))
}

/// The fields of a page as the document holds them (still encoded).
#[derive(Default)]
struct RawPage {
    truncated: Option<bool>,
    encoding: String,
    next_token: Option<String>,
    /// Key, size, etag, last-modified, storage class, type.
    contents: Vec<[Option<String>; 6]>,
    prefixes: Vec<String>,
}

impl RawPage {
    /// Reads the document: one `ListBucketResult` root, complete, nested at most 9 deep.
    fn read(text: &str) -> Result<RawPage> {
        use quick_xml::events::Event;
        let mut reader = quick_xml::Reader::from_str(text);
        let mut raw = RawPage::default();
        let mut path: Vec<String> = Vec::new();
        let mut value = String::new();
        let mut saw_root = false;
        loop {
            let ev = reader
                .read_event()
                .map_err(|e| malformed(format!("bad XML: {e}")))?;
            match ev {
                Event::Start(e) => {
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    if path.is_empty() {
                        if name != "ListBucketResult" || saw_root {
                            return Err(malformed(format!("the root element is <{name}>")));
                        }
                        saw_root = true;
                    }
                    if path.len() == 1 && name == "Contents" {
                        raw.contents.push(Default::default());
                    }
                    if path.len() > 8 {
                        return Err(malformed("elements nested too deep"));
                    }
                    path.push(name);
                    value.clear();
                }
                Event::Empty(e) => {
                    let name = String::from_utf8_lossy(e.name().as_ref()).into_owned();
                    if path.is_empty() {
                        return Err(malformed(format!("the root element is <{name}/>")));
                    }
                    path.push(name);
                    value.clear();
                    raw.store(&path, "")?;
                    path.pop();
                }
                Event::Text(t) => {
                    let s = t
                        .unescape()
                        .map_err(|e| malformed(format!("bad XML text: {e}")))?;
                    value.push_str(&s);
                }
                Event::CData(t) => {
                    value.push_str(
                        std::str::from_utf8(&t).map_err(|_| malformed("CDATA is not UTF-8"))?,
                    );
                }
                Event::End(_) => {
                    raw.store(&path, &value)?;
                    value.clear();
                    path.pop();
                }
                Event::Eof => break,
                _ => {}
            }
        }
        if !saw_root || !path.is_empty() {
            return Err(malformed("the document is incomplete"));
        }
        Ok(raw)
    }

    /// Keeps `value`, the text of the element at `path`, when it is a field of the page.
    fn store(&mut self, path: &[String], value: &str) -> Result<()> {
        let p: Vec<&str> = path.iter().map(String::as_str).collect();
        match p.as_slice() {
            ["ListBucketResult", "IsTruncated"] => {
                self.truncated = Some(match value.trim() {
                    "true" => true,
                    "false" => false,
                    other => return Err(malformed(format!("IsTruncated is {other:?}"))),
                })
            }
            ["ListBucketResult", "EncodingType"] => self.encoding = value.trim().to_string(),
            ["ListBucketResult", "NextContinuationToken"] => {
                self.next_token = Some(value.to_string())
            }
            ["ListBucketResult", "Contents", field] => {
                let i = match *field {
                    "Key" => 0,
                    "Size" => 1,
                    "ETag" => 2,
                    "LastModified" => 3,
                    "StorageClass" => 4,
                    "Type" => 5,
                    _ => return Ok(()),
                };
                if let Some(c) = self.contents.last_mut() {
                    c[i] = Some(value.to_string());
                }
            }
            ["ListBucketResult", "CommonPrefixes", "Prefix"] => {
                self.prefixes.push(value.to_string())
            }
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const DOC: &str = r#"<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult><Name>b</Name><Prefix>p%2F</Prefix><MaxKeys>2</MaxKeys>
<EncodingType>url</EncodingType><IsTruncated>true</IsTruncated>
<NextContinuationToken>Cg%2B%2B</NextContinuationToken><KeyCount>2</KeyCount>
<Contents><Key>p/a%20b%2B%01</Key><LastModified>2026-12-07T08:06:26.000Z</LastModified>
<ETag>"5EB63BBBE01EEED093CB22BB8F5ACDC3"</ETag><Type>Normal</Type><Size>11</Size>
<StorageClass>Standard</StorageClass></Contents>
<CommonPrefixes><Prefix>p/d%2F</Prefix></CommonPrefixes></ListBucketResult>"#;

    /// Compile-time: a listing can be driven from a spawned task (the batch will).
    #[allow(dead_code)]
    fn listing_futures_are_send(mut l: Listing, c: Cancel) {
        fn send<T: Send>(_: T) {}
        send(async move { l.next_page(&c).await });
    }

    #[test]
    fn a_page_is_decoded() {
        let p = parse_page(DOC.as_bytes(), "p/").unwrap();
        assert_eq!(p.entries.len(), 1);
        let e = &p.entries[0];
        assert_eq!(e.key, "p/a b+\u{1}");
        assert_eq!(e.size, 11);
        assert_eq!(e.etag, "\"5EB63BBBE01EEED093CB22BB8F5ACDC3\"");
        assert_eq!(e.last_modified, "2026-12-07T08:06:26.000Z");
        assert_eq!(
            (e.storage_class.as_str(), e.object_type.as_str()),
            ("Standard", "Normal")
        );
        assert_eq!(p.common_prefixes, vec!["p/d/"]);
        assert!(p.is_truncated);
        assert_eq!(p.next_token.as_deref(), Some("Cg++"));
    }

    #[test]
    fn keys_oss_cannot_hold_are_entries_marked_invalid_with_a_short_text() {
        let key = |k: &str| {
            format!(
                "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>\
                 <Contents><Key>{k}</Key><Size>1</Size></Contents></ListBucketResult>"
            )
        };
        let invalid = |doc: String| {
            let mut p = parse_page(doc.as_bytes(), "").unwrap();
            assert_eq!(p.entries.len(), 1);
            p.entries.remove(0).invalid
        };
        let nul = invalid(key("a%00b")).expect("NUL");
        assert_eq!(nul.shown, "a\\0b");
        assert!(nul.rule.contains("NUL"), "{nul:?}");
        for long in ["k".repeat(1024), "%41".repeat(1024), "x".repeat(10_000)] {
            let i = invalid(key(&long)).expect("long");
            assert!(i.rule.contains("at most 1023 bytes"), "{i:?}");
            assert!(i.shown.len() < 250, "{}", i.shown.len());
        }
        assert_eq!(invalid(key(&"%41".repeat(1023))), None);
        assert_eq!(invalid(key("a%01b")), None);
    }

    #[test]
    fn bad_pages_are_refused_with_clear_codes() {
        let code = |doc: &str| parse_page(doc.as_bytes(), "").unwrap_err().code.clone();
        assert_eq!(code("<Error><Code>x</Code></Error>"), "MalformedListing");
        assert_eq!(
            code("<ListBucketResult><IsTruncated>true"),
            "MalformedListing"
        );
        assert_eq!(code("not xml <"), "MalformedListing");
        assert_eq!(
            code("<ListBucketResult></ListBucketResult>"),
            "MalformedListing"
        );
        assert_eq!(
            code("<ListBucketResult><IsTruncated>true</IsTruncated></ListBucketResult>"),
            "ListingTruncatedWithoutToken"
        );
        let key = |k: &str| {
            format!(
                "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>\
                 <Contents><Key>{k}</Key><Size>1</Size></Contents></ListBucketResult>"
            )
        };
        assert_eq!(code(&key("%FF")), "MalformedListing");
        let prefix = |p: &str| {
            format!(
                "<ListBucketResult><EncodingType>url</EncodingType><IsTruncated>false</IsTruncated>\
                 <CommonPrefixes><Prefix>{p}</Prefix></CommonPrefixes></ListBucketResult>"
            )
        };
        assert_eq!(code(&prefix("a%00/")), "InvalidListedKey");
        assert_eq!(code(&prefix(&"k".repeat(1024))), "InvalidListedKey");
        assert_eq!(
            parse_page(key("x").as_bytes(), "y").unwrap_err().code,
            "MalformedListing"
        );
    }
}
