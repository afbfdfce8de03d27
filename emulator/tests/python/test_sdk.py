"""The official Python SDK (alibabacloud-oss-v2) against the emulator.

Signs with V1 and V4, with and without an STS token, over awkward keys; checks that
every correct request is accepted and that tampered signature/date/token are refused;
downloads a multi-part object with the SDK's own downloader; checks range,
condition, error and public-read behaviour as the SDK sees it.
"""
import base64
import datetime
import hashlib
import os
import time

import pytest
import requests
import alibabacloud_oss_v2 as oss
from alibabacloud_oss_v2.signer import SignerV1, SignerV4

from conftest import AK, SK, STS_AK, STS_SK, STS_TOKEN, PRIVATE, PUBLIC, Emu

KEYS = [
    "plain.txt",
    "dir/sub/file.bin",
    "with space.txt",
    "a+b+c=d&e.txt",
    "unicode-你好-ü/é.txt",
    "mix/ a+b /ü é~_-.bin",
]
VERSIONS = ["v1", "v4"]
TOKENS = [False, True]


def make_client(emu, version="v4", token=False, anonymous=False, signer=None, secret=None,
                retry=True, additional_headers=None):
    cfg = oss.config.load_default()
    if anonymous:
        cfg.credentials_provider = oss.credentials.AnonymousCredentialsProvider()
    elif token:
        cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(
            STS_AK, secret or STS_SK, STS_TOKEN if token is True else token)
    else:
        cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(AK, secret or SK)
    cfg.region = "cn-hangzhou"
    cfg.endpoint = emu.endpoint
    cfg.signature_version = version
    if additional_headers:
        cfg.additional_headers = additional_headers
    if not retry:
        cfg.retryer = oss.retry.NopRetryer()
    kwargs = {}
    if signer is not None:
        kwargs["signer"] = signer
    return oss.Client(cfg, **kwargs)


def service_error(excinfo):
    err = excinfo.value
    while hasattr(err, "unwrap") and not isinstance(err, oss.exceptions.ServiceError):
        err = err.unwrap()
    assert isinstance(err, oss.exceptions.ServiceError), repr(excinfo.value)
    return err


def put(client, key, data, bucket=PRIVATE, **kw):
    return client.put_object(oss.PutObjectRequest(bucket=bucket, key=key, body=data, **kw))


def get_bytes(client, key, bucket=PRIVATE, **kw):
    r = client.get_object(oss.GetObjectRequest(bucket=bucket, key=key, **kw))
    with r.body as body:
        return r, body.read()


def crc64(data):
    # CRC-64/XZ reference, bit by bit
    crc = 0xFFFFFFFFFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0xC96C5795D7870F42 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFFFFFFFFFF


# ---------------------------------------------------------------- signatures

@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("key", KEYS)
def test_signed_requests_are_accepted(emu, version, token, key):
    client = make_client(emu, version, token)
    data = (key * 37).encode()
    res = put(client, key, data, metadata={"author": "alice"})
    assert res.status_code == 200
    assert int(res.hash_crc64) == crc64(data)
    got, body = get_bytes(client, key)
    assert body == data
    assert got.etag == res.etag
    assert got.content_length == len(data)
    assert got.object_type == "Normal"
    assert got.metadata.get("author") == "alice"
    h = client.head_object(oss.HeadObjectRequest(bucket=PRIVATE, key=key))
    assert h.content_length == len(data) and h.etag == res.etag
    m = client.get_object_meta(oss.GetObjectMetaRequest(bucket=PRIVATE, key=key))
    assert m.content_length == len(data) and m.etag == res.etag and int(m.hash_crc64) == crc64(data)
    # signed sub-resources and query parameters
    got, body = get_bytes(client, key, response_content_type="text/x-test",
                          response_content_disposition="attachment; filename=\"a b.txt\"",
                          range_header="bytes=1-3", range_behavior="standard")
    assert got.status_code == 206 and body == data[1:4]
    assert got.content_type == "text/x-test"
    assert got.headers.get("content-disposition") == "attachment; filename=\"a b.txt\""
    log = emu.log()
    assert log and all(e["auth"] == version for e in log), log
    assert all(e["status"] in (200, 206) for e in log), log


def test_v4_additional_headers(emu):
    client = make_client(emu, "v4", additional_headers=["content-disposition", "cache-control"])
    res = put(client, "addl.txt", b"abc", content_disposition="inline", cache_control="no-cache")
    assert res.status_code == 200
    assert get_bytes(client, "addl.txt")[1] == b"abc"
    assert emu.log()[0]["auth"] == "v4"


