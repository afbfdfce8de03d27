"""Cloud credentials sources: the default chain reaching a local stand-in of the ECS metadata
service (loopback only: OSS_FFI_ECS_METADATA_ENDPOINT points at 127.0.0.1, never at
100.100.100.200), a CLI profile, clear errors for an unsupported mode, and no secret in any log
line or repr."""
from __future__ import annotations

import datetime as dt
import http.server
import json
import os
import threading
from typing import Iterator, List, Tuple

import pytest

import oss_ffi
from conftest import BUCKET, REGION, STS_AK, STS_SK, STS_TOKEN, Emu

ROLE = "py-ecs-role"
IMDS_TOKEN = "py-imds-token-7d2e"
# Cleared for every test here: what the chain would otherwise find on this machine.
CREDENTIAL_ENV = [
    "ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN",
    "OSS_ACCESS_KEY_ID", "OSS_ACCESS_KEY_SECRET", "OSS_SESSION_TOKEN", "ALIBABA_CLOUD_PROFILE",
    "ALIBABA_CLOUD_CREDENTIALS_FILE", "ALIBABA_CLOUD_CLI_PROFILE_DISABLED", "ALIBABA_CLOUD_ECS_METADATA",
    "ALIBABA_CLOUD_ECS_METADATA_DISABLED", "ALIBABA_CLOUD_IMDSV1_DISABLED", "ALIBABA_CLOUD_ROLE_ARN",
    "ALIBABA_CLOUD_OIDC_PROVIDER_ARN", "ALIBABA_CLOUD_OIDC_TOKEN_FILE", "OSS_FFI_STS_ENDPOINT",
]


class _Metadata(http.server.BaseHTTPRequestHandler):
    seen: List[Tuple[str, str]] = []

    def log_message(self, *args: object) -> None:
        pass

    def _answer(self, status: int, body: str) -> None:
        data = body.encode()
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_PUT(self) -> None:
        self.seen.append(("PUT", self.path))
        if self.path == "/latest/api/token" and self.headers.get("X-aliyun-ecs-metadata-token-ttl-seconds"):
            self._answer(200, IMDS_TOKEN)
        else:
            self._answer(403, "")

    def do_GET(self) -> None:
        self.seen.append(("GET", self.path))
        if self.headers.get("X-aliyun-ecs-metadata-token") != IMDS_TOKEN:
            return self._answer(401, "")
        base = "/latest/meta-data/ram/security-credentials/"
        if self.path == base:
            return self._answer(200, ROLE)
        if self.path == base + ROLE:
            exp = dt.datetime.now(dt.timezone.utc) + dt.timedelta(hours=1)
            return self._answer(200, json.dumps({
                "Code": "Success", "AccessKeyId": STS_AK, "AccessKeySecret": STS_SK,
                "SecurityToken": STS_TOKEN, "Expiration": exp.strftime("%Y-%m-%dT%H:%M:%SZ"),
            }))
        self._answer(404, "")


@pytest.fixture
def metadata() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Metadata)
    _Metadata.seen = []
    t = threading.Thread(target=server.serve_forever, daemon=True)
    t.start()
    yield "http://127.0.0.1:%d" % server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: "os.PathLike[str]") -> Iterator[str]:
    for name in CREDENTIAL_ENV:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    monkeypatch.setenv("OSS_FFI_ECS_METADATA_ENDPOINT", "http://127.0.0.1:9")
    yield str(tmp_path)


@pytest.fixture
def log_lines() -> Iterator[List[str]]:
    lines: List[str] = []
    oss_ffi.set_log_level(6)
    oss_ffi.set_log_handler(lambda level, message: lines.append(message))
    yield lines
    oss_ffi.set_log_handler(None)
    oss_ffi.set_log_level(0)


def test_default_chain_reaches_the_ecs_role_on_loopback(
    emu: Emu, clean_env: str, metadata: str, monkeypatch: pytest.MonkeyPatch, log_lines: List[str]
) -> None:
    monkeypatch.setenv("OSS_FFI_ECS_METADATA_ENDPOINT", metadata)
    emu.put("creds/chain.txt", b"through the default chain")
    with oss_ffi.Client(emu.endpoint, credentials=oss_ffi.DefaultChain(), region=REGION) as c:
        assert c.get_object(BUCKET, "creds/chain.txt") == b"through the default chain"
        assert c.get_object(BUCKET, "creds/chain.txt") == b"through the default chain"
    # The token first, then the role, then its credentials: fetched once for both requests.
    assert _Metadata.seen == [
        ("PUT", "/latest/api/token"),
        ("GET", "/latest/meta-data/ram/security-credentials/"),
        ("GET", "/latest/meta-data/ram/security-credentials/" + ROLE),
    ]
    assert log_lines, "trace logging produced no line to scan"
    for line in log_lines:
        for secret in (STS_SK, STS_TOKEN, IMDS_TOKEN):
            assert secret not in line


def test_cli_profile_and_a_clear_error_for_an_unsupported_mode(emu: Emu, clean_env: str) -> None:
    config = os.path.join(clean_env, ".aliyun", "config.json")
    os.makedirs(os.path.dirname(config))
    with open(config, "w") as f:
        json.dump({"current": "sts", "profiles": [
            {"name": "sts", "mode": "StsToken", "access_key_id": STS_AK, "access_key_secret": STS_SK,
             "sts_token": STS_TOKEN, "region_id": REGION},
            {"name": "sso", "mode": "CloudSSO"},
        ]}, f)
    emu.put("creds/profile.txt", b"from the CLI profile")
    with oss_ffi.Client(emu.endpoint, credentials=oss_ffi.Profile(), region=REGION) as c:
        assert c.get_object(BUCKET, "creds/profile.txt") == b"from the CLI profile"
    with pytest.raises(oss_ffi.OssError) as e:
        oss_ffi.Client(emu.endpoint, credentials=oss_ffi.Profile(config, "sso"), region=REGION)
    assert e.value.code == "InvalidCredentials"
    assert "CloudSSO" in str(e.value)
    assert STS_SK not in repr(oss_ffi.RamRoleArn(STS_AK, STS_SK, "acs:ram::1:role/r"))
    with pytest.raises(ValueError):
        oss_ffi.RamRoleArn(STS_AK, "", "acs:ram::1:role/r")
