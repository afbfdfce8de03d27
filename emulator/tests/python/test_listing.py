"""Listings (ListObjects v1 and ListObjectsV2) as the official Python SDKs see them.

Both `alibabacloud-oss-v2` (V1 and V4 signing) and `oss2` (V1) list the same bucket with
small pages, with and without a delimiter, over keys that are awkward on the wire and on a
disk (`../x`, `a//b`, `dir/`, control characters, `%`, `+`, spaces, unicode, 1023 bytes).
The SDKs ask for `encoding-type=url` and decode the answer themselves, so what they get
back must be the keys exactly as stored, in byte order, each once.
"""
import shutil
import urllib.parse

import pytest
import oss2
import alibabacloud_oss_v2 as oss

from conftest import AK, SK, Emu

BUCKET = "lst-probe"
ODD = [
    "../x",
    "a//b",
    "dir/",
    "dir/sub/f.bin",
    "dir/z",
    "ctl\x01char",
    "tab\there",
    "pct%41+plus sp",
    "back\\slash",
    "unicode-你好/é",
    "zz" + "k" * 1021,
    "a",
    "a/b",
    "b.txt",
]
SIZE = 7


@pytest.fixture(scope="module")
def lemu():
    args = ["--create-bucket", BUCKET, "--create-bucket", "lst-empty"]
    for k in ODD:
        args += ["--create-object", f"{BUCKET}/{k}:{SIZE}"]
    e = Emu(args)
    yield e
    e.stop()
    shutil.rmtree(e.root, ignore_errors=True)


def v2_client(e, version):
    cfg = oss.config.load_default()
    cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(AK, SK)
    cfg.region = "cn-hangzhou"
    cfg.endpoint = e.endpoint
    cfg.signature_version = version
    cfg.retryer = oss.retry.NopRetryer()
    return oss.Client(cfg)


def oss2_bucket(e, bucket=BUCKET):
    return oss2.Bucket(oss2.Auth(AK, SK), e.endpoint, bucket, is_path_style=True)


def by_bytes(keys):
    return sorted(keys, key=lambda k: k.encode())


def expected(prefix="", delimiter=""):
    keys, prefixes = [], set()
    for k in by_bytes(ODD):
        if not k.startswith(prefix):
            continue
        rest = k[len(prefix):]
        if delimiter and delimiter in rest:
            prefixes.add(prefix + rest[: rest.index(delimiter) + len(delimiter)])
        else:
            keys.append(k)
    return keys, by_bytes(prefixes)