class _Tamper:
    """Wraps the SDK signer and damages the request after signing."""

    def __init__(self, base, what):
        self.base, self.what = base, what

    def sign(self, ctx):
        if self.what == "skew":
            ctx.signing_time = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=20)
        self.base.sign(ctx)
        h = ctx.request.headers
        if self.what == "signature":
            auth = h["Authorization"]
            last = auth[-1]
            h["Authorization"] = auth[:-1] + ("A" if last != "A" else "B")
        elif self.what == "date":
            if "x-oss-date" in h:  # V4
                t = datetime.datetime.strptime(h["x-oss-date"], "%Y%m%dT%H%M%SZ") + datetime.timedelta(seconds=1)
                h["x-oss-date"] = t.strftime("%Y%m%dT%H%M%SZ")
            else:  # V1 signs the Date header
                t = datetime.datetime.strptime(h["Date"], "%a, %d %b %Y %H:%M:%S GMT") + datetime.timedelta(seconds=1)
                h["Date"] = t.strftime("%a, %d %b %Y %H:%M:%S GMT")
        elif self.what == "token":
            for name in ("x-oss-security-token", "security-token"):
                if name in h:
                    h[name] = h[name] + "x"
        elif self.what == "drop-token":
            for name in ("x-oss-security-token", "security-token"):
                h.pop(name, None)
        elif self.what == "key":
            # sign one key, send another
            pass


TAMPERS = {
    "signature": "SignatureDoesNotMatch",
    "date": "SignatureDoesNotMatch",
    "skew": "RequestTimeTooSkewed",
}


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("token", TOKENS)
@pytest.mark.parametrize("what", sorted(TAMPERS))
@pytest.mark.parametrize("key", ["plain.txt", "unicode-你好-ü/é.txt", "a+b+c=d&e.txt"])
def test_tampered_requests_are_refused(emu, version, token, what, key):
    put(make_client(emu), key, b"payload")
    base = SignerV1() if version == "v1" else SignerV4()
    client = make_client(emu, version, token, signer=_Tamper(base, what), retry=False)
    with pytest.raises(Exception) as ei:
        get_bytes(client, key)
    err = service_error(ei)
    assert err.code == TAMPERS[what], (err.code, err.message)
    assert err.status_code == 403
    assert err.request_id
    if what == "skew":
        assert "ServerTime" in (err.error_fileds or {}) or b"ServerTime" in (err.snapshot or b"")
    if what != "skew":
        with pytest.raises(Exception) as ei:
            client.head_object(oss.HeadObjectRequest(bucket=PRIVATE, key=key))
        assert service_error(ei).code == TAMPERS[what]  # from x-oss-err
    assert emu.log()[-1]["status"] == 403


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("what", ["token", "drop-token"])
def test_tampered_token_is_refused(emu, version, what):
    put(make_client(emu), "t.txt", b"payload")
    base = SignerV1() if version == "v1" else SignerV4()
    client = make_client(emu, version, True, signer=_Tamper(base, what), retry=False)
    with pytest.raises(Exception) as ei:
        get_bytes(client, "t.txt")
    err = service_error(ei)
    # V4 signs x-oss-security-token, so tampering breaks the signature; the Python SDK's
    # V1 sends it unsigned (`security-token` header), so the token check refuses it.
    want = "AccessDenied" if version == "v1" else "SignatureDoesNotMatch"
    assert err.code == want and err.status_code == 403


@pytest.mark.parametrize("version", VERSIONS)
def test_wrong_secret_wrong_token_unknown_key(emu, version):
    put(make_client(emu), "w.txt", b"payload")
    with pytest.raises(Exception) as ei:
        get_bytes(make_client(emu, version, secret="nope", retry=False), "w.txt")
    err = service_error(ei)
    assert err.code == "SignatureDoesNotMatch"
    assert "StringToSign" in err.error_fileds
    with pytest.raises(Exception) as ei:
        get_bytes(make_client(emu, version, token="other-token", retry=False), "w.txt")
    assert service_error(ei).code == "AccessDenied"
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider("unknown", "x")
    cfg.region, cfg.endpoint, cfg.signature_version = "cn-hangzhou", emu.endpoint, version
    cfg.retryer = oss.retry.NopRetryer()
    with pytest.raises(Exception) as ei:
        get_bytes(oss.Client(cfg), "w.txt")
    assert service_error(ei).code == "InvalidAccessKeyId"


