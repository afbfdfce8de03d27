"""Presigned URLs (Client.presign / generate_presigned_url), cross-checked with plain urllib
against the local server, and the V4 region taken from the endpoint."""
from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.parse
import urllib.request

import pytest

import oss_ffi
from conftest import AK, BUCKET, SK, data_of

# Loopback only: no proxy the machine may set.
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def _fetch(url: str) -> "tuple[bytes, dict]":
    with _OPENER.open(url, timeout=30) as r:
        return r.read(), {k.lower(): v for k, v in r.headers.items()}


def test_presigned_url_works_with_plain_urllib(client, emu) -> None:
    data = emu.put("presign/dir/a b+c.bin", data_of(70_000, 5))
    url = client.presign(BUCKET, "presign/dir/a b+c.bin", expires=600)
    assert url.startswith(emu.endpoint + "/") and AK in urllib.parse.unquote(url)
    assert SK not in urllib.parse.unquote(url)
    got, _ = _fetch(url)
    assert got == data
    # the other SDKs' name, an absolute expiry, response-header overrides in the signed query
    url = client.generate_presigned_url(
        BUCKET, "presign/dir/a b+c.bin",
        expires=dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5),
        response_headers={"Content-Disposition": "attachment; filename=x.bin", "content_type": "text/x-test"},
    )
    got, headers = _fetch(url)
    assert got == data
    assert headers["content-disposition"] == "attachment; filename=x.bin"
    assert headers["content-type"] == "text/x-test"


def test_presigned_url_refused_when_altered_or_expired(emu) -> None:
    emu.put("presign/other", b"other")
    emu.put("presign/mine", b"mine")
    for sig in ("v1", "v4"):
        with oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region="cn-hangzhou", signature_version=sig) as c:
            url = c.presign(BUCKET, "presign/mine", expires=600)
            with pytest.raises(urllib.error.HTTPError) as ei:
                _fetch(url.replace("presign/mine", "presign/other"))
            assert ei.value.code == 403, sig
    # V1 signs an absolute time: one in the past gives a URL the server refuses.
    with oss_ffi.Client(emu.endpoint, credentials=(AK, SK), signature_version="v1") as c:
        url = c.presign(BUCKET, "presign/mine", expires=dt.datetime(2001, 1, 1, tzinfo=dt.timezone.utc))
    with pytest.raises(urllib.error.HTTPError) as ei:
        _fetch(url)
    assert ei.value.code == 403


def test_presign_argument_errors(v4) -> None:
    with pytest.raises(ValueError):
        v4.presign(BUCKET, "k", expires=0)
    with pytest.raises(ValueError):
        v4.presign(BUCKET, "k", expires=dt.datetime(2030, 1, 1))  # naive
    with pytest.raises(TypeError):
        v4.presign(BUCKET, "k", expires="soon")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        v4.presign(BUCKET, "k", response_headers={"X-Evil": "1"})
    with pytest.raises(oss_ffi.InvalidArgumentError) as ei:
        v4.presign("Bad_Bucket", "k")
    assert ei.value.bucket == "Bad_Bucket"


@pytest.mark.parametrize(
    "endpoint,region",
    [
        ("https://oss-cn-hangzhou.aliyuncs.com", "cn-hangzhou"),
        ("oss-ap-southeast-1-internal.aliyuncs.com", "ap-southeast-1"),
        ("https://examplebucket.oss-eu-central-1.aliyuncs.com", "eu-central-1"),
    ],
)
def test_v4_region_taken_from_the_endpoint(endpoint, region) -> None:
    """No region given: V4 signs with the one the endpoint names (seen in the presigned URL's
    credential scope; nothing is sent)."""
    with oss_ffi.Client(endpoint, credentials=(AK, SK)) as c:
        url = c.presign("examplebucket", "k", expires=600)
    query = urllib.parse.parse_qs(urllib.parse.urlsplit(url).query)
    assert query["x-oss-credential"][0].split("/")[2:] == [region, "oss", "aliyun_v4_request"], url
    with oss_ffi.Client(endpoint, credentials=(AK, SK), region="cn-beijing") as c:  # given wins
        url = c.presign("examplebucket", "k", expires=600)
    assert "/cn-beijing/oss/" in urllib.parse.unquote(url)


def test_v4_without_a_region_says_what_to_do(emu) -> None:
    emu.put("presign/noregion", b"n")
    for endpoint, why in (
        (emu.endpoint, "does not name one"),
        ("https://oss-accelerate.aliyuncs.com", "serves every region"),
    ):
        with oss_ffi.Client(endpoint, credentials=(AK, SK)) as c:
            for call in (lambda: c.presign(BUCKET, "presign/noregion"),
                         lambda: c.get_object(BUCKET, "presign/noregion")):
                with pytest.raises(ValueError) as ei:
                    call()
                e = ei.value
                assert isinstance(e, oss_ffi.InvalidArgumentError)
                assert "needs a region" in e.message and why in e.message, e.message
                assert "set_region" in e.message
            if endpoint == emu.endpoint:
                c.set_region("cn-hangzhou")
                assert c.get_object(BUCKET, "presign/noregion") == b"n"
                assert _fetch(c.presign(BUCKET, "presign/noregion"))[0] == b"n"
