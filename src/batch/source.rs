//! The objects of a batch as they become known: the pages of a prefix's listing, or the HEADs of
//! a key list (many at a time), sent one by one into a bounded channel, so that the listing never
//! runs more than a page or so ahead of the downloads (the memory of a batch of a million keys
//! stays that of one page plus the objects in flight).

use futures_util::StreamExt;
use tokio::sync::mpsc;

use super::filter::unix_seconds;
use super::key_path;
use super::request::Source;
use crate::cancel::Cancel;
use crate::client::Client;
use crate::error::{Error, Result};
use crate::listing::{self, ListRequest, Listing};
use crate::object::ObjectRequest;

/// The objects waiting in the channel at most (one listing page).
pub const CHANNEL: usize = 1000;
/// HEADs of a key list in flight at most.
pub const HEADS_IN_FLIGHT: usize = 32;

/// One object of the source, as the listing (or its HEAD) describes it.
#[derive(Clone, Debug)]
pub struct Item {
    pub key: String,
    pub size: u64,
    pub etag: String,
    /// Last-Modified, Unix seconds (`None` when unparseable).
    pub modified: Option<i64>,
}

/// What the source sends: an object, a key that failed alone (a key of the list that could not
/// be HEADed; a listed key or a key of the list that OSS cannot hold, over 1023 bytes or with a
/// NUL: `UnsafeKey`, named escaped and cut), or the listing's failure (the last message).
#[derive(Debug)]
pub enum Listed {
    Object(Item),
    KeyFailed(String, Error),
    ListingFailed(Error),
}

/// Starts the source on the runtime; the channel closes when it is exhausted (or failed). It
/// stops when the receiver is dropped or `cancel` fires.
pub fn start(
    client: &Client,
    bucket: &str,
    source: &Source,
    cancel: Cancel,
) -> (mpsc::Receiver<Listed>, tokio::task::JoinHandle<()>) {
    let (tx, rx) = mpsc::channel(CHANNEL);
    let client = client.clone();
    let bucket = bucket.to_string();
    let task = match source.clone() {
        Source::Prefix(prefix) => tokio::spawn(async move {
            if let Err(e) = list(&client, &bucket, &prefix, &cancel, &tx).await {
                let _ = tx.send(Listed::ListingFailed(e)).await;
            }
        }),
        Source::Keys(keys) => tokio::spawn(async move {
            head_all(&client, &bucket, keys, &cancel, &tx).await;
        }),
    };
    (rx, task)
}

async fn list(
    client: &Client,
    bucket: &str,
    prefix: &str,
    cancel: &Cancel,
    tx: &mpsc::Sender<Listed>,
) -> Result<()> {
    let mut req = ListRequest::new(bucket);
    req.prefix = prefix.to_string();
    let mut listing = Listing::new(client, req)?;
    while let Some(page) = listing.next_page(cancel).await? {
        for e in page.entries {
            if let Some(bad) = e.invalid {
                let failed = key_path::refuse_unusable(bad.shown.clone(), &bad.rule);
                if tx.send(Listed::KeyFailed(bad.shown, failed)).await.is_err() {
                    return Ok(()); // the batch stopped
                }
                continue;
            }
            let item = Item {
                modified: unix_seconds(&e.last_modified),
                key: e.key,
                size: e.size,
                etag: e.etag,
            };
            if tx.send(Listed::Object(item)).await.is_err() {
                return Ok(()); // the batch stopped
            }
        }
    }
    Ok(())
}

/// HEADs every key once (a key given twice is fetched once), in byte order, `HEADS_IN_FLIGHT`
/// at a time (their answers come in any order). A key OSS cannot hold is not sent: it fails
/// alone (`UnsafeKey`).
async fn head_all(
    client: &Client,
    bucket: &str,
    keys: Vec<String>,
    cancel: &Cancel,
    tx: &mpsc::Sender<Listed>,
) {
    // In byte order, as a listing's (no second copy of the keys to find the repeated ones).
    let mut keys = keys;
    keys.sort_unstable();
    keys.dedup();
    let mut heads = futures_util::stream::iter(keys)
        .map(|key| async move {
            if let Some(rule) = listing::key_rule(&key) {
                let shown = listing::shown(&key);
                return Listed::KeyFailed(shown.clone(), key_path::refuse_unusable(shown, &rule));
            }
            let req = ObjectRequest {
                bucket: bucket.to_string(),
                key: key.clone(),
                ..ObjectRequest::default()
            };
            match client.head_object(&req, cancel).await {
                Ok(m) => Listed::Object(Item {
                    modified: unix_seconds(&m.last_modified),
                    key,
                    size: m.content_length,
                    etag: m.etag,
                }),
                Err(e) => Listed::KeyFailed(key, e),
            }
        })
        .buffer_unordered(HEADS_IN_FLIGHT);
    while let Some(listed) = heads.next().await {
        if tx.send(listed).await.is_err() {
            return;
        }
    }
}
