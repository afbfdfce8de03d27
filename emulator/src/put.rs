//! PUT and DELETE object answers.

use base64::Engine;
use bytes::Bytes;
use http::{Request, Response};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::error::OssError;
use crate::response::{full, RespBody};
use crate::state::{header_str, internal_error, Ctx};

pub(crate) async fn put_object(
    ctx: Ctx,
    req: Request<Incoming>,
    bucket: String,
    key: String,
) -> Response<RespBody> {
    use md5::{Digest, Md5};
    let h = req.headers().clone();
    let content_type = header_str(&h, "content-type").map(str::to_string);
    let user_meta: Vec<(String, String)> = h
        .iter()
        .filter_map(|(k, v)| {
            k.as_str().strip_prefix("x-oss-meta-").map(|n| {
                (
                    n.to_string(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
        })
        .collect();
    let body = match req.into_body().collect().await {
        Ok(c) => c.to_bytes(),
        Err(e) => return ctx.error(internal_error(e), false),
    };
    if let Some(md5_b64) = header_str(&h, "content-md5") {
        let got = base64::engine::general_purpose::STANDARD.encode(Md5::digest(&body));
        if got != md5_b64.trim() {
            return ctx.error(
                OssError::new(
                    400,
                    "InvalidDigest",
                    "The Content-MD5 you specified was invalid.",
                    "0016-00000012",
                )
                .with("Content-MD5", md5_b64),
                false,
            );
        }
    }
    if let Some(sha) = header_str(&h, "x-oss-content-sha256") {
        if sha.len() == 64 && sha.bytes().all(|c| c.is_ascii_hexdigit()) {
            let got = crate::encoding::hex_lower(&sha2::Sha256::digest(&body));
            if !got.eq_ignore_ascii_case(sha) {
                return ctx.error(
                    OssError::new(
                        400,
                        "InvalidArgument",
                        "x-oss-content-sha256 does not match the body.",
                        "0016-00000013",
                    ),
                    false,
                );
            }
        }
    }
    let forbid =
        header_str(&h, "x-oss-forbid-overwrite").is_some_and(|v| v.eq_ignore_ascii_case("true"));
    let shared = ctx.shared.clone();
    let (b, k) = (bucket.clone(), key.clone());
    let res = tokio::task::spawn_blocking(move || {
        if forbid && shared.store.open(&b, &k)?.is_some() {
            return Ok(None);
        }
        shared
            .store
            .put(&b, &k, &body[..], content_type.as_deref(), user_meta)
            .map(Some)
    })
    .await;
    match res {
        Ok(Ok(Some(meta))) => {
            let b = ctx
                .base(200)
                .header("etag", &meta.etag)
                .header("x-oss-hash-crc64ecma", meta.crc64.to_string())
                .header("content-length", "0");
            ctx.finish(200, 0);
            b.body(full(Bytes::new())).expect("response")
        }
        Ok(Ok(None)) => ctx.error(
            OssError::new(
                409,
                "FileAlreadyExists",
                "The object you specified already exists and can not be overwritten.",
                "0016-00000204",
            ),
            false,
        ),
        Ok(Err(e)) => ctx.error(internal_error(e), false),
        Err(e) => ctx.error(internal_error(e), false),
    }
}

pub(crate) async fn delete_object(ctx: Ctx, bucket: String, key: String) -> Response<RespBody> {
    let shared = ctx.shared.clone();
    match tokio::task::spawn_blocking(move || shared.store.delete(&bucket, &key)).await {
        Ok(Ok(_)) => {
            let b = ctx.base(204);
            ctx.finish(204, 0);
            b.body(full(Bytes::new())).expect("response")
        }
        Ok(Err(e)) => ctx.error(internal_error(e), false),
        Err(e) => ctx.error(internal_error(e), false),
    }
}