@pytest.mark.parametrize("version", VERSIONS)
@pytest.mark.parametrize("token", TOKENS)
def test_presigned_urls(emu, version, token):
    key = "pre sign/ü+x.txt"
    put(make_client(emu), key, b"presigned!")
    client = make_client(emu, version, token)
    pre = client.presign(oss.GetObjectRequest(bucket=PRIVATE, key=key))
    r = requests.get(pre.url, headers=pre.signed_headers)
    assert r.status_code == 200, r.text
    assert r.content == b"presigned!"
    assert emu.log()[-1]["auth"] == f"{version}-query"
    bad = pre.url.replace(PRIVATE, PRIVATE, 1)
    # tamper: change the signature's last character
    sig_name = "Signature=" if version == "v1" else "x-oss-signature="
    idx = bad.index(sig_name) + len(sig_name)
    bad = bad[:idx] + ("0" if bad[idx] != "0" else "1") + bad[idx + 1:]
    r = requests.get(bad, headers=pre.signed_headers)
    assert r.status_code == 403 and "<Code>SignatureDoesNotMatch</Code>" in r.text


# ---------------------------------------------------------------- downloader

@pytest.mark.parametrize("version", VERSIONS)
def test_sdk_downloader_multipart(emu, version, tmp_path):
    client = make_client(emu, version)
    data = os.urandom(5 * 1024 * 1024 + 12345)
    put(client, "big/object.bin", data)
    emu.clear_log()
    d = client.downloader(part_size=512 * 1024, parallel_num=4)
    out = tmp_path / "out.bin"
    res = d.download_file(oss.GetObjectRequest(bucket=PRIVATE, key="big/object.bin"), filepath=str(out))
    assert res.written == len(data)
    assert hashlib.md5(out.read_bytes()).digest() == hashlib.md5(data).digest()
    gets = [e for e in emu.log() if e["method"] == "GET"]
    assert len(gets) >= 10
    assert all(e["range"] for e in gets)
    assert all(e["status"] == 206 for e in gets)


def test_sdk_downloader_survives_two_503s(emu, tmp_path):
    client = make_client(emu, "v4")
    data = os.urandom(3 * 1024 * 1024)
    put(client, "flaky/object.bin", data)
    emu.set_faults([{"kind": "status", "status": 503, "count": 2, "method": "GET"}])
    d = client.downloader(part_size=1024 * 1024, parallel_num=2)
    out = tmp_path / "out.bin"
    d.download_file(oss.GetObjectRequest(bucket=PRIVATE, key="flaky/object.bin"), filepath=str(out))
    assert out.read_bytes() == data
    statuses = [e["status"] for e in emu.log() if e["method"] == "GET"]
    assert statuses.count(503) == 2
    assert all(e["fault"] == "status:503" for e in emu.log() if e["status"] == 503)


# ---------------------------------------------------------------- range / conditions / errors

def test_range_rules_through_sdk(emu):
    client = make_client(emu, "v4", retry=False)
    data = bytes(range(256)) * 4  # 1024 bytes
    put(client, "r.bin", data)
    r, b = get_bytes(client, "r.bin", range_header="bytes=10-19", range_behavior="standard")
    assert r.status_code == 206 and b == data[10:20] and r.content_range == "bytes 10-19/1024"
    r, b = get_bytes(client, "r.bin", range_header="bytes=1000-5000", range_behavior="standard")
    assert r.status_code == 206 and b == data[1000:] and r.content_range == "bytes 1000-1023/1024"
    r, b = get_bytes(client, "r.bin", range_header="bytes=1000-5000")
    assert r.status_code == 200 and b == data  # legacy: ignored
    r, b = get_bytes(client, "r.bin", range_header="bytes=-24", range_behavior="standard")
    assert r.status_code == 206 and b == data[-24:]
    r, b = get_bytes(client, "r.bin", range_header="bytes=5000-")
    assert r.status_code == 200 and b == data
    with pytest.raises(Exception) as ei:
        get_bytes(client, "r.bin", range_header="bytes=1024-", range_behavior="standard")
    err = service_error(ei)
    assert err.status_code == 416 and err.code == "InvalidRange"
    put(client, "empty.bin", b"")
    r, b = get_bytes(client, "empty.bin")
    assert r.status_code == 200 and b == b""
    with pytest.raises(Exception) as ei:
        get_bytes(client, "empty.bin", range_header="bytes=0-", range_behavior="standard")
    assert service_error(ei).code == "InvalidRange"


