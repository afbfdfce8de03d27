//! `oss_config_t`: client configuration (the C++ SDK's `ClientConfiguration`).

use std::ffi::c_void;
use std::sync::Arc;
use std::time::Duration;

use crate::config::{Config, RateSource, SignatureVersion};
use crate::error::Error;
use crate::ffi::boundary::{ffi_boundary, ffi_setter, NullOnPanic};
use crate::ffi::handle::{free_box, to_boxed_mut_ptr, Castable, OwnershipBox};

/// Signature versions (values fixed).
#[allow(non_camel_case_types)]
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum oss_signature_version_t {
    /// HMAC-SHA1 (the C++ SDK's default).
    OSS_SIGNATURE_V1 = 0,
    /// OSS4-HMAC-SHA256; needs a region.
    OSS_SIGNATURE_V4 = 1,
}

/// Client configuration with the C++ SDK's defaults (16 connections, 5 s connect timeout, 10 s
/// low-speed timeout, 3 retries from 300 ms, TLS verified, CRC64 on, V1).
///
/// Ownership: Box; made by `oss_config_new`, freed by `oss_config_free`. `oss_client_new` copies
/// it, so it may be freed or reused right after. Threads: setters mutate (caller serialises).
#[allow(non_camel_case_types)]
pub struct oss_config_t {
    _private: [u8; 0],
}

impl Castable for oss_config_t {
    type Ownership = OwnershipBox;
    type RustType = Config;
}

impl NullOnPanic for oss_config_t {}

/// A configuration with the defaults. Never NULL.
#[no_mangle]
pub extern "C" fn oss_config_new() -> *mut oss_config_t {
    ffi_boundary! { to_boxed_mut_ptr(Config::default()) }
}

/// Frees a configuration. NULL is a no-op.
///
/// # Safety
/// `cfg` must be NULL or from `oss_config_new`, freed once.
#[no_mangle]
pub unsafe extern "C" fn oss_config_free(cfg: *mut oss_config_t) {
    ffi_boundary! {
        // SAFETY: cfg is NULL or from oss_config_new (to_boxed_mut_ptr), freed once.
        unsafe { free_box(cfg) };
    }
}

/// Runs `f` on a copy of the configuration, re-validates the whole copy, then stores it: a
/// failed setter leaves the configuration as it was.
fn update(c: &mut Config, f: impl FnOnce(&mut Config) -> crate::Result<()>) -> crate::Result<()> {
    let mut next = c.clone();
    f(&mut next)?;
    next.validate()?;
    *c = next;
    Ok(())
}

ffi_setter! {
    /// Sets the User-Agent header. Errors: NULL, bad UTF-8, control characters.
    ///
    /// # Safety
    /// `cfg` NULL or live; `user_agent` NULL or a NUL-terminated string.
    fn oss_config_set_user_agent(cfg: *mut oss_config_t, user_agent: str) |cfg| {
        update(cfg, |c| { c.user_agent = user_agent.to_string(); Ok(()) })
    }
}

ffi_setter! {
    /// Sets the maximum number of concurrent requests (and pooled connections), 1..=1024.
    ///
    /// # Safety
    /// `cfg` NULL or live.
    fn oss_config_set_max_connections(cfg: *mut oss_config_t, max_connections: u32) |cfg| {
    update(cfg, |c| { c.max_connections = max_connections; Ok(()) })
    }
}

ffi_setter! {
    /// Sets the TCP/TLS connect timeout in milliseconds (> 0).
    ///
    /// # Safety
    /// `cfg` NULL or live.
    fn oss_config_set_connect_timeout_ms(cfg: *mut oss_config_t, timeout_ms: u64) |cfg| {
    update(cfg, |c| { c.connect_timeout = Duration::from_millis(timeout_ms); Ok(()) })
    }
}

ffi_setter! {
    /// Sets the low-speed (idle) timeout in milliseconds (> 0): a request fails when no byte arrives
    /// for this long, and an error answer's body is read for at most this long in total. It is not
    /// a limit on the total duration of a call: see `oss_config_set_call_timeout_ms`.
    ///
    /// # Safety
    /// `cfg` NULL or live.
    fn oss_config_set_request_timeout_ms(cfg: *mut oss_config_t, timeout_ms: u64) |cfg| {
    update(cfg, |c| { c.request_timeout = Duration::from_millis(timeout_ms); Ok(()) })
    }
}

