"""Finding the library, the ABI version check, SDK lifecycle (each in a fresh interpreter)."""
from __future__ import annotations

import enum
import os
import shutil
import subprocess
import sys
import textwrap

import pytest

import oss_ffi
from oss_ffi import _lib

SRC = os.path.dirname(oss_ffi.__path__[0])


def _py(code: str, env_extra: dict, cwd: str = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "OSS_FFI_LIBRARY"}
    env["PYTHONPATH"] = SRC
    env.update(env_extra)
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], env=env, capture_output=True, text=True, timeout=60, cwd=cwd
    )


def test_check_version_rules() -> None:
    _lib.check_version("x", "0.1.0")
    _lib.check_version("x", "0.1.7-rc1")
    for bad in ("0.2.0", "1.1.0", "0.0.9", "garbage"):
        with pytest.raises(oss_ffi.IncompatibleLibraryError):
            _lib.check_version("x", bad)


@pytest.fixture(scope="module")
def fake_lib(tmp_path_factory) -> str:
    cc = shutil.which("cc") or shutil.which("gcc")
    if not cc:
        pytest.skip("no C compiler for the fake library")
    d = tmp_path_factory.mktemp("fake")
    src = d / "fake.c"
    src.write_text('const char *oss_version(void) { return "0.2.0"; }\n')
    out = d / "liboss_ffi.so"
    subprocess.run([cc, "-shared", "-fPIC", "-o", str(out), str(src)], check=True)
    return str(out)


def test_incompatible_version_refused(fake_lib) -> None:
    for env, code in (
        ({"OSS_FFI_LIBRARY": fake_lib}, "import oss_ffi; oss_ffi.Client('http://127.0.0.1:1', ('a','b'), 'r')"),
        ({}, "import oss_ffi; oss_ffi.load_library(%r)" % fake_lib),
    ):
        r = _py(code, env)
        assert r.returncode != 0
        assert "IncompatibleLibraryError" in r.stderr and "0.2.0" in r.stderr and "0.1.x" in r.stderr, r.stderr


def _package_copy(root, bundled: str = None) -> str:
    """A copy of the oss_ffi package under ``root`` (for PYTHONPATH) without the library a wheel
    bundles, or with ``bundled`` as that library."""
    pkg = os.path.join(str(root), "oss_ffi")
    shutil.copytree(
        oss_ffi.__path__[0], pkg, ignore=shutil.ignore_patterns("__pycache__", "liboss_ffi.*")
    )
    if bundled:
        shutil.copyfile(bundled, os.path.join(pkg, _lib.BUNDLED_NAME))
    return str(root)


_WHICH = "import oss_ffi; print(oss_ffi.version(), oss_ffi._lib.lib().path)"


def test_not_found_names_what_was_tried(tmp_path) -> None:
    site = _package_copy(tmp_path)
    r = _py(
        "import oss_ffi; oss_ffi.version()",
        {"OSS_FFI_LIBRARY": "/nonexistent/liboss_ffi.so", "LD_LIBRARY_PATH": "", "PYTHONPATH": site},
    )
    if r.returncode == 0:
        pytest.skip("an installed liboss_ffi is on the loader path")
    assert "LibraryNotFoundError" in r.stderr
    assert "/nonexistent/liboss_ffi.so" in r.stderr and "OSS_FFI_LIBRARY" in r.stderr
    assert os.path.join(site, "oss_ffi", _lib.BUNDLED_NAME) in r.stderr and "bundled" in r.stderr
    assert "liboss_ffi.so.0.1" in r.stderr and "find_library" in r.stderr
    assert "pip install ./bindings/python" in r.stderr


def test_found_through_the_loader_path(tmp_path) -> None:
    """An installed copy: found with LD_LIBRARY_PATH / the soname, no env var, none bundled."""
    # Lay the library out as `make install` does: the soname next to the real file.
    libdir = tmp_path / "lib"
    libdir.mkdir()
    os.symlink(os.path.realpath(_lib.lib().path), str(libdir / _lib.SONAME))
    site = _package_copy(tmp_path / "site")
    r = _py(_WHICH, {"LD_LIBRARY_PATH": str(libdir), "PYTHONPATH": site})
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("0.1.")
    assert _lib.SONAME in r.stdout, r.stdout  # found by its soname on the loader path


