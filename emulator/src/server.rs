//! The request dispatch: each request is authenticated, its bucket and key resolved, and routed
//! to its answer (`get`, `put`, `admin`). Shared state is in `state`, connections in `conn`,
//! answer bodies in `response` and `pump`.

use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use http::{Method, Request, Response};
use hyper::body::Incoming;

use crate::addressing::resolve;
use crate::admin::admin;
use crate::auth::{authenticate, SignedRequest};
use crate::error::OssError;
use crate::faults::FaultPlan;
use crate::get::get_object;
use crate::list::{list_objects, ListParams};
use crate::meta::{valid_bucket_name, validate_key};
use crate::put::{delete_object, put_object};
use crate::response::RespBody;
use crate::shaping::ConnShaping;

use crate::state::{header_str, Ctx, Shared};

pub(crate) async fn handle(
    shared: Arc<Shared>,
    req: Request<Incoming>,
    peer: SocketAddr,
    local: Option<SocketAddr>,
    reset: Arc<AtomicBool>,
    conn: Arc<ConnShaping>,
) -> Result<Response<RespBody>, io::Error> {
    let (seq, request_id) = shared.next_request_id();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or("").to_string();
    if path.starts_with("/__admin/") && shared.admin && peer.ip().is_loopback() {
        return Ok(admin(&shared, req, &path).await);
    }
    let h = req.headers();
    let host = header_str(h, "host")
        .map(str::to_string)
        .or_else(|| req.uri().host().map(str::to_string));
    let mut ctx = Ctx {
        shared: shared.clone(),
        seq,
        request_id,
        method: req.method().as_str().to_string(),
        path: path.clone(),
        query: query.clone(),
        bucket: String::new(),
        key: String::new(),
        host_id: host.clone().unwrap_or_default(),
        range: header_str(h, "range").map(str::to_string),
        range_behavior: header_str(h, "x-oss-range-behavior").map(str::to_string),
        if_match: header_str(h, "if-match").map(str::to_string),
        auth: "anonymous".to_string(),
        fault: None,
        shaping_delay_us: 0,
        local_addr: local.map(|a| a.to_string()).unwrap_or_default(),
        peer_addr: peer.to_string(),
        started: SystemTime::now(),
        _in_flight: shared.enter(),
    };
    let is_head = req.method() == Method::HEAD;

    // Shaping: the connection's set-up latency (first answer only), the request's latency
    // and jitter, before anything is answered (errors included).
    let first_on_conn = !conn.answered.swap(true, Ordering::Relaxed);
    if let Some(st) = shared.shaping_state() {
        let d = st.request_delay(first_on_conn);
        ctx.shaping_delay_us = d.as_micros() as u64;
        if !d.is_zero() {
            tokio::time::sleep(d).await;
        }
    }

    let addressed = match resolve(host.as_deref(), &path, shared.path_style) {
        Ok(a) => a,
        Err(e) => return Ok(ctx.error(e, is_head)),
    };
    let Some(bucket) = addressed.bucket.clone() else {
        return Ok(ctx.error(
            OssError::method_not_allowed(req.method().as_str())
                .with("Detail", "service-level operations are not emulated"),
            is_head,
        ));
    };
    ctx.bucket = bucket.clone();
    ctx.key = addressed.key.clone().unwrap_or_default();
    if !valid_bucket_name(&bucket) {
        return Ok(ctx.error(OssError::invalid_bucket_name(&bucket), is_head));
    }
    if !shared.store.bucket_exists(&bucket) {
        return Ok(ctx.error(OssError::no_such_bucket(&bucket), is_head));
    }

    // Authentication.
    let headers: Vec<(String, String)> = h
        .iter()
        .map(|(k, v)| {
            (
                k.as_str().to_string(),
                String::from_utf8_lossy(v.as_bytes()).into_owned(),
            )
        })
        .collect();
    let sreq = SignedRequest {
        method: req.method().as_str(),
        bucket: Some(&bucket),
        key: addressed.key.as_deref(),
        raw_query: &query,
        headers: &headers,
    };
    ctx.auth = crate::auth::claimed_scheme(&sreq).to_string();
    match authenticate(&sreq, &shared.credentials, SystemTime::now()) {
        Ok(info) => {
            ctx.auth = info.scheme.to_string();
            if info.scheme == "anonymous" && !shared.credentials.is_empty() {
                let public = shared.public_read.contains(&bucket)
                    && (req.method() == Method::GET || req.method() == Method::HEAD);
                if !public {
                    return Ok(ctx.error(
                        OssError::access_denied(
                            "You have no right to access this object because of bucket acl.",
                        ),
                        is_head,
                    ));
                }
            }
        }
        Err(e) => return Ok(ctx.error(e, is_head)),
    }

    if addressed.key.is_none() && req.method() == Method::GET && is_listing(&query) {
        let params = match ListParams::parse(&query) {
            Ok(p) => p,
            Err(e) => return Ok(ctx.error(e, false)),
        };
        let plan = shared
            .faults
            .lock()
            .unwrap()
            .plan_listing(&bucket, &params.prefix);
        ctx.fault = plan.describe();
        if let Some(answer) = front_faults(&ctx, &plan, &reset, false).await {
            return answer;
        }
        return Ok(list_objects(ctx, bucket, params, plan, reset).await);
    }
    let Some(key) = addressed.key.clone() else {
        return Ok(ctx.error(
            OssError::method_not_allowed(req.method().as_str())
                .with("Detail", "bucket-level operations are not emulated"),
            is_head,
        ));
    };
    if let Err(e) = validate_key(&key) {
        return Ok(ctx.error(e, is_head));
    }

    // Faults.
    let plan = shared.faults.lock().unwrap().plan(
        req.method().as_str(),
        &bucket,
        &key,
        ctx.range.is_some(),
    );
    ctx.fault = plan.describe();
    if let Some(answer) = front_faults(&ctx, &plan, &reset, is_head).await {
        return answer;
    }

    let method = req.method().clone();
    let resp = match method {
        Method::GET | Method::HEAD => get_object(ctx, req, bucket, key, plan, reset, conn).await,
        Method::PUT => put_object(ctx, req, bucket, key).await,
        Method::DELETE => delete_object(ctx, bucket, key).await,
        m => ctx.error(OssError::method_not_allowed(m.as_str()), false),
    };
    Ok(resp)
}

