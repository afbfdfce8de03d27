"""Fixtures: the local OSS server (oss-emulator binary) and clients of the binding.

The library comes from $OSS_FFI_LIBRARY (default: target/debug/liboss_ffi.so of this repository),
the server from $OSS_EMULATOR_BIN (default: target/debug/oss-emulator).
"""
from __future__ import annotations

import atexit
import json
import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import urllib.request
from typing import Iterator, List

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
os.environ.setdefault("OSS_FFI_LIBRARY", os.path.join(REPO, "target", "debug", "liboss_ffi.so"))

try:
    import oss_ffi  # noqa: E402  (installed: pip install ./bindings/python)
except ImportError:  # not installed: test the source tree
    import sys

    sys.path.insert(0, os.path.join(REPO, "bindings", "python", "src"))
    import oss_ffi  # noqa: E402

# The per-user resume token key (~/.config/oss-ffi/resume-token.key, made by the first pause) goes
# to a scratch directory of this run, never into the home of the user running the tests; child
# processes inherit it, so a token resumes in another process as it would for a real user.
CONFIG_HOME = tempfile.mkdtemp(prefix="oss-ffi-py-config-")
os.environ["XDG_CONFIG_HOME"] = CONFIG_HOME
atexit.register(shutil.rmtree, CONFIG_HOME, True)

# A job that a non-interactive shell started in the background inherits SIGINT as ignored; Python
# then installs no KeyboardInterrupt handler and `_thread.interrupt_main()` does nothing, so the
# Ctrl-C tests would depend on how the test run was started. Python's own handler, always.
signal.signal(signal.SIGINT, signal.default_int_handler)

AK, SK = "py-ak", "py-sk/with+chars="
STS_AK, STS_SK, STS_TOKEN = "STS.py-ak", "sts-secret", "CAIS+token/with=chars"
BUCKET = "py-bucket"
REGION = "cn-hangzhou"


def emulator_bin() -> str:
    path = os.environ.get("OSS_EMULATOR_BIN") or os.path.join(REPO, "target", "debug", "oss-emulator")
    if not os.path.exists(path):
        pytest.skip("oss-emulator not built (cargo build -p oss-emulator) and OSS_EMULATOR_BIN unset")
    return path


def data_of(size: int, seed: int = 1) -> bytes:
    return random.Random(seed).randbytes(size)


class Emu:
    def __init__(self) -> None:
        self.root = tempfile.mkdtemp(prefix="oss-ffi-py-")
        args = [
            emulator_bin(), "--root", self.root, "--port", "0",
            "--access-key-id", AK, "--access-key-secret", SK,
            "--access-key-id", STS_AK, "--access-key-secret", STS_SK, "--security-token", STS_TOKEN,
            "--create-bucket", BUCKET, "--admin", "--seed", "3",
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        m = re.match(r"listening on (http://[\d.]+:\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError("emulator did not start: %r" % line)
        self.endpoint = m.group(1)

    def put(self, key: str, data: bytes, bucket: str = BUCKET) -> bytes:
        """Seeds an object by writing its file under the server's root."""
        path = os.path.join(self.root, bucket, key)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        tmp = path + ".seed-tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
        return data

    def admin(self, method: str, path: str, body: object = None) -> str:
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request("%s/__admin/%s" % (self.endpoint, path), data=data, method=method)
        with urllib.request.urlopen(req) as r:
            return r.read().decode()

    def set_faults(self, rules: List[dict]) -> None:
        self.admin("PUT", "faults", {"rules": rules})

    def stop(self) -> None:
        self.proc.kill()
        self.proc.wait()
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture(scope="session")
def emu() -> Iterator[Emu]:
    e = Emu()
    yield e
    e.stop()


@pytest.fixture(autouse=True)
def _no_faults(request: pytest.FixtureRequest) -> Iterator[None]:
    yield
    if "emu" in request.fixturenames:
        request.getfixturevalue("emu").set_faults([])


@pytest.fixture(params=["v4", "v1"])
def client(request: pytest.FixtureRequest, emu: Emu) -> Iterator[oss_ffi.Client]:
    with oss_ffi.Client(
        emu.endpoint, credentials=(AK, SK), region=REGION, signature_version=request.param
    ) as c:
        yield c


@pytest.fixture
def v4(emu: Emu) -> Iterator[oss_ffi.Client]:
    with oss_ffi.Client(emu.endpoint, credentials=(AK, SK), region=REGION) as c:
        yield c


@pytest.fixture
def slow(emu: Emu) -> Iterator[oss_ffi.Client]:
    """A client limited to 4 MiB/s in total, so a download can be stopped half-way."""
    with oss_ffi.Client(
        emu.endpoint, credentials=(AK, SK), region=REGION, recv_rate_limit_kbps=4096
    ) as c:
        yield c
