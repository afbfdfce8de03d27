//! The admin endpoint (`/__admin/...`): faults, shaping and the request log, as JSON.

use std::sync::Arc;
use std::time::Duration;

use http::{Method, Request, Response, StatusCode};
use http_body_util::BodyExt;
use hyper::body::Incoming;

use crate::faults::Faults;
use crate::response::{full, RespBody};
use crate::shaping::Shaping;
use crate::state::Shared;

pub(crate) fn json_response(status: u16, body: String) -> Response<RespBody> {
    Response::builder()
        .status(StatusCode::from_u16(status).unwrap_or(StatusCode::OK))
        .header("content-type", "application/json")
        .body(full(body))
        .expect("response")
}

/// `GET|PUT|DELETE /__admin/faults`, `GET|PUT|DELETE /__admin/shaping`,
/// `GET|DELETE /__admin/log`.
pub(crate) async fn admin(
    shared: &Arc<Shared>,
    req: Request<Incoming>,
    path: &str,
) -> Response<RespBody> {
    let method = req.method().clone();
    match (method, path) {
        (Method::GET, "/__admin/faults") => json_response(
            200,
            serde_json::to_string(&shared.faults()).unwrap_or_default(),
        ),
        (Method::PUT, "/__admin/faults") | (Method::POST, "/__admin/faults") => {
            let body = match req.into_body().collect().await {
                Ok(c) => c.to_bytes(),
                Err(e) => return json_response(400, format!("{{\"error\":{:?}}}", e.to_string())),
            };
            match serde_json::from_slice::<Faults>(&body) {
                Ok(f) => {
                    shared.set_faults(f);
                    json_response(
                        200,
                        serde_json::to_string(&shared.faults()).unwrap_or_default(),
                    )
                }
                Err(e) => json_response(400, format!("{{\"error\":{:?}}}", e.to_string())),
            }
        }
        (Method::DELETE, "/__admin/faults") => {
            shared.set_faults(Faults::default());
            json_response(200, "{}".to_string())
        }
        (Method::GET, "/__admin/shaping") => json_response(
            200,
            serde_json::to_string(&shared.shaping()).unwrap_or_default(),
        ),
        (Method::PUT, "/__admin/shaping") | (Method::POST, "/__admin/shaping") => {
            let body = match req.into_body().collect().await {
                Ok(c) => c.to_bytes(),
                Err(e) => return json_response(400, format!("{{\"error\":{:?}}}", e.to_string())),
            };
            let set = serde_json::from_slice::<Shaping>(&body)
                .map_err(|e| e.to_string())
                .and_then(|s| shared.set_shaping(s));
            match set {
                Ok(()) => json_response(
                    200,
                    serde_json::to_string(&shared.shaping()).unwrap_or_default(),
                ),
                Err(e) => json_response(400, format!("{{\"error\":{e:?}}}")),
            }
        }
        (Method::DELETE, "/__admin/shaping") => {
            let _ = shared.set_shaping(Shaping::default());
            json_response(200, "{}".to_string())
        }
        (Method::GET, "/__admin/log") => {
            // As Emulator::log: the answers still being sent are waited for (5 s at most).
            shared.wait_idle(Duration::from_secs(5)).await;
            let mut log = shared.log.lock().unwrap().clone();
            log.sort_by_key(|e| e.seq);
            let mut out = String::new();
            for e in log.iter() {
                out.push_str(&serde_json::to_string(e).unwrap_or_default());
                out.push('\n');
            }
            Response::builder()
                .status(200)
                .header("content-type", "application/x-ndjson")
                .body(full(out))
                .expect("response")
        }
        (Method::DELETE, "/__admin/log") => {
            shared.wait_idle(Duration::from_secs(10)).await;
            shared.log.lock().unwrap().clear();
            json_response(200, "{}".to_string())
        }
        _ => json_response(404, "{\"error\":\"unknown admin path\"}".to_string()),
    }
}