ffi_setter! {
    /// Sets a deadline for every whole call made with clients of this configuration, in
    /// milliseconds: HeadObject, GetObjectMeta, GetObject and a resumable download, all their
    /// requests, retries and back-offs included. 0 (the default): no deadline. A call still running
    /// at its deadline fails with `OSS_ERROR_KIND_TIMEOUT` (code `ClientError:200028`); a resumable
    /// download keeps its checkpoint (with a checkpoint directory), so calling again resumes it.
    /// The deadline is checked while waiting for the network and between steps: a local file
    /// operation in progress (a sync, the final rename) finishes first.
    ///
    /// # Safety
    /// `cfg` NULL or live.
    fn oss_config_set_call_timeout_ms(cfg: *mut oss_config_t, timeout_ms: u64) |cfg| {
        update(cfg, |c| {
            c.call_timeout = (timeout_ms > 0).then(|| Duration::from_millis(timeout_ms));
            Ok(())
        })
    }
}

ffi_setter! {
    /// Sets the retry policy: `max_retries` (0..=100) retries after the first attempt, waiting
    /// `base_delay_ms` * 2^(n-1) before retry n (capped at 10 s).
    ///
    /// # Safety
    /// `cfg` NULL or live.
    fn oss_config_set_retry(cfg: *mut oss_config_t, max_retries: u32, base_delay_ms: u64) |cfg| {
        update(cfg, |c| {
            c.max_retries = max_retries;
            c.retry_base_delay = Duration::from_millis(base_delay_ms);
            Ok(())
        })
    }
}

ffi_setter! {
    /// Sets a proxy (used only when `host` is non-empty). `scheme` is "http" or "https" (NULL or ""
    /// = http); `username`/`password` may be NULL.
    ///
    /// # Safety
    /// `cfg` NULL or live; strings NULL or NUL-terminated.
    fn oss_config_set_proxy(cfg: *mut oss_config_t, scheme: opt_str, host: str, port: u16, username: opt_str, password: opt_str) |cfg| {
        let (user, pass) = (username, password);
        update(cfg, |c| {
            c.proxy.scheme = scheme.unwrap_or("").to_ascii_lowercase();
            c.proxy.host = host.to_string();
            c.proxy.port = port;
            c.proxy.username = user.unwrap_or("").to_string();
            c.proxy.password = pass.unwrap_or("").to_string();
            Ok(())
        })
    }
}

ffi_setter! {
    /// Sets the hosts reached without a proxy, replacing `no_proxy`/`NO_PROXY` of the environment,
    /// as libcurl's `CURLOPT_NOPROXY`: names separated by commas or blanks (each matches that host
    /// and its subdomains), IP addresses and CIDR networks, or `*` alone for every host; `""` sends
    /// every host through the proxy. NULL restores the default: the environment's list (which also
    /// applies to a proxy set with `oss_config_set_proxy`, as with the official SDK's libcurl).
    ///
    /// Ownership: `list` is copied (the caller keeps it). Errors: `OSS_ERROR_KIND_NULL_ARGUMENT` for
    /// a NULL `cfg`, `OSS_ERROR_KIND_INVALID_UTF8`. Threads: mutates `cfg`: serialise.
    ///
    /// # Safety
    /// `cfg` NULL or live; `list` NULL or NUL-terminated.
    fn oss_config_set_no_proxy(cfg: *mut oss_config_t, list: opt_str) |cfg| {
        update(cfg, |c| {
            c.no_proxy = list.map(str::to_string);
            Ok(())
        })
    }
}

ffi_setter! {
    /// Turns TLS certificate and host-name verification on (default) or off.
    ///
    /// # Safety
    /// `cfg` NULL or live.
    fn oss_config_set_verify_tls(cfg: *mut oss_config_t, verify: bool) |cfg| {
    update(cfg, |c| { c.verify_tls = verify; Ok(()) })
    }
}

ffi_setter! {
    /// Adds trust in the PEM certificates of a file (checked when the client is made). NULL or "" clears.
    ///
    /// # Safety
    /// `cfg` NULL or live; `path` NULL or NUL-terminated.
    fn oss_config_set_ca_file(cfg: *mut oss_config_t, path: opt_str) |cfg| {
        let p = path.unwrap_or("").to_string();
        update(cfg, |c| { c.ca_file = p; Ok(()) })
    }
}

