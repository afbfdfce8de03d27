"""Client configuration: the keyword arguments of ``Client`` applied to an ``oss_config_t``."""

from __future__ import annotations

import urllib.parse
from typing import Any, Dict

from ._convert import _U32, _U64, _bool, _int, _path, _str
from ._errors import check
from ._lib import Library


# --------------------------------------------------------------------------------------------
# the client

_CONFIG_KEYS = (
    "user_agent",
    "max_connections",
    "connect_timeout_ms",
    "request_timeout_ms",
    "call_timeout_ms",
    "retries",
    "retry_base_delay_ms",
    "proxy",
    "verify_tls",
    "ca_file",
    "ca_path",
    "cname",
    "path_style",
    "crc64",
    "date_skew_adjustment",
    "reissue_slow_parts",
    "recv_rate_limit_kbps",
    "memory_budget",
    "resume_token_key",
    "resolve",
)


def _apply_config(lib: Library, cfg: int, config: Dict[str, Any]) -> None:
    unknown = sorted(set(config) - set(_CONFIG_KEYS))
    if unknown:
        raise TypeError(
            "unknown Client option(s) %s; known: %s" % (", ".join(unknown), ", ".join(_CONFIG_KEYS))
        )
    c = config
    if c.get("user_agent") is not None:
        check(lib, lib.oss_config_set_user_agent(cfg, _str(c["user_agent"], "user_agent")))
    if c.get("max_connections") is not None:
        n = _int(c["max_connections"], "max_connections", 0, _U32)
        check(lib, lib.oss_config_set_max_connections(cfg, n))
    for key, fn in (
        ("connect_timeout_ms", lib.oss_config_set_connect_timeout_ms),
        ("request_timeout_ms", lib.oss_config_set_request_timeout_ms),
        ("call_timeout_ms", lib.oss_config_set_call_timeout_ms),
        ("recv_rate_limit_kbps", lib.oss_config_set_recv_rate_limit_kbps),
        ("memory_budget", lib.oss_config_set_memory_budget),
    ):
        if c.get(key) is not None:
            check(lib, fn(cfg, _int(c[key], key, 0, _U64)))
    if c.get("retries") is not None or c.get("retry_base_delay_ms") is not None:
        retries = 3 if c.get("retries") is None else _int(c["retries"], "retries", 0, _U32)
        base = 300 if c.get("retry_base_delay_ms") is None else c["retry_base_delay_ms"]
        check(lib, lib.oss_config_set_retry(cfg, retries, _int(base, "retry_base_delay_ms", 0, _U64)))
    for key, fn in (
        ("verify_tls", lib.oss_config_set_verify_tls),
        ("cname", lib.oss_config_set_cname),
        ("path_style", lib.oss_config_set_path_style),
        ("crc64", lib.oss_config_set_crc64),
        ("date_skew_adjustment", lib.oss_config_set_date_skew_adjustment),
        ("reissue_slow_parts", lib.oss_config_set_reissue_slow_parts),
    ):
        if c.get(key) is not None:
            check(lib, fn(cfg, _bool(c[key], key)))
    if c.get("resume_token_key") is not None:
        k = c["resume_token_key"]
        if isinstance(k, str) or not isinstance(k, (bytes, bytearray, memoryview)):
            raise TypeError("resume_token_key must be bytes (16 to 1024), not %s" % type(k).__name__)
        k = bytes(k)
        check(lib, lib.oss_config_set_resume_token_key(cfg, k, len(k)))
    if c.get("ca_file") is not None:
        check(lib, lib.oss_config_set_ca_file(cfg, _path(c["ca_file"], "ca_file")))
    if c.get("ca_path") is not None:
        check(lib, lib.oss_config_set_ca_path(cfg, _path(c["ca_path"], "ca_path")))
    if c.get("resolve") is not None:
        entries = c["resolve"]
        if isinstance(entries, (str, bytes)):
            entries = [entries]
        if not isinstance(entries, (list, tuple)):
            raise TypeError("resolve must be a 'HOST:PORT:ADDR[,ADDR...]' string or a list of them")
        for entry in entries:
            check(lib, lib.oss_config_add_resolve(cfg, _str(entry, "resolve")))
    if c.get("proxy") is not None:
        proxy = _str(c["proxy"], "proxy").decode()
        u = urllib.parse.urlsplit(proxy if "://" in proxy else "http://" + proxy)
        if not u.hostname:
            raise ValueError("proxy must look like http://[user:password@]host:port, got %r" % proxy)
        port = u.port or (443 if u.scheme == "https" else 80)
        check(
            lib,
            lib.oss_config_set_proxy(
                cfg,
                u.scheme.encode(),
                u.hostname.encode(),
                port,
                None if u.username is None else urllib.parse.unquote(u.username).encode(),
                None if u.password is None else urllib.parse.unquote(u.password).encode(),
            ),
        )