def test_bundled_copy_order(tmp_path, fake_lib) -> None:
    """The copy inside the package (what a wheel ships) comes after load_library(path) and
    $OSS_FFI_LIBRARY and before the system's search; a candidate that does not load is skipped."""
    real = os.path.realpath(_lib.lib().path)
    site = _package_copy(tmp_path / "real", bundled=real)
    bundled = os.path.join(site, "oss_ffi", _lib.BUNDLED_NAME)
    # No variable: the bundled copy, even with another copy on the loader path.
    libdir = tmp_path / "lib"
    libdir.mkdir()
    os.symlink(real, str(libdir / _lib.SONAME))
    r = _py(_WHICH, {"PYTHONPATH": site, "LD_LIBRARY_PATH": str(libdir)})
    assert r.returncode == 0 and r.stdout.split()[1:] == [bundled], (r.stdout, r.stderr)
    # $OSS_FFI_LIBRARY and an explicit path come first (the fake 0.2.0 library is refused).
    for env, code in (
        ({"OSS_FFI_LIBRARY": fake_lib}, _WHICH),
        ({}, "import oss_ffi; oss_ffi.load_library(%r)" % fake_lib),
    ):
        env["PYTHONPATH"] = site
        r = _py(code, env)
        assert r.returncode != 0 and "IncompatibleLibraryError" in r.stderr, (env, r.stdout, r.stderr)
    # A $OSS_FFI_LIBRARY that does not load: on to the bundled copy.
    r = _py(_WHICH, {"PYTHONPATH": site, "OSS_FFI_LIBRARY": "/nonexistent/liboss_ffi.so"})
    assert r.returncode == 0 and r.stdout.split()[1] == bundled, (r.stdout, r.stderr)
    # A bundled copy of the wrong ABI is refused, not skipped for one further down the search.
    site2 = _package_copy(tmp_path / "fake", bundled=fake_lib)
    r = _py(_WHICH, {"PYTHONPATH": site2, "LD_LIBRARY_PATH": str(libdir)})
    assert r.returncode != 0 and "IncompatibleLibraryError" in r.stderr and "0.2.0" in r.stderr, r.stderr


def test_lifecycle(emu) -> None:
    from conftest import AK, REGION, SK

    emu.put("life/obj", b"life")
    r = _py(
        """
        import os, sys, oss_ffi
        assert not oss_ffi.is_initialized()
        c = oss_ffi.Client(sys.argv[1] if len(sys.argv) > 1 else %r, credentials=(%r, %r), region=%r)
        assert oss_ffi.is_initialized()
        assert c.get_object("py-bucket", "life/obj") == b"life"
        oss_ffi.shutdown()
        try:
            c.get_object("py-bucket", "life/obj")
        except oss_ffi.NotInitializedError as e:
            assert e.kind == oss_ffi.ErrorKind.NOT_INITIALIZED
        else:
            raise SystemExit("no NotInitializedError")
        c2 = oss_ffi.Client(%r, credentials=(%r, %r), region=%r)  # initialises again
        assert c2.get_object("py-bucket", "life/obj") == b"life"
        lines = []
        oss_ffi.set_log_handler(lambda level, msg: lines.append((level, msg)))
        oss_ffi.set_log_level(6)
        c2.get_object("py-bucket", "life/obj")
        assert lines and %r not in repr(lines), lines[:3]
        del c, c2  # freed by __del__; the atexit handler shuts down
        print("ok")
        """
        % (emu.endpoint, AK, SK, REGION, emu.endpoint, AK, SK, REGION, SK),
        {"OSS_FFI_LIBRARY": _lib.lib().path},
    )
    assert r.returncode == 0 and r.stdout.strip() == "ok", r.stderr