ffi_setter! {
    /// Adds trust in the PEM certificates of every file in a directory. NULL or "" clears.
    ///
    /// # Safety
    /// `cfg` NULL or live; `path` NULL or NUL-terminated.
    fn oss_config_set_ca_path(cfg: *mut oss_config_t, path: opt_str) |cfg| {
        let p = path.unwrap_or("").to_string();
        update(cfg, |c| { c.ca_path = p; Ok(()) })
    }
}

ffi_setter! {
    /// The endpoint is a custom domain bound to the bucket (CNAME addressing).
    ///
    /// # Safety
    /// `cfg` NULL or live.
    fn oss_config_set_cname(cfg: *mut oss_config_t, is_cname: bool) |cfg| {
    update(cfg, |c| { c.is_cname = is_cname; Ok(()) })
    }
}

ffi_setter! {
    /// Path-style addressing (`endpoint/bucket/key`); automatic for IP and localhost endpoints.
    ///
    /// # Safety
    /// `cfg` NULL or live.
    fn oss_config_set_path_style(cfg: *mut oss_config_t, path_style: bool) |cfg| {
    update(cfg, |c| { c.is_path_style = path_style; Ok(()) })
    }
}

ffi_setter! {
    /// Turns CRC64 verification of downloads on (default) or off.
    ///
    /// # Safety
    /// `cfg` NULL or live.
    fn oss_config_set_crc64(cfg: *mut oss_config_t, enable: bool) |cfg| {
    update(cfg, |c| { c.enable_crc64 = enable; Ok(()) })
    }
}

ffi_setter! {
    /// Turns the re-request of slow parts on (default) or off. With it on, a resumable download's
    /// part whose request has fallen far behind the download's other parts (under a quarter of
    /// their typical rate, once it ran as long as its bytes take at that rate) is re-requested, for
    /// the bytes it has not delivered yet, on a new connection: the slow request is dropped, every
    /// byte still goes through the part's CRC64 and the whole object's check, and a download
    /// re-requests at most a quarter of its parts (at least 8). Off: a slow part runs to its end
    /// (a stalled one still fails over after the idle timeout, `oss_config_set_request_timeout_ms`).
    ///
    /// # Safety
    /// `cfg` NULL or live.
    fn oss_config_set_reissue_slow_parts(cfg: *mut oss_config_t, enable: bool) |cfg| {
    update(cfg, |c| { c.reissue_slow_parts = enable; Ok(()) })
    }
}

ffi_setter! {
    /// Turns clock-skew correction (after `RequestTimeTooSkewed`) on (default) or off.
    ///
    /// # Safety
    /// `cfg` NULL or live.
    fn oss_config_set_date_skew_adjustment(cfg: *mut oss_config_t, enable: bool) |cfg| {
    update(cfg, |c| { c.enable_date_skew_adjustment = enable; Ok(()) })
    }
}

ffi_setter! {
    /// Limits the client's aggregate receive rate (all requests together) in KiB/s, like the C++
    /// SDK's `recvRateLimiter` rate; 0 = unlimited.
    ///
    /// # Safety
    /// `cfg` NULL or live.
    fn oss_config_set_recv_rate_limit_kbps(cfg: *mut oss_config_t, kib_per_sec: u64) |cfg| {
        update(cfg, |c| {
            c.recv_rate_limit = kib_per_sec.checked_mul(1024).ok_or_else(|| Error::validate("rate limit too large"))?;
            Ok(())
        })
    }
}

ffi_setter! {
    /// The memory of all the client's downloads in bytes (16 MiB..=1 TiB, default 64 MiB, ~12 MiB
    /// base included); a part waits for a slot of it rather than allocate. A download or GetObject
    /// to a file (blocking or a transfer) waits for its first slot before it opens any file or
    /// connects, and keeps one (at least 1.75 MiB) until it closed them: so the budget also bounds
    /// the calls holding descriptors at once, to (budget - 12 MiB) / 1.75 MiB (29 at the default).
    /// Errors: NULL, range.
    ///
    /// # Safety
    /// `cfg` NULL or live.
    fn oss_config_set_memory_budget(cfg: *mut oss_config_t, bytes: u64) |cfg| {
        update(cfg, |c| { c.memory_budget = bytes; Ok(()) })
    }
}

