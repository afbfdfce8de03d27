"""Errors: server errors with their fields, misuse refused in Python before reaching C."""
from __future__ import annotations

import builtins
import pickle

import pytest

import oss_ffi
from conftest import AK, REGION, SK


def test_no_such_key(client, tmp_path) -> None:
    for call in (
        lambda: client.resumable_download("py-bucket", "missing/key", tmp_path / "x"),
        lambda: client.get_object("py-bucket", "missing/key"),
        lambda: client.head_object("py-bucket", "missing/key"),  # decoded from x-oss-err
    ):
        with pytest.raises(oss_ffi.OssError) as ei:
            call()
        e = ei.value
        assert isinstance(e, oss_ffi.ServerError)
        assert e.kind is oss_ffi.ErrorKind.SERVER
        assert e.code == "NoSuchKey" and e.http_status == 404
        assert len(e.request_id) == 24 and e.host
        assert "NoSuchKey" in str(e) and e.request_id in str(e)
    assert not (tmp_path / "x").exists()


def test_no_such_bucket(v4) -> None:
    with pytest.raises(oss_ffi.ServerError) as ei:
        v4.get_object("no-such-bucket", "k")
    assert ei.value.code == "NoSuchBucket" and ei.value.http_status == 404


@pytest.mark.parametrize("sig", ["v1", "v4"])
def test_signature_does_not_match(emu, sig) -> None:
    emu.put("err/obj", b"x")
    with oss_ffi.Client(emu.endpoint, credentials=(AK, "wrong-secret"), region=REGION, signature_version=sig) as c:
        with pytest.raises(oss_ffi.ServerError) as ei:
            c.get_object("py-bucket", "err/obj")
    e = ei.value
    assert e.code == "SignatureDoesNotMatch" and e.http_status == 403 and e.request_id
    assert "wrong-secret" not in str(e) and "wrong-secret" not in e.message


def test_unknown_access_key(emu) -> None:
    with oss_ffi.Client(emu.endpoint, credentials=("nobody", SK), region=REGION) as c:
        with pytest.raises(oss_ffi.ServerError) as ei:
            c.head_object("py-bucket", "err/obj")
    assert ei.value.code == "InvalidAccessKeyId" and ei.value.http_status == 403


def test_precondition_failed(v4, emu, tmp_path) -> None:
    emu.put("err/cond", b"cond")
    with pytest.raises(oss_ffi.ServerError) as ei:
        v4.resumable_download("py-bucket", "err/cond", tmp_path / "c", if_match='"0000"')
    assert ei.value.http_status == 412


def test_library_validation_errors(v4, tmp_path) -> None:
    # Values of the right type that the library refuses: InvalidArgumentError, nothing sent.
    with pytest.raises(oss_ffi.InvalidArgumentError) as ei:
        v4.resumable_download("py-bucket", "k", tmp_path / "k", part_size=10)
    assert ei.value.kind is oss_ffi.ErrorKind.INVALID_ARGUMENT and ei.value.code == "ValidateError"
    with pytest.raises(oss_ffi.InvalidArgumentError):
        v4.resumable_download("py-bucket", "k", tmp_path / "k", threads=5000)
    with pytest.raises(oss_ffi.InvalidArgumentError):
        v4.resumable_download("py-bucket", "k", tmp_path / "k", if_modified_since="yesterday")
    with pytest.raises(oss_ffi.InvalidArgumentError):
        v4.resumable_download("py-bucket", "k", tmp_path / "k", checkpoint_dir=tmp_path / "absent")
    with pytest.raises(oss_ffi.InvalidArgumentError):
        oss_ffi.Client("http://127.0.0.1:1", credentials=(AK, SK), region=REGION, max_connections=0)


