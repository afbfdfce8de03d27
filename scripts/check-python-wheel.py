"""Checks an oss_ffi installed by `pip install ./bindings/python` alone (scripts/test.sh runs it
with the fresh environment's python, `-I`, from a directory outside the checkout):

- the package and the library it loads are the installed ones: oss_ffi/liboss_ffi.so inside that
  environment's site-packages, not the checkout's build trees, with no $OSS_FFI_LIBRARY;
- the wheel was tagged for the platform (py3-none-<platform>, not py3-none-any), and the library
  in it is a release build (no test hooks);
- on Linux the tag is manylinux_2_<N>_<arch>, the one `auditwheel show` finds for the wheel file
  (`--wheel`; auditwheel from tests/requirements.txt, on PATH), so that `pip install` accepts it
  on any Linux with glibc >= 2.<N>; the library is stripped of its debug information (no
  .debug_* section) and under MAX_LIBRARY_BYTES;
- a real download from the local OSS server (oss-emulator): a multi-part resumable download
  and a GetObject, byte for byte against what the server holds.

    python3 -I scripts/check-python-wheel.py --emulator target/debug/oss-emulator --repo . \
        --wheel dist/oss_ffi-0.1.0-py3-none-manylinux_2_34_x86_64.whl
"""
from __future__ import annotations

import argparse
import glob
import hashlib
import os
import platform
import random
import re
import shutil
import struct
import subprocess
import sys
import sysconfig
import tempfile
from importlib import metadata


#: The release library stripped of debug information is ~5 MB; with it, 42 MB.
MAX_LIBRARY_BYTES = 12 * 1024 * 1024


def elf_section_names(path: str) -> "list[str]":
    """The section names of a 64-bit little-endian ELF file (read here, not with the tools the
    build used)."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:4] != b"\x7fELF" or data[4] != 2 or data[5] != 1:
        fail("%s is not a 64-bit little-endian ELF file" % path)
    shoff = struct.unpack_from("<Q", data, 0x28)[0]
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3A)
    def header(i: int) -> "tuple[int, int]":  # (name offset, file offset) of section i
        base = shoff + i * shentsize
        return struct.unpack_from("<I", data, base)[0], struct.unpack_from("<Q", data, base + 0x18)[0]
    strtab = header(shstrndx)[1]
    names = []
    for i in range(shnum):
        start = strtab + header(i)[0]
        names.append(data[start:data.index(b"\0", start)].decode("ascii", "replace"))
    return names


def auditwheel_tag(wheel: str) -> str:
    """The platform tag `auditwheel show` finds the wheel consistent with."""
    tool = shutil.which("auditwheel")
    if not tool:
        fail("auditwheel is not on PATH (tests/requirements.txt installs it)")
    r = subprocess.run([tool, "show", wheel], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    m = re.search(r'consistent with\s+the following platform tag:\s+"([^"]+)"', r.stdout)
    if r.returncode != 0 or not m:
        fail("auditwheel show %s:\n%s" % (wheel, r.stdout))
    return m.group(1)


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
    ap.add_argument("--wheel", help="the wheel file that was installed (checked with auditwheel)")
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
    if sys.platform.startswith("linux"):
        arch = platform.machine()
        want = re.compile(r"^py3-none-manylinux_2_(\d+)_%s$" % re.escape(arch))
        if len(tags) != 1 or not want.match(tags[0]):
            fail("wheel tags %s: want py3-none-manylinux_2_<N>_%s (installable on other Linux "
                 "machines with that glibc)" % (tags, arch))
        if not args.wheel:
            fail("--wheel is needed on Linux: auditwheel checks the tag")
        wheels = glob.glob(args.wheel)
        if len(wheels) != 1 or not os.path.basename(wheels[0]).endswith("-%s.whl" % tags[0]):
            fail("--wheel %s: want the one file tagged %s" % (args.wheel, tags[0]))
        audited = auditwheel_tag(wheels[0])
        if "py3-none-" + audited != tags[0]:
            fail("the wheel is tagged %s, auditwheel show says %s" % (tags[0], audited))

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
    size = os.path.getsize(loaded)
    if sys.platform.startswith("linux"):
        debug = [n for n in elf_section_names(loaded) if n.startswith((".debug_", ".zdebug_"))]
        if debug:
            fail("%s is not stripped of its debug information: %s" % (loaded, ", ".join(debug)))
        if size > MAX_LIBRARY_BYTES:
            fail("%s is %d bytes, more than %d" % (loaded, size, MAX_LIBRARY_BYTES))
    print("check-python-wheel: ok: oss_ffi %s from %s (%d bytes, stripped), wheel %s, %d bytes "
          "downloaded and verified" % (oss_ffi.version(), loaded, size, ",".join(tags), len(data)))


if __name__ == "__main__":
    main()
