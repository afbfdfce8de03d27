"""Checks an oss_ffi installed by `pip install ./bindings/python` alone (scripts/test.sh runs it
with the fresh environment's python, `-I`, from a directory outside the checkout):

- the package and the library it loads are the installed ones: oss_ffi/liboss_ffi.so inside that
  environment's site-packages, not the checkout's build trees, with no $OSS_FFI_LIBRARY;
- the wheel was tagged for the platform (py3-none-<platform>, not py3-none-any), and the library
  in it is a release build (no test hooks);
- a real download from the local OSS server (oss-emulator): a multi-part resumable download
  and a GetObject, byte for byte against what the server holds.

    python3 -I scripts/check-python-wheel.py --emulator target/debug/oss-emulator --repo .
"""
from __future__ import annotations

import argparse
import hashlib
import os
import random
import re
import shutil
import subprocess
import sys
import sysconfig
import tempfile
from importlib import metadata


def fail(msg: str) -> None:
    print("check-python-wheel: FAIL: " + msg, file=sys.stderr)
    sys.exit(1)


def under(path: str, root: str) -> bool:
    path, root = os.path.realpath(path), os.path.realpath(root)
    return os.path.commonpath([path, root]) == root


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--emulator", required=True)
    ap.add_argument("--repo", required=True, help="the checkout, which nothing may come from")
    args = ap.parse_args()
    emulator = os.path.abspath(args.emulator)

    if "OSS_FFI_LIBRARY" in os.environ:
        fail("OSS_FFI_LIBRARY is set: the check is that the package works without it")
    if under(os.getcwd(), args.repo):
        fail("run from a directory outside the checkout, not %s" % os.getcwd())

    import oss_ffi
    from oss_ffi import _lib

    site = {os.path.realpath(sysconfig.get_paths()[k]) for k in ("purelib", "platlib")}
    pkg_dir = os.path.dirname(os.path.abspath(oss_ffi.__file__))
    if not any(under(pkg_dir, s) for s in site):
        fail("oss_ffi imported from %s, not this environment's site-packages %s" % (pkg_dir, site))
    if under(pkg_dir, args.repo):
        fail("oss_ffi imported from %s, inside the checkout: use an environment outside it" % pkg_dir)

    dist = metadata.distribution("oss_ffi")
    wheel = dist.read_text("WHEEL") or ""
    tags = re.findall(r"^Tag: (\S+)$", wheel, re.M)
    if not tags or any(t.endswith("-any") or not t.startswith("py3-none-") for t in tags):
        fail("wheel tags %s: want py3-none-<platform>" % tags)
    if "Root-Is-Purelib: false" not in wheel:
        fail("the wheel says Root-Is-Purelib is not false:\n" + wheel)

    with tempfile.TemporaryDirectory(prefix="oss-ffi-wheel-check-") as tmp:
        root = os.path.join(tmp, "server")
        os.makedirs(os.path.join(root, "wheel-bucket", "dir"))
        data = random.Random(16).randbytes(5 * 1024 * 1024 + 12345)
        with open(os.path.join(root, "wheel-bucket", "dir", "object.bin"), "wb") as f:
            f.write(data)
        proc = subprocess.Popen(
            [emulator, "--root", root, "--port", "0", "--access-key-id", "wheel-ak",
             "--access-key-secret", "wheel-sk", "--seed", "16"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
        )
        try:
            assert proc.stdout is not None
            line = proc.stdout.readline()
            m = re.match(r"listening on (http://[\d.]+:\d+)", line)
            if not m:
                fail("the emulator did not start: %r" % line)
            with oss_ffi.Client(m.group(1), credentials=("wheel-ak", "wheel-sk"),
                                region="cn-hangzhou") as client:
                dest = os.path.join(tmp, "object.bin")
                meta = client.resumable_download(
                    "wheel-bucket", "dir/object.bin", dest, checkpoint_dir=tmp,
                    part_size=1 << 20, threads=4)
                with open(dest, "rb") as f:
                    got = f.read()
                if got != data or meta.content_length != len(data):
                    fail("resumable_download: %d bytes (sha256 %s), the server has %d (%s)" % (
                        len(got), hashlib.sha256(got).hexdigest(), len(data),
                        hashlib.sha256(data).hexdigest()))
                if client.get_object("wheel-bucket", "dir/object.bin", range=(1000, 2999)) != data[1000:3000]:
                    fail("get_object with a range returned other bytes")
        finally:
            proc.kill()
            proc.wait()
            shutil.rmtree(root, ignore_errors=True)

    loaded = os.path.realpath(_lib.lib().path)
    want = os.path.realpath(os.path.join(pkg_dir, _lib.BUNDLED_NAME))
    if loaded != want:
        fail("loaded %s, not the bundled %s" % (loaded, want))
    with open(loaded, "rb") as f:
        if b"OSS_FFI_TEST_PAUSE" in f.read():
            fail("%s has the test hooks: not a release build" % loaded)
    print("check-python-wheel: ok: oss_ffi %s from %s, wheel %s, %d bytes downloaded and verified"
          % (oss_ffi.version(), loaded, ",".join(tags), len(data)))


if __name__ == "__main__":
    main()