def test_wrong_types_fail_before_c(v4, tmp_path) -> None:
    with pytest.raises(TypeError):
        v4.get_object(123, "k")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        v4.get_object("b", None)  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        v4.get_object("b", "a\0b")
    with pytest.raises(TypeError):
        v4.get_object("b", "k", range="0-10")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        v4.get_object("b", "k", range=(10, 5))
    with pytest.raises(ValueError):
        v4.get_object("b", "k", range=(-1, 5))
    with pytest.raises(TypeError):
        v4.resumable_download("b", "k", tmp_path / "k", threads="4")  # type: ignore[arg-type]
    with pytest.raises(ValueError):
        v4.resumable_download("b", "k", tmp_path / "k", part_size=-1)
    with pytest.raises(ValueError):
        v4.resumable_download("b", "k", tmp_path / "k", threads=2**40)  # would wrap in uint32
    with pytest.raises(TypeError):
        v4.resumable_download("b", "k", tmp_path / "k", progress=5)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        v4.resumable_download("b", "k", 42)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        v4.resumable_download("b", "k", tmp_path / "k", verify_on_resume=1)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        v4.resumable_download("b", "k", tmp_path / "k", direct_io="no")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        v4.resumable_download("b", "k", tmp_path / "k", cancel_event=True)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        oss_ffi.Client("http://127.0.0.1:1", credentials=(AK, SK), region=REGION, max_conections=4)
    with pytest.raises(ValueError):
        oss_ffi.Client("http://127.0.0.1:1", credentials=(AK, SK), signature_version="v3")
    with oss_ffi.Client("http://127.0.0.1:1", credentials=(AK, SK)) as c:  # v4 without region:
        with pytest.raises(ValueError):  # InvalidArgumentError at the first call (test_presign.py)
            c.head_object("b-b-b", "k")
    with pytest.raises(TypeError):
        oss_ffi.Client("http://127.0.0.1:1", credentials=("only-one",), region=REGION)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        oss_ffi.Client(b"http://127.0.0.1:1", credentials=(AK, SK), region=REGION)  # type: ignore[arg-type]


def test_credentials_callable_failures(emu) -> None:
    emu.put("err/creds", b"c")

    def broken():
        raise RuntimeError("vault unreachable")

    with oss_ffi.Client(emu.endpoint, credentials=broken, region=REGION) as c:
        with pytest.raises(oss_ffi.OssError) as ei:
            c.get_object("py-bucket", "err/creds")
    assert ei.value.code == "InvalidCredentials"
    assert isinstance(ei.value.__cause__, RuntimeError)

    with oss_ffi.Client(emu.endpoint, credentials=lambda: "not a tuple", region=REGION) as c:
        with pytest.raises(oss_ffi.OssError) as ei:
            c.get_object("py-bucket", "err/creds")
    assert isinstance(ei.value.__cause__, TypeError)


def test_transport_error(tmp_path) -> None:
    with oss_ffi.Client(
        "http://127.0.0.1:1", credentials=(AK, SK), region=REGION, retries=0, connect_timeout_ms=500
    ) as c:
        with pytest.raises(oss_ffi.TransportError) as ei:
            c.head_object("b-b-b", "k")
    assert ei.value.code.startswith("ClientError:2000") and ei.value.http_status == 0


def test_closed_client(emu) -> None:
    c = oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION)
    c.close()
    c.close()  # idempotent
    assert c.closed
    with pytest.raises(ValueError):
        c.get_object("py-bucket", "k")


def test_disable_requests(v4, emu) -> None:
    emu.put("err/dis", b"d")
    v4.disable_requests()
    with pytest.raises(oss_ffi.CancelledError):
        v4.get_object("py-bucket", "err/dis")
    v4.enable_requests()
    assert v4.get_object("py-bucket", "err/dis") == b"d"


def test_error_pickles() -> None:
    e = oss_ffi.ServerError(oss_ffi.ErrorKind.SERVER, "NoSuchKey", "gone", "rid", "h", 404, "0026")
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is oss_ffi.ServerError and (e2.code, e2.http_status, e2.ec) == ("NoSuchKey", 404, "0026")


def test_call_timeout_ends_a_call_and_keeps_the_checkpoint(emu, tmp_path) -> None:
    """call_timeout_ms bounds a whole call (retries included): a server that waits 4 s before
    every answer gives TimeoutError long before that, and a resumable download keeps its
    checkpoint directory usable: without the delay the same call then succeeds."""
    from conftest import data_of

    data = emu.put("err/deadline.bin", data_of(300_000, 3))
    emu.set_faults([{"kind": "latency", "ms": 4_000, "method": "GET"}])
    ckpt = tmp_path / "ckpt"
    ckpt.mkdir()
    dest = tmp_path / "deadline.bin"
    with oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION, call_timeout_ms=700) as c:
        with pytest.raises(builtins.TimeoutError) as ei:  # a handler for the built-in catches it
            c.resumable_download("py-bucket", "err/deadline.bin", dest, checkpoint_dir=ckpt,
                                 part_size=100 * 1024, threads=2)
        assert isinstance(ei.value, oss_ffi.TimeoutError), ei.value
        assert ei.value.code == "ClientError:200028", ei.value
        assert (ei.value.bucket, ei.value.key) == ("py-bucket", "err/deadline.bin")
        assert not dest.exists()
        emu.set_faults([])
        c.resumable_download("py-bucket", "err/deadline.bin", dest, checkpoint_dir=ckpt,
                             part_size=100 * 1024, threads=2)
    assert dest.read_bytes() == data
    with pytest.raises(ValueError):
        oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION, call_timeout_ms=-1)


