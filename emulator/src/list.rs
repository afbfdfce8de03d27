//! ListObjects (`GET /`, v1: `marker`, `NextMarker`) and ListObjectsV2 (`GET /?list-type=2`:
//! `continuation-token`, `start-after`, `fetch-owner`), with `prefix`, `delimiter`,
//! `max-keys` (default 100, 1..=1000) and `encoding-type=url`. Keys come in byte order; a
//! common prefix counts as one entry of the page; a continuation token is the base64url of
//! the last entry the page returned (key or common prefix), so the next page starts after it
//! (and after the whole group of a common prefix). Listing faults (`list_truncated_no_token`,
//! `list_insert`, `list_delete`) and the body faults `cut`, `reset` (after N bytes), `stall`
//! apply here too.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

use base64::Engine;
use bytes::Bytes;
use tokio::sync::mpsc;

use crate::encoding::{uri_encode, xml_escape};
use crate::error::OssError;
use crate::faults::{CutPoint, FaultPlan};
use crate::meta::validate_key;
use crate::response::{full, RespBody};
use crate::state::{internal_error, query_value, Ctx};
use crate::time::fmt_rfc3339_millis;

/// The owner every listed object has (`Owner/ID` and `Owner/DisplayName`).
pub const OWNER_ID: &str = "1283641033516515";

const DEFAULT_MAX_KEYS: usize = 100;
const MAX_MAX_KEYS: usize = 1000;

/// The parameters of one listing request, checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListParams {
    pub v2: bool,
    pub prefix: String,
    pub delimiter: String,
    pub max_keys: usize,
    /// v1 `marker` or v2 `start-after`, as sent.
    pub marker: String,
    /// v2 `continuation-token`, as sent.
    pub token: Option<String>,
    pub url_encoding: bool,
    pub fetch_owner: bool,
}

impl ListParams {
    /// Parses the query of a bucket GET. `InvalidArgument` for a bad `max-keys`,
    /// `encoding-type` or continuation token.
    pub fn parse(query: &str) -> Result<ListParams, OssError> {
        let v = |name: &str| query_value(query, name);
        let v2 = match v("list-type").as_deref() {
            None => false,
            Some("2") => true,
            Some(other) => {
                return Err(OssError::invalid_argument(
                    "list-type must be 2",
                    "list-type",
                    other,
                ))
            }
        };
        let max_keys = match v("max-keys") {
            None => DEFAULT_MAX_KEYS,
            Some(s) => match s.parse::<usize>() {
                Ok(n) if (1..=MAX_MAX_KEYS).contains(&n) => n,
                _ => {
                    return Err(OssError::invalid_argument(
                        "Argument max-keys must be an integer between 1 and 1000.",
                        "max-keys",
                        &s,
                    ))
                }
            },
        };
        let url_encoding = match v("encoding-type") {
            None => false,
            Some(s) if s.eq_ignore_ascii_case("url") => true,
            Some(s) => {
                return Err(OssError::invalid_argument(
                    "The encoding-type parameter must be url.",
                    "encoding-type",
                    &s,
                ))
            }
        };
        // An empty token is no token (oss2 sends `continuation-token=` on the first page).
        let token = if v2 {
            v("continuation-token").filter(|t| !t.is_empty())
        } else {
            None
        };
        if let Some(t) = &token {
            decode_token(t)?;
        }
        let prefix = v("prefix").unwrap_or_default();
        if prefix.len() > 1023 {
            return Err(OssError::invalid_argument(
                "The prefix is longer than 1023 bytes.",
                "prefix",
                &prefix,
            ));
        }
        Ok(ListParams {
            v2,
            prefix,
            delimiter: v("delimiter").unwrap_or_default(),
            max_keys,
            marker: v(if v2 { "start-after" } else { "marker" }).unwrap_or_default(),
            token,
            url_encoding,
            fetch_owner: v2 && v("fetch-owner").is_some_and(|s| s.eq_ignore_ascii_case("true")),
        })
    }

    /// Where the page starts: after this entry (exclusive).
    fn after(&self) -> Result<Option<String>, OssError> {
        match &self.token {
            Some(t) => decode_token(t).map(Some),
            None => Ok(Some(self.marker.clone()).filter(|m| !m.is_empty())),
        }
    }
}

fn bad_token(t: &str) -> OssError {
    OssError::invalid_argument(
        "The continuation token provided is incorrect.",
        "continuation-token",
        t,
    )
}

pub fn encode_token(last: &str) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(last.as_bytes())
}

fn decode_token(t: &str) -> Result<String, OssError> {
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(t.as_bytes())
        .map_err(|_| bad_token(t))?;
    let s = String::from_utf8(bytes).map_err(|_| bad_token(t))?;
    if s.is_empty() || s.len() > 1023 {
        return Err(bad_token(t));
    }
    Ok(s)
}

/// One page of a listing, before it is written out.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Page {
    pub contents: Vec<String>,
    pub prefixes: Vec<String>,
    pub truncated: bool,
    /// The last entry returned (what the next page starts after).
    pub last: Option<String>,
}

