"""A checkpoint directory that cannot hold a checkpoint fails the download at its start."""
from __future__ import annotations

import os
import subprocess
from typing import Iterator

import pytest

import oss_ffi
from conftest import data_of


@pytest.fixture
def read_only_dir(tmp_path) -> Iterator[str]:
    """A directory no file can be created in: a read-only tmpfs as root (mode bits do not stop
    root), mode 0555 otherwise."""
    d = tmp_path / "read-only"
    d.mkdir()
    mounted = False
    if os.geteuid() == 0:
        r = subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=64k", "tmpfs", str(d)],
                           capture_output=True, text=True)
        assert r.returncode == 0, "cannot mount a read-only tmpfs as root: %s" % r.stderr
        mounted = True
    else:
        d.chmod(0o555)
    with pytest.raises(OSError):
        open(d / "probe", "wb").close()
    try:
        yield str(d)
    finally:
        if mounted:
            subprocess.run(["umount", "-l", str(d)], check=False)
        else:
            d.chmod(0o755)


def test_unwritable_checkpoint_directory_fails_at_the_start(v4, emu, tmp_path, read_only_dir) -> None:
    emu.put("ro/obj.bin", data_of(300_000, 5))
    dest = tmp_path / "obj.bin"
    with pytest.raises(oss_ffi.LocalIOError) as ei:
        v4.resumable_download("py-bucket", "ro/obj.bin", dest, checkpoint_dir=read_only_dir,
                              part_size=100 * 1024, threads=2)
    e = ei.value
    assert e.kind is oss_ffi.ErrorKind.IO and e.code == "IOError", e
    assert "cannot hold a checkpoint" in str(e) and read_only_dir in str(e), e
    assert not dest.exists()
