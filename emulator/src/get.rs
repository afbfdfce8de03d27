//! GET and HEAD object answers: conditions, Range (standard behaviour or not), headers, and the
//! body handed to the pump.

use std::sync::atomic::AtomicBool;
use std::sync::Arc;

use base64::Engine;
use bytes::Bytes;
use http::{HeaderValue, Method, Request, Response};
use hyper::body::Incoming;
use tokio::sync::mpsc;

use crate::auth::query_pairs;
use crate::error::OssError;
use crate::faults::FaultPlan;
use crate::pump::Pump;
use crate::response::{full, RespBody};
use crate::rules::{
    decide_range, evaluate_conditions, parse_traffic_limit, CondOutcome, Conditions, RangeDecision,
};
use crate::shaping::ConnShaping;
use crate::state::{header_str, internal_error, query_value, Ctx};
use crate::time::fmt_http_date;

pub(crate) async fn get_object(
    mut ctx: Ctx,
    req: Request<Incoming>,
    bucket: String,
    key: String,
    plan: FaultPlan,
    reset: Arc<AtomicBool>,
    conn: Arc<ConnShaping>,
) -> Response<RespBody> {
    let is_head = req.method() == Method::HEAD;
    let h = req.headers();
    let qpairs = query_pairs(&ctx.query);
    let object_meta_only = is_head && qpairs.iter().any(|p| p.2 == "objectMeta");

    // Throttle.
    let traffic = header_str(h, "x-oss-traffic-limit")
        .map(str::to_string)
        .or_else(|| query_value(&ctx.query, "x-oss-traffic-limit"));
    let rate = match traffic.as_deref().map(parse_traffic_limit) {
        None => None,
        Some(Ok(r)) => Some(r),
        Some(Err(e)) => return ctx.error(e, is_head),
    };
    // A throttle fault: the slower of it and the traffic limit.
    let rate = match (rate, plan.throttle) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, b) => a.or(b),
    };

    let shared = ctx.shared.clone();
    if plan.mutate {
        let (s, b, k) = (shared.clone(), bucket.clone(), key.clone());
        match tokio::task::spawn_blocking(move || s.store.mutate(&b, &k)).await {
            Ok(Ok(_)) => {}
            Ok(Err(e)) => return ctx.error(internal_error(e), is_head),
            Err(e) => return ctx.error(internal_error(e), is_head),
        }
    }
    let (s, b, k) = (shared.clone(), bucket.clone(), key.clone());
    let opened = match tokio::task::spawn_blocking(move || s.store.open(&b, &k)).await {
        Ok(Ok(o)) => o,
        Ok(Err(e)) => return ctx.error(internal_error(e), is_head),
        Err(e) => return ctx.error(internal_error(e), is_head),
    };
    let Some((meta, file)) = opened else {
        return ctx.error(OssError::no_such_key(&key), is_head);
    };

    let asked_version = query_value(&ctx.query, "versionId");
    if let Some(v) = &asked_version {
        if *v != meta.version_id && v != "null" {
            return ctx.error(
                OssError::new(
                    404,
                    "NoSuchVersion",
                    "The specified version does not exist.",
                    "0026-00000002",
                )
                .with("Key", key.clone())
                .with("VersionId", v.clone()),
                is_head,
            );
        }
    }
    let last_modified = meta.last_modified_time();
    let lm_str = fmt_http_date(last_modified);

    let with_object_headers = |mut b: http::response::Builder| {
        b = b
            .header("etag", &meta.etag)
            .header("last-modified", &lm_str)
            .header("x-oss-hash-crc64ecma", meta.crc64.to_string());
        if asked_version.is_some() {
            b = b.header("x-oss-version-id", &meta.version_id);
        }
        b
    };

    if object_meta_only {
        let b = with_object_headers(ctx.base(200)).header("content-length", meta.size.to_string());
        ctx.finish(200, 0);
        return b.body(full(Bytes::new())).expect("response");
    }

    let cond = Conditions {
        if_match: header_str(h, "if-match"),
        if_none_match: header_str(h, "if-none-match"),
        if_modified_since: header_str(h, "if-modified-since"),
        if_unmodified_since: header_str(h, "if-unmodified-since"),
    };
    match evaluate_conditions(&cond, &meta.etag, last_modified) {
        CondOutcome::Proceed => {}
        CondOutcome::PreconditionFailed(c) => {
            return ctx.error(OssError::precondition_failed(c), is_head)
        }
        CondOutcome::NotModified => {
            let xml = OssError::not_modified().to_xml(&ctx.request_id, &ctx.host_id);
            let b = with_object_headers(ctx.base(304)).header(
                "x-oss-err",
                base64::engine::general_purpose::STANDARD.encode(xml.as_bytes()),
            );
            ctx.finish(304, 0);
            return b.body(full(Bytes::new())).expect("response");
        }
    }

    let standard = ctx
        .range_behavior
        .as_deref()
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("standard"));
    let decision = if is_head {
        RangeDecision::Whole
    } else {
        decide_range(ctx.range.as_deref(), standard, meta.size)
    };
    let (status, first, len) = match decision {
        RangeDecision::Whole => (200u16, 0u64, meta.size),
        RangeDecision::Partial { first, last } => (206, first, last - first + 1),
        RangeDecision::Unsatisfiable => {
            return ctx.error(
                OssError::invalid_range(ctx.range.as_deref().unwrap_or(""), meta.size),
                is_head,
            )
        }
    };

    let mut b = with_object_headers(ctx.base(status))
        .header("accept-ranges", "bytes")
        .header("x-oss-object-type", "Normal")
        .header("x-oss-storage-class", "Standard");
    let mut content_type = meta.content_type.clone();
    let mut overrides: Vec<(&str, String)> = Vec::new();
    for (q, hname) in [
        ("response-content-type", "content-type"),
        ("response-content-language", "content-language"),
        ("response-expires", "expires"),
        ("response-cache-control", "cache-control"),
        ("response-content-disposition", "content-disposition"),
        ("response-content-encoding", "content-encoding"),
    ] {
        if let Some(v) = qpairs.iter().find(|p| p.2 == q).map(|p| p.3.clone()) {
            if hname == "content-type" {
                content_type = v;
            } else {
                overrides.push((hname, v));
            }
        }
    }
    b = b.header("content-type", content_type);
    for (n, v) in overrides {
        if let Ok(v) = HeaderValue::from_str(&v) {
            b = b.header(n, v);
        }
    }
    for (k, v) in &meta.user_meta {
        if let Ok(v) = HeaderValue::from_str(v) {
            b = b.header(format!("x-oss-meta-{k}"), v);
        }
    }
    if status == 206 {
        let shift = plan.content_range_shift;
        let f = first as i64 + shift;
        let l = (first + len - 1) as i64 + shift;
        b = b.header("content-range", format!("bytes {}-{}/{}", f, l, meta.size));
    }
    // Body length as sent (faults may make it disagree with the range).
    let body_len = (len.saturating_sub(plan.short_by)) + plan.long_by;
    b = b.header("content-length", body_len.to_string());

    if is_head {
        ctx.finish(status, 0);
        return b.body(full(Bytes::new())).expect("response");
    }
    ctx.range = ctx.range.clone();
    let (tx, rx) = mpsc::channel(4);
    let pump = Pump {
        file,
        first,
        len: len.saturating_sub(plan.short_by),
        extra: plan.long_by,
        rate,
        plan,
        reset,
        status,
        conn,
    };
    tokio::task::spawn_blocking(move || pump.run(tx, ctx));
    b.body(RespBody::Stream {
        rx,
        remaining: body_len,
    })
    .expect("response")
}
