#!/usr/bin/env python3
"""Signs the request cases written by tests/sign_crosscheck.rs with the official Python SDK.

Usage: python3 tests/python/sign_crosscheck.py CASES.json

Reads {"sign": [case...], "crc": [crc case...]} and prints {"sign": [result...], "crc": [...]}
as JSON on stdout. Signing goes through alibabacloud_oss_v2's own SignerV1 / SignerV4 with a
SigningContext and HttpRequest built the way alibabacloud_oss_v2/_client.py builds them
(URL query from urlencode(params, quote_via=quote), raw bucket and key in the context).
CRC64 goes through alibabacloud_oss_v2.crc.Crc64 (crcmod) and Crc64.combine.

Exit status 3 (with a message on stderr) when the SDK cannot be imported.
"""

import datetime
import json
import sys
from urllib.parse import quote, urlencode

try:
    import alibabacloud_oss_v2 as oss
    from alibabacloud_oss_v2.crc import Crc64
    from alibabacloud_oss_v2.signer.v1 import SignerV1
    from alibabacloud_oss_v2.signer.v4 import SignerV4
    from alibabacloud_oss_v2.types import Credentials, HttpRequest, SigningContext
except ImportError as e:  # pragma: no cover - reported to the Rust test
    sys.stderr.write(
        f"cannot import alibabacloud_oss_v2 ({e}); "
        "install it with: python3 -m pip install -r tests/requirements.txt\n"
    )
    sys.exit(3)


def build_url(case):
    """Virtual-hosted URL exactly as _client._build_url + build_request_context make it."""
    region = case.get("region") or "cn-hangzhou"
    host = f"oss-{region}.aliyuncs.com"
    if case["bucket"]:
        host = f"{case['bucket']}.{host}"
    path = "/" + quote(case["key"]) if case["key"] else "/"
    url = f"http://{host}{path}"
    params = {}
    for k, v in case["query"]:
        params[k] = "" if v is None else v
    if params:
        query = urlencode(params, quote_via=quote)
        if query:
            url = url + "?" + query
    return url


def sign_case(case):
    request = HttpRequest(method=case["method"], url=build_url(case))
    for k, v in case["headers"]:
        request.headers[k] = v
    token = case.get("token") or None
    ctx = SigningContext(
        product="oss",
        region=case.get("region") or None,
        bucket=case["bucket"] or None,
        key=case["key"] or None,
        request=request,
        credentials=Credentials(case["ak"], case["sk"], token),
        signing_time=datetime.datetime.fromtimestamp(case["time"], datetime.timezone.utc),
    )
    extra = {}
    if case["version"] == "v1":
        # Operation-specific sub-resources, as operations declare them in op_metadata.
        ctx.sub_resource = list(case.get("sub_resource") or [])
        signer = SignerV1()
        signer.sign(ctx)
        extra["string_to_sign"] = ctx.string_to_sign
    else:
        if case.get("additional_headers") is not None:
            ctx.additional_headers = set(case["additional_headers"])
        signer = SignerV4()
        signer.sign(ctx)
        extra["string_to_sign"] = ctx.string_to_sign
        # Recompute the canonical request with the signer's own helpers for the report.
        additional = signer._common_additional_headers(request, ctx.additional_headers)
        extra["canonical_request"] = signer._calc_canonical_request(ctx, additional)
    return {
        "id": case["id"],
        "authorization": request.headers.get("Authorization"),
        "headers": [[k, v] for k, v in request.headers.items()],
        **extra,
    }


def crc_case(case):
    data = bytes.fromhex(case["data"])
    c = Crc64(0)
    c.update(data)
    whole = c.sum64()
    # Continue from a prefix CRC, as Crc64(init_crc) allows.
    cut = case["cut"]
    p = Crc64(0)
    p.update(data[:cut])
    cont = Crc64(p.sum64())
    cont.update(data[cut:])
    s = Crc64(0)
    s.update(data[cut:])
    return {
        "id": case["id"],
        "crc": str(whole),
        "prefix": str(p.sum64()),
        "suffix": str(s.sum64()),
        "continued": str(cont.sum64()),
        "combined": str(Crc64.combine(p.sum64(), s.sum64(), len(data) - cut)),
    }


def main():
    if len(sys.argv) != 2:
        sys.stderr.write(__doc__)
        return 2
    with open(sys.argv[1], "r", encoding="utf-8") as f:
        cases = json.load(f)
    out = {
        "sdk_version": getattr(oss, "__version__", "?"),
        "sign": [sign_case(c) for c in cases.get("sign", [])],
        "crc": [crc_case(c) for c in cases.get("crc", [])],
    }
    json.dump(out, sys.stdout, ensure_ascii=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