/// Cuts one page out of `keys` (sorted, all starting with `prefix`).
pub fn paginate(
    keys: &[String],
    prefix: &str,
    delimiter: &str,
    after: Option<&str>,
    max: usize,
) -> Page {
    let mut page = Page::default();
    let mut i = after.map_or(0, |a| keys.partition_point(|k| k.as_str() <= a));
    let mut count = 0;
    while i < keys.len() {
        let k = &keys[i];
        let group = (!delimiter.is_empty())
            .then(|| k[prefix.len()..].find(delimiter))
            .flatten()
            .map(|p| &k[..prefix.len() + p + delimiter.len()]);
        if let Some(g) = group {
            if Some(g) == after {
                // The group was the last entry of the previous page.
                i += 1;
                continue;
            }
            if count == max {
                page.truncated = true;
                break;
            }
            page.prefixes.push(g.to_string());
            page.last = Some(g.to_string());
            count += 1;
            while i < keys.len() && keys[i].starts_with(g) {
                i += 1;
            }
        } else {
            if count == max {
                page.truncated = true;
                break;
            }
            page.contents.push(k.clone());
            page.last = Some(k.clone());
            count += 1;
            i += 1;
        }
    }
    page
}

fn element(out: &mut String, name: &str, value: &str) {
    out.push_str(&format!("<{name}>{}</{name}>", xml_escape(value)));
}

/// The `ListBucketResult` document of `page`. `no_token`: the fault "truncated, no token".
fn render(
    bucket: &str,
    p: &ListParams,
    page: &Page,
    metas: &[(String, crate::meta::ObjectMeta)],
    no_token: bool,
) -> String {
    let enc = |s: &str| {
        if p.url_encoding {
            uri_encode(s, true)
        } else {
            s.to_string()
        }
    };
    let mut x = String::from("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<ListBucketResult>");
    element(&mut x, "Name", bucket);
    element(&mut x, "Prefix", &enc(&p.prefix));
    if p.v2 {
        if !p.marker.is_empty() {
            element(&mut x, "StartAfter", &enc(&p.marker));
        }
        if let Some(t) = &p.token {
            element(&mut x, "ContinuationToken", &enc(t));
        }
    } else {
        element(&mut x, "Marker", &enc(&p.marker));
    }
    element(&mut x, "MaxKeys", &p.max_keys.to_string());
    if !p.delimiter.is_empty() {
        element(&mut x, "Delimiter", &enc(&p.delimiter));
    }
    if p.url_encoding {
        element(&mut x, "EncodingType", "url");
    }
    let truncated = page.truncated || no_token;
    element(
        &mut x,
        "IsTruncated",
        if truncated { "true" } else { "false" },
    );
    if page.truncated && !no_token {
        if let Some(last) = &page.last {
            if p.v2 {
                element(&mut x, "NextContinuationToken", &enc(&encode_token(last)));
            } else {
                element(&mut x, "NextMarker", &enc(last));
            }
        }
    }
    if p.v2 {
        element(
            &mut x,
            "KeyCount",
            &(page.contents.len() + page.prefixes.len()).to_string(),
        );
    }
    for (key, m) in metas {
        x.push_str("<Contents>");
        element(&mut x, "Key", &enc(key));
        element(
            &mut x,
            "LastModified",
            &fmt_rfc3339_millis(m.last_modified_time()),
        );
        element(&mut x, "ETag", &m.etag);
        element(&mut x, "Type", "Normal");
        element(&mut x, "Size", &m.size.to_string());
        element(&mut x, "StorageClass", "Standard");
        if !p.v2 || p.fetch_owner {
            x.push_str("<Owner>");
            element(&mut x, "ID", OWNER_ID);
            element(&mut x, "DisplayName", OWNER_ID);
            x.push_str("</Owner>");
        }
        x.push_str("</Contents>");
    }
    for prefix in &page.prefixes {
        x.push_str("<CommonPrefixes>");
        element(&mut x, "Prefix", &enc(prefix));
        x.push_str("</CommonPrefixes>");
    }
    x.push_str("</ListBucketResult>");
    x
}