def test_conditions_through_sdk(emu):
    client = make_client(emu, "v1", retry=False)
    res = put(client, "c.txt", b"conditional")
    etag = res.etag
    r, b = get_bytes(client, "c.txt", if_match=etag)
    assert b == b"conditional"
    with pytest.raises(Exception) as ei:
        get_bytes(client, "c.txt", if_match='"0000"')
    assert service_error(ei).code == "PreconditionFailed"
    assert service_error(ei).status_code == 412
    with pytest.raises(Exception) as ei:
        get_bytes(client, "c.txt", if_none_match=etag)
    assert service_error(ei).status_code == 304
    future = "Fri, 01 Jan 2100 00:00:00 GMT"
    past = "Fri, 13 Nov 2015 14:47:53 GMT"
    with pytest.raises(Exception) as ei:
        get_bytes(client, "c.txt", if_modified_since=future)
    assert service_error(ei).status_code == 304
    with pytest.raises(Exception) as ei:
        get_bytes(client, "c.txt", if_unmodified_since=past)
    assert service_error(ei).code == "PreconditionFailed"
    r, b = get_bytes(client, "c.txt", if_modified_since=past, if_unmodified_since=future)
    assert b == b"conditional"
    # a part download pinned to an ETag fails once the object changes
    put(client, "c.txt", b"changed")
    with pytest.raises(Exception) as ei:
        get_bytes(client, "c.txt", if_match=etag, range_header="bytes=0-3", range_behavior="standard")
    assert service_error(ei).code == "PreconditionFailed"
    assert emu.log()[-1]["if_match"] == etag


def test_errors_through_sdk(emu):
    client = make_client(emu, "v4", retry=False)
    with pytest.raises(Exception) as ei:
        get_bytes(client, "no/such key")
    err = service_error(ei)
    assert (err.status_code, err.code) == (404, "NoSuchKey") and err.request_id and err.ec
    with pytest.raises(Exception) as ei:
        client.head_object(oss.HeadObjectRequest(bucket=PRIVATE, key="no/such key"))
    err = service_error(ei)
    assert (err.status_code, err.code) == (404, "NoSuchKey")  # decoded from x-oss-err
    with pytest.raises(Exception) as ei:
        get_bytes(client, "k", bucket="no-such-bucket")
    assert service_error(ei).code == "NoSuchBucket"
    with pytest.raises(Exception) as ei:
        get_bytes(client, "x", traffic_limit=1000)
    assert service_error(ei).code == "InvalidArgument"
    emu.set_faults([{"kind": "status", "status": 500, "count": 1}])
    with pytest.raises(Exception) as ei:
        get_bytes(client, "x")
    assert service_error(ei).code == "InternalError"


def test_public_read_bucket(emu):
    put(make_client(emu), "pub.txt", b"public", bucket=PUBLIC)
    put(make_client(emu), "priv.txt", b"private")
    anon = make_client(emu, anonymous=True, retry=False)
    assert get_bytes(anon, "pub.txt", bucket=PUBLIC)[1] == b"public"
    assert anon.head_object(oss.HeadObjectRequest(bucket=PUBLIC, key="pub.txt")).content_length == 6
    with pytest.raises(Exception) as ei:
        get_bytes(anon, "priv.txt")
    assert service_error(ei).code == "AccessDenied"
    with pytest.raises(Exception) as ei:
        put(anon, "pub2.txt", b"x", bucket=PUBLIC)
    assert service_error(ei).code == "AccessDenied"
    # signed requests to a public bucket must still verify
    with pytest.raises(Exception) as ei:
        get_bytes(make_client(emu, secret="bad", retry=False), "pub.txt", bucket=PUBLIC)
    assert service_error(ei).code == "SignatureDoesNotMatch"
    assert requests.get(f"{emu.endpoint}/{PUBLIC}/pub.txt").content == b"public"
    assert [e["auth"] for e in emu.log()][:2] == ["v4", "v4"]


def test_traffic_limit_throttles(emu):
    client = make_client(emu, "v4")
    data = os.urandom(512 * 1024)
    put(client, "slow.bin", data)
    t0 = time.monotonic()
    r, b = get_bytes(client, "slow.bin", traffic_limit=4 * 1024 * 1024)  # 512 KiB/s
    elapsed = time.monotonic() - t0
    assert b == data
    assert elapsed >= 0.8, elapsed


def test_https(monkeypatch):
    e = Emu(["--tls"])
    try:
        assert e.endpoint.startswith("https://") and os.path.exists(e.ca)
        monkeypatch.setenv("REQUESTS_CA_BUNDLE", e.ca)  # the SDK's requests session trusts our CA
        client = make_client(e, "v4")
        put(client, "tls.txt", b"over tls")
        assert get_bytes(client, "tls.txt")[1] == b"over tls"
        r = requests.get(f"{e.endpoint}/{PUBLIC}/none", verify=e.ca)
        assert r.status_code == 404 and "<Code>NoSuchKey</Code>" in r.text
    finally:
        e.stop()