@pytest.mark.parametrize("version", ["v1", "v4"])
@pytest.mark.parametrize("delimiter", ["", "/"])
def test_v2_sdk_paginates_listings(lemu, version, delimiter):
    c = v2_client(lemu, version)
    keys, prefixes, pages = [], [], 0
    for page in c.list_objects_v2_paginator().iter_page(
        oss.ListObjectsV2Request(bucket=BUCKET, delimiter=delimiter or None, max_keys=3,
                                 fetch_owner=True)
    ):
        pages += 1
        assert page.encoding_type == "url"
        assert page.key_count == len(page.contents or []) + len(page.common_prefixes or [])
        assert page.key_count <= 3
        for o in page.contents or []:
            keys.append(o.key)
            assert o.size == SIZE
            assert o.etag.startswith('"') and o.etag.endswith('"')
            assert o.storage_class == "Standard" and o.object_type == "Normal"
            assert o.owner is not None and o.owner.id
            assert o.last_modified is not None
        prefixes += [p.prefix for p in page.common_prefixes or []]
    want_keys, want_prefixes = expected(delimiter=delimiter)
    assert keys == want_keys
    assert prefixes == want_prefixes
    assert pages == -(-(len(want_keys) + len(want_prefixes)) // 3)


@pytest.mark.parametrize("version", ["v1", "v4"])
def test_v2_sdk_lists_v1_with_markers(lemu, version):
    c = v2_client(lemu, version)
    keys = []
    for page in c.list_objects_paginator().iter_page(
        oss.ListObjectsRequest(bucket=BUCKET, prefix="dir/", max_keys=1)
    ):
        keys += [o.key for o in page.contents or []]
        if page.is_truncated:
            assert page.next_marker == page.contents[-1].key
    assert keys == expected(prefix="dir/")[0]


def test_v2_sdk_start_after_and_prefix(lemu):
    c = v2_client(lemu, "v4")
    r = c.list_objects_v2(oss.ListObjectsV2Request(bucket=BUCKET, start_after="b.txt",
                                                   prefix="", max_keys=1000))
    assert [o.key for o in r.contents] == [k for k in expected()[0] if k.encode() > b"b.txt"]
    assert r.start_after == "b.txt"
    r = c.list_objects_v2(oss.ListObjectsV2Request(bucket=BUCKET, prefix="unicode-你好/",
                                                   delimiter="/"))
    assert [o.key for o in r.contents] == ["unicode-你好/é"]
    assert r.prefix == "unicode-你好/" and r.delimiter == "/"


def test_oss2_lists_v1_and_v2(lemu):
    b = oss2_bucket(lemu)
    v2 = [o.key for o in oss2.ObjectIteratorV2(b, max_keys=2)]
    v1 = [o.key for o in oss2.ObjectIterator(b, max_keys=2)]
    assert v2 == v1 == expected()[0]
    top = list(oss2.ObjectIteratorV2(b, delimiter="/", max_keys=2))
    want_keys, want_prefixes = expected(delimiter="/")
    assert [o.key for o in top if not o.is_prefix()] == want_keys
    assert [o.key for o in top if o.is_prefix()] == want_prefixes
    r = b.list_objects_v2(prefix="dir/", fetch_owner=True)
    assert [o.key for o in r.object_list] == expected(prefix="dir/")[0]
    assert all(o.owner is not None and o.owner.id for o in r.object_list)


def test_empty_bucket_and_prefix(lemu):
    r = v2_client(lemu, "v4").list_objects_v2(oss.ListObjectsV2Request(bucket="lst-empty"))
    assert (r.contents, r.common_prefixes, r.is_truncated, r.key_count) == (None, None, False, 0)
    r = oss2_bucket(lemu).list_objects_v2(prefix="nothing-here/")
    assert (r.object_list, r.prefix_list, r.is_truncated) == ([], [], False)


@pytest.mark.parametrize("query,argument", [
    ("list-type=2&max-keys=1001", "max-keys"),
    ("list-type=2&max-keys=0", "max-keys"),
    ("list-type=2&max-keys=abc", "max-keys"),
    ("list-type=2&encoding-type=base64", "encoding-type"),
    ("list-type=2&continuation-token=%25%25", "continuation-token"),
    ("max-keys=-1", "max-keys"),
])
def test_bad_arguments_are_invalid_argument(lemu, query, argument):
    # Signed by the SDK's own signer (V4) on a hand-made query.
    c = v2_client(lemu, "v4")
    params = dict(urllib.parse.parse_qsl(query, keep_blank_values=True))
    with pytest.raises(Exception) as excinfo:
        c.invoke_operation(oss.OperationInput(
            op_name="ListObjectsV2", method="GET", bucket=BUCKET, parameters=params))
    err = excinfo.value
    while hasattr(err, "unwrap") and not isinstance(err, oss.exceptions.ServiceError):
        err = err.unwrap()
    assert isinstance(err, oss.exceptions.ServiceError), repr(excinfo.value)
    assert (err.status_code, err.code) == (400, "InvalidArgument")
    assert argument in err.message or argument == "continuation-token", err.message


def test_no_such_bucket(lemu):
    with pytest.raises(oss2.exceptions.NoSuchBucket):
        oss2_bucket(lemu, "lst-missing").list_objects_v2()


def test_listing_faults_through_the_sdk(lemu):
    c = v2_client(lemu, "v4")
    lemu.set_faults([{"kind": "status", "status": 503, "listing": True, "count": 1}])
    with pytest.raises(Exception):
        c.list_objects_v2(oss.ListObjectsV2Request(bucket=BUCKET))
    r = c.list_objects_v2(oss.ListObjectsV2Request(bucket=BUCKET, max_keys=2))
    assert r.is_truncated and r.next_continuation_token
    lemu.set_faults([{"kind": "list_truncated_no_token", "count": 1}])
    r = c.list_objects_v2(oss.ListObjectsV2Request(bucket=BUCKET, max_keys=2))
    assert r.is_truncated and not r.next_continuation_token
    lemu.set_faults([])