ffi_setter! {
    /// Sets the key that seals and checks this client's resume tokens (HMAC-SHA256;
    /// `oss_transfer_take_resume_token`, `oss_client_start_resume`): `key_len` bytes, 16 to 1024
    /// (32 random bytes recommended). A token is accepted only by a client with the key it was
    /// sealed with, so give every process (or machine, or user) that must resume another's tokens the
    /// same key, and keep it as secret as the right to make download requests. `key` NULL with
    /// `key_len` 0 returns to the default: the per-user key file
    /// `$XDG_CONFIG_HOME/oss-ffi/resume-token.key` (or `$HOME/.config/oss-ffi/resume-token.key`),
    /// 32 random bytes made 0600 on first use, which every process of the same user on the same
    /// machine shares.
    ///
    /// Ownership: the bytes are copied. Threads: mutates `cfg` (caller serialises). Errors: NULL
    /// `cfg`; NULL `key` with a nonzero length; a length outside 16..=1024 (`INVALID_ARGUMENT`,
    /// the configuration unchanged).
    ///
    /// # Safety
    /// `cfg` NULL or live; `key` NULL or valid for `key_len` bytes.
    fn oss_config_set_resume_token_key(cfg: *mut oss_config_t, key: (*const u8), key_len: usize) |cfg| {
        if key.is_null() && key_len > 0 {
            return Err(crate::ffi::boundary::null_argument("key"));
        }
        use crate::download::resume_key::{ResumeTokenKey, MAX_KEY_LEN, MIN_KEY_LEN};
        let k = if key_len == 0 {
            None
        } else if !(MIN_KEY_LEN..=MAX_KEY_LEN).contains(&key_len) {
            // Refused before the bytes are touched (a wrong length may be a wrong pointer too).
            return Err(crate::Error::validate(format!(
                "the resume token key must have {MIN_KEY_LEN} to {MAX_KEY_LEN} bytes, got {key_len}"
            )));
        } else {
            // SAFETY: key is non-NULL and valid for key_len bytes (the contract), at most 1024.
            let bytes = unsafe { std::slice::from_raw_parts(key, key_len) };
            Some(ResumeTokenKey::new(bytes)?)
        };
        update(cfg, |c| { c.resume_token_key = k; Ok(()) })
    }
}

/// The current receive limit in KiB/s (0 = unlimited), asked by the library while it downloads.
#[allow(non_camel_case_types)]
pub type oss_rate_cb = Option<unsafe extern "C" fn(user_data: *mut c_void) -> u64>;

ffi_setter! {
    /// Makes the client's aggregate receive limit the answer of `cb(user_data)` in KiB/s (0 =
    /// unlimited), asked again before each chunk of every body is passed on, so the caller may
    /// change it while downloads run (the C++ SDK's `recvRateLimiter->Rate()`). Replaces
    /// `oss_config_set_recv_rate_limit_kbps` while set; NULL `cb` clears it.
    ///
    /// Ownership: `user_data_free`, if not NULL, is called once with `user_data` when no config or
    /// client made from one holds the callback any more (at once when `cb` is NULL or the call
    /// fails). Threads: `cb` runs on library threads, possibly for several requests at once: it must
    /// be thread-safe, quick, and must not call into the SDK. Errors: NULL `cfg`.
    ///
    /// # Safety
    /// `cfg` NULL or live; `cb` callable from any thread with `user_data` until `user_data_free` is
    /// called.
    fn oss_config_set_recv_rate_limit_cb(cfg: *mut oss_config_t, cb: (oss_rate_cb), user_data: user_data[user_data_free]) |cfg| {
        let data = user_data;
        let source = cb.map(|cb| {
            RateSource(Arc::new(move || {
                // SAFETY: the caller promised cb is callable from any thread with user_data
                // until user_data_free runs, which is only when `data` (owned here) is dropped.
                let kib = unsafe { cb(data.get()) };
                kib.saturating_mul(1024)
            }))
        });
        update(cfg, |c| {
            c.recv_rate_source = source;
            Ok(())
        })
    }
}