def test_errors_are_the_builtin_exceptions_that_fit() -> None:
    """Generic handlers work: a timeout is a builtins.TimeoutError, a local I/O failure an
    OSError, a missing object a FileNotFoundError (not a KeyError); every class keeps its
    OssError base, and prints as oss_ffi.<Name>."""
    import builtins
    import traceback

    assert issubclass(oss_ffi.TimeoutError, builtins.TimeoutError)
    assert issubclass(oss_ffi.TimeoutError, oss_ffi.OssError)
    assert issubclass(oss_ffi.LocalIOError, OSError) and issubclass(oss_ffi.LocalIOError, oss_ffi.OssError)
    assert issubclass(oss_ffi.NoSuchKeyError, FileNotFoundError)
    assert issubclass(oss_ffi.NoSuchKeyError, oss_ffi.ServerError)
    assert not issubclass(oss_ffi.NoSuchKeyError, KeyError)
    for name in oss_ffi.__all__:
        obj = getattr(oss_ffi, name)
        if isinstance(obj, type) and issubclass(obj, BaseException):
            assert obj.__module__ == "oss_ffi", name
    e = oss_ffi.TimeoutError(oss_ffi.ErrorKind.TIMEOUT, "ClientError:200028", "too slow")
    assert traceback.format_exception_only(type(e), e) == ["oss_ffi.TimeoutError: ClientError:200028: too slow\n"]
    assert repr(e).startswith("TimeoutError(kind=TIMEOUT")


def test_no_such_key_is_file_not_found(client, tmp_path) -> None:
    import errno

    for call in (
        lambda: client.get_object("py-bucket", "missing/key"),
        lambda: client.head_object("py-bucket", "missing/key"),
        lambda: client.resumable_download("py-bucket", "missing/key", tmp_path / "x"),
        lambda: client.get_object_to_file("py-bucket", "missing/key", tmp_path / "y"),
        lambda: client.start_get_object_to_file("py-bucket", "missing/key", tmp_path / "z").result(),
    ):
        with pytest.raises(FileNotFoundError) as ei:
            call()
        e = ei.value
        assert type(e) is oss_ffi.NoSuchKeyError and isinstance(e, oss_ffi.ServerError)
        assert (e.code, e.http_status, e.errno) == ("NoSuchKey", 404, errno.ENOENT)
        assert (e.bucket, e.key, e.filename) == ("py-bucket", "missing/key", "oss://py-bucket/missing/key")
        assert len(e.request_id) == 24
    with pytest.raises(oss_ffi.ServerError) as ei:
        client.get_object("no-such-bucket", "k")
    assert not isinstance(ei.value, FileNotFoundError) and ei.value.bucket == "no-such-bucket"


def test_local_io_error_is_an_oserror_with_errno_and_filename(client, emu, tmp_path) -> None:
    import errno

    emu.put("err/io", b"io")
    dest = tmp_path / "absent-dir" / "f"
    with pytest.raises(OSError) as ei:
        client.get_object_to_file("py-bucket", "err/io", dest)
    e = ei.value
    assert type(e) is oss_ffi.LocalIOError and e.kind is oss_ffi.ErrorKind.IO
    assert e.errno == errno.ENOENT and e.filename and str(tmp_path / "absent-dir") in e.filename, (e, e.filename)
    assert e.strerror and (e.bucket, e.key) == ("py-bucket", "err/io")


def test_error_pickles_with_its_object() -> None:
    e = oss_ffi.NoSuchKeyError(oss_ffi.ErrorKind.SERVER, "NoSuchKey", "gone", "rid", "h", 404, "0026")
    e._set_object("b", "k")
    e2 = pickle.loads(pickle.dumps(e))
    assert type(e2) is oss_ffi.NoSuchKeyError and (e2.bucket, e2.key, e2.filename) == ("b", "k", "oss://b/k")
