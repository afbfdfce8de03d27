"""Wheel build of oss_ffi: the pure-Python (ctypes) package plus liboss_ffi, built with cargo.

Everything else (name, version, metadata) is in pyproject.toml; this file only adds two build
steps to setuptools:

- ``build_py`` also puts ``liboss_ffi.so`` (``.dylib`` on macOS) inside the package, next to
  ``_lib.py``, which loads it after ``load_library(path)`` and ``$OSS_FFI_LIBRARY``. The library
  is built from the Rust crate of the repository checkout this directory belongs to (``../..``),
  ``cargo build --release -p oss-ffi --lib`` in the crate's target directory (``$CARGO_TARGET_DIR``
  when set, so an existing release build is reused), or taken as it is from
  ``$OSS_FFI_PREBUILT_LIBRARY`` (no cargo run at all).
  The bundled copy is stripped of its debug information (``strip --strip-debug``, binutils):
  the release profile keeps line tables for backtraces (``debug = 1``), 37 MB of a 42 MB file.
- ``bdist_wheel`` tags the wheel ``py3-none-<platform>``: it holds native code, so it is not
  ``any``, but no Python extension, so it is not tied to one CPython version or ABI (ctypes
  loads the library from any Python 3). On Linux the platform is ``manylinux_2_<N>_<arch>``
  (PEP 600), where ``2.<N>`` is the newest ``GLIBC_`` symbol version the library requires (read
  from its version references with ``objdump -p``) and every library it links is one that
  manylinux allows: ``pip install`` then accepts the wheel on any Linux with glibc >= 2.<N>.
  Without ``objdump``, or with another dependency, it stays ``linux_<arch>`` (this machine only).

An sdist of this directory alone has no Rust sources; building a wheel from it needs
``$OSS_FFI_PREBUILT_LIBRARY`` (the error says so). See README.md, "Install".
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import List

from setuptools import Distribution, setup
from setuptools.command.bdist_wheel import bdist_wheel
from setuptools.command.build_py import build_py
from setuptools.errors import SetupError

HERE = Path(__file__).resolve().parent
#: The repository checkout: bindings/python/../..
CRATE_DIR = HERE.parent.parent
CRATE_NAME = "oss-ffi"
#: A built library to bundle instead of running cargo.
PREBUILT_ENV = "OSS_FFI_PREBUILT_LIBRARY"
#: The bundled copy's name inside the package (what oss_ffi._lib.BUNDLED_NAME expects).
LIB_NAME = "liboss_ffi.dylib" if sys.platform == "darwin" else "liboss_ffi.so"


def _log(msg: str) -> None:
    print("oss_ffi build: " + msg, file=sys.stderr, flush=True)


#: Libraries a manylinux wheel may link without bundling them (PEP 600 / auditwheel's policy).
MANYLINUX_LIBS = {
    "libc.so.6", "libm.so.6", "libdl.so.2", "libpthread.so.0", "librt.so.1", "libutil.so.1",
    "libgcc_s.so.1", "libstdc++.so.6", "libresolv.so.2", "ld-linux-x86-64.so.2",
    "ld-linux-aarch64.so.1", "libnsl.so.1", "libcrypt.so.1", "libz.so.1",
}

#: The library bundled by this build (BuildPy), for the wheel's platform tag (BdistWheel).
_bundled: List[Path] = []


def _strip(path: Path) -> None:
    """Removes the debug information of ``path`` (a copy: never cargo's artifact) in place."""
    if not sys.platform.startswith("linux"):
        return
    strip = shutil.which("strip")
    if not strip:
        _log("WARNING: no `strip` (binutils) on PATH: %s keeps its debug information (~37 MB)" % path)
        return
    before = path.stat().st_size
    subprocess.run([strip, "--strip-debug", str(path)], check=True)
    _log("stripped the debug information: %d -> %d bytes" % (before, path.stat().st_size))


def glibc_requirement(lib: Path) -> "tuple[int, int] | None":
    """The newest ``GLIBC_2.x`` version ``lib`` requires, as ``(2, x)``, or None when that cannot
    be told (no ``objdump``) or the library links something manylinux does not allow."""
    objdump = shutil.which("objdump")
    if not objdump:
        _log("WARNING: no `objdump` (binutils) on PATH: cannot tell the glibc the library needs")
        return None
    out = subprocess.run([objdump, "-p", str(lib)], check=True, stdout=subprocess.PIPE, text=True).stdout
    needed = re.findall(r"^\s*NEEDED\s+(\S+)", out, re.M)
    other = sorted(set(needed) - MANYLINUX_LIBS)
    if other:
        _log("WARNING: the library links %s, which manylinux does not allow" % ", ".join(other))
        return None
    versions = [(int(a), int(b)) for a, b in re.findall(r"\bGLIBC_(\d+)\.(\d+)", out)]
    return max(versions) if versions else (2, 5)


def _is_oss_ffi_crate(manifest: Path) -> bool:
    try:
        text = manifest.read_text(encoding="utf-8")
    except OSError:
        return False
    return '\nname = "%s"' % CRATE_NAME in text


def _cargo_build() -> Path:
    """Builds the cdylib (release profile) and returns its path, as cargo reports it."""
    manifest = CRATE_DIR / "Cargo.toml"
    if not _is_oss_ffi_crate(manifest):
        raise SetupError(
            "the oss_ffi wheel bundles liboss_ffi, built from the Rust crate of the oss-ffi "
            "repository, but %s is not that crate's Cargo.toml (this is not a checkout: an sdist "
            "or a copy of bindings/python alone has no Rust sources). Either build from a "
            "checkout of the repository (pip install ./bindings/python, pip wheel, or "
            "python -m build --wheel, not through an sdist), or build the library yourself and "
            "set %s=/path/to/liboss_ffi.so to bundle it." % (manifest, PREBUILT_ENV)
        )
    cargo = os.environ.get("CARGO") or shutil.which("cargo")
    if not cargo or not shutil.which(cargo):
        raise SetupError(
            "building the oss_ffi wheel needs cargo (the Rust toolchain, rust-version in %s) to "
            "build liboss_ffi, and cargo was not found on PATH. Install Rust "
            "(https://rustup.rs), or build the library elsewhere and set "
            "%s=/path/to/liboss_ffi.so to bundle it." % (manifest, PREBUILT_ENV)
        )
    cmd = [
        cargo, "build", "--release", "-p", CRATE_NAME, "--lib",
        "--manifest-path", str(manifest), "--message-format=json-render-diagnostics",
    ]
    _log("building liboss_ffi with cargo, release profile: about 2 minutes for a first build "
         "(more on a small machine), seconds when the target directory has one already. "
         "cargo's progress follows on stderr (pip shows it with -v).")
    _log("running: %s (target dir: %s)" % (
        " ".join(cmd), os.environ.get("CARGO_TARGET_DIR") or CRATE_DIR / "target"))
    # cargo's progress and diagnostics go to stderr, passed through as they come (pip shows them
    # with -v, or on failure); stdout is the JSON stream that names the artifacts, wherever the
    # target directory is.
    proc = subprocess.run(cmd, cwd=str(CRATE_DIR), stdout=subprocess.PIPE, text=True)
    if proc.returncode != 0:
        raise SetupError("cargo build of liboss_ffi failed (exit %d): see cargo's output above"
                         % proc.returncode)
    found: List[str] = []
    for line in proc.stdout.splitlines():
        try:
            msg = json.loads(line)
        except ValueError:
            continue
        target = msg.get("target") or {}
        if (msg.get("reason") == "compiler-artifact" and target.get("name") == "oss_ffi"
                and "cdylib" in target.get("crate_types", [])):
            found += [f for f in msg.get("filenames", []) if os.path.basename(f) == LIB_NAME]
    if not found:
        raise SetupError("cargo built oss-ffi but reported no %s artifact" % LIB_NAME)
    return Path(found[-1])


def native_library() -> Path:
    """The library to bundle: $OSS_FFI_PREBUILT_LIBRARY, or a fresh cargo release build."""
    prebuilt = os.environ.get(PREBUILT_ENV)
    if prebuilt:
        path = Path(prebuilt)
        if not path.is_file():
            raise SetupError("%s=%s: no such file" % (PREBUILT_ENV, prebuilt))
        _log("bundling %s (from $%s; cargo not run)" % (path, PREBUILT_ENV))
        return path
    return _cargo_build()


class BuildPy(build_py):
    """build_py, plus the native library copied into the package."""

    def run(self) -> None:
        super().run()
        lib = native_library()
        if self.editable_mode:
            # pip install -e: the package is imported from src/, so the library goes there.
            dest_dir = Path(self.get_package_dir("oss_ffi"))
        else:
            dest_dir = Path(self.build_lib, "oss_ffi")
        dest_dir.mkdir(parents=True, exist_ok=True)
        dest = dest_dir / LIB_NAME
        # The real file (a symlink such as the soname link is followed), not a link into the
        # build tree; 0755 like an installed shared library.
        tmp = dest.with_name(dest.name + ".tmp")
        shutil.copyfile(lib, tmp)
        os.chmod(tmp, 0o755)
        _strip(tmp)
        os.replace(tmp, dest)
        _bundled.append(dest)
        _log("bundled %s as %s (%d bytes)" % (lib, dest, dest.stat().st_size))

    def get_outputs(self, include_bytecode: bool = True) -> List[str]:
        outputs = list(super().get_outputs(include_bytecode))
        if not self.editable_mode:
            outputs.append(os.path.join(self.build_lib, "oss_ffi", LIB_NAME))
        return outputs


class BinaryDistribution(Distribution):
    """Native code inside: installed to platlib, and the wheel is not "pure" (Root-Is-Purelib:
    false), though there is no extension module to build."""

    def has_ext_modules(self) -> bool:
        return True


class BdistWheel(bdist_wheel):
    """A platform wheel, for any Python 3: py3-none-<platform>, not cp3X-cp3X-<platform>; on
    Linux py3-none-manylinux_2_<N>_<arch> (see the module's docstring)."""

    def get_tag(self):  # type: ignore[no-untyped-def]
        _, _, plat = super().get_tag()
        if plat.startswith("linux_") and _bundled and not getattr(self, "plat_name_supplied", False):
            glibc = glibc_requirement(_bundled[-1])
            if glibc is not None:
                plat = "manylinux_%d_%d_%s" % (glibc[0], glibc[1], plat[len("linux_"):])
                _log("platform tag %s: the library needs glibc >= %d.%d and links only what "
                     "manylinux allows" % (plat, glibc[0], glibc[1]))
        return "py3", "none", plat


setup(distclass=BinaryDistribution, cmdclass={"build_py": BuildPy, "bdist_wheel": BdistWheel})