/// Answers a listing of `bucket` (authenticated, front faults already applied).
pub(crate) async fn list_objects(
    ctx: Ctx,
    bucket: String,
    params: ListParams,
    plan: FaultPlan,
    reset: Arc<AtomicBool>,
) -> http::Response<RespBody> {
    let shared = ctx.shared.clone();
    let after = match params.after() {
        Ok(a) => a,
        Err(e) => return ctx.error(e, false),
    };
    let p = params.clone();
    let b = bucket.clone();
    let changes = plan.list_changes.clone();
    let built = tokio::task::spawn_blocking(move || -> std::io::Result<(Page, Vec<_>)> {
        for (key, insert) in &changes {
            if validate_key(key).is_err() {
                continue;
            }
            if *insert {
                shared
                    .store
                    .put(&b, key, &b"inserted by a fault"[..], None, Vec::new())?;
            } else {
                shared.store.delete(&b, key)?;
            }
        }
        let keys = shared.store.list_keys(&b, &p.prefix)?;
        let page = paginate(&keys, &p.prefix, &p.delimiter, after.as_deref(), p.max_keys);
        let mut metas = Vec::with_capacity(page.contents.len());
        for k in &page.contents {
            // An object deleted since the walk is simply left out.
            if let Some((m, _)) = shared.store.open(&b, k)? {
                metas.push((k.clone(), m));
            }
        }
        Ok((page, metas))
    })
    .await;
    let (page, metas) = match built {
        Ok(Ok(x)) => x,
        Ok(Err(e)) => return ctx.error(internal_error(e), false),
        Err(e) => return ctx.error(internal_error(e), false),
    };
    let body = Bytes::from(render(
        &bucket,
        &params,
        &page,
        &metas,
        plan.truncated_no_token,
    ));
    let len = body.len() as u64;
    let builder = ctx
        .base(200)
        .header("content-type", "application/xml")
        .header("content-length", len.to_string());
    let cut = plan.cut.map(|(p, rst)| {
        let at = match p {
            CutPoint::At(n) => n,
            CutPoint::Random(f) => (len as f64 * f) as u64,
        };
        (at.min(len) as usize, rst)
    });
    if cut.is_none() && plan.stall.is_none() {
        ctx.finish(200, len);
        return builder.body(full(body)).expect("response");
    }
    // A body fault: the answer is streamed so that it can stop or pause part-way.
    let (tx, rx) = mpsc::channel(4);
    let stall = plan.stall;
    tokio::spawn(async move {
        let mut sent = 0usize;
        let stop = cut.map_or(body.len(), |(at, _)| at);
        if let Some((at, ms)) = stall {
            let at = (at as usize).min(stop);
            let _ = tx.send(Ok(body.slice(..at))).await;
            sent = at;
            tokio::time::sleep(Duration::from_millis(ms)).await;
        }
        if stop > sent {
            let _ = tx.send(Ok(body.slice(sent..stop))).await;
            sent = stop;
        }
        if let Some((_, rst)) = cut {
            // Let hyper write out what was sent before the cut (as the GET pump does).
            let t0 = std::time::Instant::now();
            while tx.capacity() < tx.max_capacity() && t0.elapsed() < Duration::from_secs(2) {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
            if rst {
                reset.store(true, Ordering::SeqCst);
            }
            let _ = tx
                .send(Err(std::io::Error::new(
                    std::io::ErrorKind::ConnectionAborted,
                    "injected cut",
                )))
                .await;
        } else if sent < body.len() {
            let _ = tx.send(Ok(body.slice(sent..))).await;
            sent = body.len();
        }
        ctx.finish(200, sent as u64);
    });
    builder
        .body(RespBody::Stream { rx, remaining: len })
        .expect("response")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(k: &[&str]) -> Vec<String> {
        k.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn pages_with_a_delimiter_never_repeat_a_group() {
        let all = keys(&["a", "b/1", "b/2", "b/3", "c", "d/x/y", "e"]);
        let p1 = paginate(&all, "", "/", None, 2);
        assert_eq!(p1.contents, keys(&["a"]));
        assert_eq!(p1.prefixes, keys(&["b/"]));
        assert!(p1.truncated);
        let p2 = paginate(&all, "", "/", p1.last.as_deref(), 2);
        assert_eq!(p2.contents, keys(&["c"]));
        assert_eq!(p2.prefixes, keys(&["d/"]));
        assert!(p2.truncated);
        let p3 = paginate(&all, "", "/", p2.last.as_deref(), 2);
        assert_eq!(p3.contents, keys(&["e"]));
        assert!(!p3.truncated);
        // Exactly full: not truncated.
        let p = paginate(&keys(&["a", "b"]), "", "", None, 2);
        assert!(!p.truncated);
        let sub = keys(&["d/x/y", "d/z"]);
        let p = paginate(&sub, "d/", "/", None, 10);
        assert_eq!(p.prefixes, keys(&["d/x/"]));
        assert_eq!(p.contents, keys(&["d/z"]));
    }

    #[test]
    fn params_are_checked() {
        let p = ListParams::parse("list-type=2&max-keys=5&encoding-type=url&prefix=a%2Fb").unwrap();
        assert!(p.v2 && p.url_encoding);
        assert_eq!((p.max_keys, p.prefix.as_str()), (5, "a/b"));
        assert_eq!(ListParams::parse("").unwrap().max_keys, 100);
        for bad in [
            "max-keys=0",
            "max-keys=1001",
            "max-keys=x",
            "encoding-type=base64",
            "list-type=2&continuation-token=%%%",
            "list-type=3",
        ] {
            assert_eq!(
                ListParams::parse(bad).unwrap_err().code,
                "InvalidArgument",
                "{bad}"
            );
        }
        assert_eq!(decode_token(&encode_token("x/ü")).unwrap(), "x/ü");
    }
}