ffi_setter! {
    /// Calls `cb(metrics, user_data)` once per request attempt (retries included) of every client
    /// made from this configuration, when the attempt ends (for a GetObject: when its body has been
    /// read or given up), with what it was, how it ended and where its time went
    /// (`oss_request_metrics_t`, borrowed for the call). Also makes the clients and transfers add
    /// their requests up (`oss_client_request_stats`, `oss_transfer_request_stats`). NULL `cb`
    /// clears it; without one nothing is measured (no allocation, no clock read).
    ///
    /// Ownership: `user_data_free`, if not NULL, is called once with `user_data` when no config or
    /// client made from one holds the callback any more (at once when `cb` is NULL or the call
    /// fails). Threads: `cb` runs on library threads, possibly for several requests at once: it
    /// must be thread-safe and quick, and must not call into the SDK. Errors: NULL `cfg`.
    ///
    /// # Safety
    /// `cfg` NULL or live; `cb` callable from any thread with `user_data` until `user_data_free` is
    /// called.
    fn oss_config_set_request_metrics_callback(cfg: *mut oss_config_t, cb: (crate::ffi::metrics::oss_request_metrics_cb), user_data: user_data[user_data_free]) |cfg| {
        let data = user_data;
        let callback = cb.map(|cb| {
            crate::ffi::metrics::callback(move |rec| {
                // SAFETY: the caller promised cb is callable from any thread with user_data
                // until user_data_free runs, which is only when `data` (owned here) is dropped;
                // `rec` and its strings live for the call.
                unsafe { cb(rec, data.get()) }
            })
        });
        update(cfg, |c| {
            c.request_metrics = callback;
            Ok(())
        })
    }
}

ffi_setter! {
    /// Chooses the signature version: a value of `oss_signature_version_t`. V4 needs a region
    /// (`oss_config_set_region` or `oss_client_set_region`; when neither gives one, the region an
    /// `oss-<region>[-internal].aliyuncs.com` endpoint names, also after `<bucket>.`; other
    /// endpoints, `oss-accelerate` included, name none and every V4 call fails with `ValidateError`).
    ///
    /// # Safety
    /// `cfg` NULL or live.
    fn oss_config_set_signature_version(cfg: *mut oss_config_t, version: u32) |cfg| {
        let v = match version {
            0 => SignatureVersion::V1,
            1 => SignatureVersion::V4,
            n => return Err(Error::validate(format!("unknown signature version {n} (0 = V1, 1 = V4)"))),
        };
        update(cfg, |c| { c.signature_version = v; Ok(()) })
    }
}

ffi_setter! {
    /// Sets the V4 signing region, e.g. "cn-hangzhou" (not "oss-cn-hangzhou"). Without it a client
    /// uses the region its endpoint names (`oss-cn-hangzhou[-internal].aliyuncs.com`), if any.
    ///
    /// # Safety
    /// `cfg` NULL or live; `region` NULL or NUL-terminated.
    fn oss_config_set_region(cfg: *mut oss_config_t, region: str) |cfg| {
        let r = region;
        if r.bytes().any(|b| !(b.is_ascii_alphanumeric() || b == b'-')) {
            return Err(Error::validate(format!("the region '{}' may only hold letters, digits and '-'", r.escape_debug())));
        }
        update(cfg, |c| { c.region = r.to_string(); Ok(()) })
    }
}

ffi_setter! {
    /// Adds addresses for a host, instead of the name service's (curl's `--resolve`):
    /// `"HOST:PORT:ADDR[,ADDR...]"` (an IPv6 address may be bracketed: `[::1]`). It also covers a
    /// bucket's virtual host under HOST (`bucket.HOST`); PORT must be the endpoint's (else
    /// `oss_client_new` fails). An entry for the same HOST:PORT replaces the earlier one. For tests,
    /// for users with their own name service, and to pin an internal endpoint. Whatever the names'
    /// source, a client spreads its connections over a host's addresses (least recently used first)
    /// and sets one that failed to connect aside for 30 s.
    ///
    /// Errors: NULL `cfg` or `spec`, invalid UTF-8, or a spec that does not parse (nothing is
    /// changed then).
    ///
    /// # Safety
    /// `cfg` NULL or live (the caller serialises setters); `spec` NULL or a NUL-terminated string,
    /// only read during the call.
    fn oss_config_add_resolve(cfg: *mut oss_config_t, spec: str) |cfg| {
        let entry = crate::config::ResolveEntry::parse(spec)?;
        update(cfg, |c| {
            c.resolve.retain(|e| !(e.host == entry.host && e.port == entry.port));
            c.resolve.push(entry);
            Ok(())
        })
    }
}