/// Bucket sub-resources that are not a listing (not emulated: `MethodNotAllowed`).
const BUCKET_SUBRESOURCES: &[&str] = &[
    "acl",
    "bucketInfo",
    "cors",
    "encryption",
    "inventory",
    "lifecycle",
    "location",
    "logging",
    "policy",
    "referer",
    "stat",
    "tagging",
    "uploads",
    "versioning",
    "versions",
    "website",
    "worm",
];

/// Whether a bucket GET with this query is a listing (ListObjects or ListObjectsV2).
fn is_listing(query: &str) -> bool {
    !crate::auth::query_pairs(query)
        .iter()
        .any(|p| BUCKET_SUBRESOURCES.contains(&p.2.as_str()))
}

/// The faults that act before any answer (latency, a reset, a status): the answer they
/// give, if any.
async fn front_faults(
    ctx: &Ctx,
    plan: &FaultPlan,
    reset: &AtomicBool,
    is_head: bool,
) -> Option<Result<Response<RespBody>, io::Error>> {
    if plan.latency_ms > 0 {
        tokio::time::sleep(Duration::from_millis(plan.latency_ms)).await;
    }
    if plan.reset_before {
        reset.store(true, Ordering::SeqCst);
        ctx.finish(0, 0);
        return Some(Err(io::Error::new(
            io::ErrorKind::ConnectionReset,
            "injected reset",
        )));
    }
    if let Some((status, code)) = &plan.status {
        let code = code.clone().unwrap_or_else(|| {
            if *status == 503 {
                "ServiceUnavailable".to_string()
            } else if *status == 500 {
                "InternalError".to_string()
            } else {
                "InjectedFault".to_string()
            }
        });
        return Some(Ok(ctx.error(OssError::internal(*status, &code), is_head)));
    }
    None
}