_SPAWN_WATCH = """
import os, sys
spawned = []
def hook(event, args):
    if event in ("subprocess.Popen", "os.system", "os.posix_spawn", "os.exec", "os.fork", "os.spawn"):
        spawned.append((event, repr(args)[:200]))
sys.addaudithook(hook)
import oss_ffi
%s
print(oss_ffi._lib.lib().path)
print("SPAWNED %%r" %% (spawned,))
"""


def _stand_ins(tmp_path) -> tuple:
    """A directory of failing ``ldconfig``, ``gcc``, ``cc``, ``ld``, ``objdump`` that each record
    their call in a file of the second directory."""
    bindir, calls = tmp_path / "bin", tmp_path / "calls"
    bindir.mkdir()
    calls.mkdir()
    for prog in ("ldconfig", "gcc", "cc", "ld", "objdump", "x86_64-linux-gnu-gcc"):
        script = bindir / prog
        script.write_text("#!/bin/sh\n: > %s/%s\nexit 1\n" % (calls, prog))
        script.chmod(0o755)
    return str(bindir), calls


def test_loading_the_bundled_or_named_library_runs_no_program(tmp_path) -> None:
    """find_library (which runs ldconfig, gcc, ld, objdump) is not reached when the bundled copy,
    $OSS_FFI_LIBRARY or an explicit path loads; an audit hook also sees any process started."""
    real = os.path.realpath(_lib.lib().path)
    bindir, calls = _stand_ins(tmp_path)
    site = _package_copy(tmp_path / "bundled", bundled=real)
    bare = _package_copy(tmp_path / "bare")
    for env, load in (
        ({"PYTHONPATH": site}, "oss_ffi.version()"),
        ({"PYTHONPATH": bare, "OSS_FFI_LIBRARY": real}, "oss_ffi.version()"),
        ({"PYTHONPATH": bare}, "oss_ffi.load_library(%r)" % real),
    ):
        env.update(PATH=bindir, LD_LIBRARY_PATH="")
        r = _py(_SPAWN_WATCH % load, env)
        assert r.returncode == 0, (env, r.stderr)
        assert r.stdout.splitlines()[-1] == "SPAWNED []", (env, r.stdout)
        assert sorted(os.listdir(calls)) == [], (env, os.listdir(calls))


def test_system_search_runs_only_without_bundled_copy_or_variable(tmp_path) -> None:
    """The stand-ins are reached (so the test above can see them) once neither a bundled copy
    nor $OSS_FFI_LIBRARY is there: the system's search is the last resort."""
    bindir, calls = _stand_ins(tmp_path)
    bare = _package_copy(tmp_path / "bare")
    r = _py(_SPAWN_WATCH % "oss_ffi.version()", {"PYTHONPATH": bare, "PATH": bindir, "LD_LIBRARY_PATH": ""})
    if r.returncode == 0:
        pytest.skip("an installed liboss_ffi is on the loader path")
    assert "LibraryNotFoundError" in r.stderr
    assert os.listdir(calls), "find_library ran none of the stand-ins: %s" % r.stderr


def test_public_classes_print_as_oss_ffi_names() -> None:
    """The package's files are its layout, not its API: every public class is oss_ffi.<Name>
    (repr, tracebacks) and pickles by that name, whichever file defines it."""
    import pickle

    classes = [getattr(oss_ffi, n) for n in oss_ffi.__all__ if isinstance(getattr(oss_ffi, n), type)]
    assert oss_ffi.Client in classes and oss_ffi.Transfer in classes and oss_ffi.ObjectMeta in classes
    for cls in classes:
        assert cls.__module__ == "oss_ffi", cls
        assert repr(cls) == "<class 'oss_ffi.%s'>" % cls.__qualname__ or issubclass(cls, enum.Enum)
    meta = oss_ffi.ObjectMeta(3, '"e"', "Mon, 07 Dec 2026 08:00:00 GMT", 7, "", "r", "t", "Normal", {"a": "b"})
    status = oss_ffi.TransferStatus(1, 3, oss_ffi.TransferState.RUNNING)
    for value in (meta, status, oss_ffi.TransferState.SUCCEEDED):
        data = pickle.dumps(value)
        assert b"oss_ffi" in data and b"oss_ffi._" not in data, data
        assert pickle.loads(data) == value
