"""Static types: the package passes `mypy --strict` (its annotations are what `py.typed`
promises), and every Python snippet of the READMEs type-checks against it (mypy, pinned in
tests/requirements.txt)."""
from __future__ import annotations

import os
import re

import mypy.api

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
# The source tree, also when the tests import an installed copy (mypy refuses site-packages in
# MYPYPATH).
PKG = os.path.join(REPO, "bindings", "python", "src", "oss_ffi")
READMES = [os.path.join(REPO, "bindings", "python", "README.md"), os.path.join(REPO, "README.md")]


def _mypy(args: list, env_path: str) -> "tuple[str, int]":
    old = os.environ.get("MYPYPATH")
    os.environ["MYPYPATH"] = env_path
    try:
        out, err, rc = mypy.api.run(args)
    finally:
        if old is None:
            del os.environ["MYPYPATH"]
        else:
            os.environ["MYPYPATH"] = old
    return out + err, rc


def snippets() -> "list[tuple[str, int, str]]":
    """(README, line, code) of every ```python block, dedented (some sit in list items)."""
    out = []
    for path in READMES:
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for m in re.finditer(r"^( *)```python\n(.*?)^\1```", text, re.S | re.M):
            indent = len(m.group(1))
            code = "".join(line[indent:] + "\n" for line in m.group(2).splitlines())
            out.append((os.path.relpath(path, REPO), text.count("\n", 0, m.start()) + 1, code))
    return out


def test_package_passes_mypy_strict(tmp_path) -> None:
    out, rc = _mypy(["--strict", "--cache-dir", str(tmp_path / "cache"), PKG], os.path.dirname(PKG))
    assert rc == 0, out


def test_readme_python_snippets_type_check(tmp_path) -> None:
    found = snippets()
    assert len(found) >= 3, found
    files = []
    for i, (readme, line, code) in enumerate(found):
        f = tmp_path / ("snippet_%d.py" % i)
        f.write_text("# %s:%d\n%s" % (readme, line, code))
        files.append(str(f))
    out, rc = _mypy(
        ["--cache-dir", str(tmp_path / "cache"), "--check-untyped-defs", "--follow-imports=silent", *files],
        os.path.dirname(PKG),
    )
    if rc != 0:  # name the README lines
        for i, (readme, line, _) in enumerate(found):
            out = out.replace("snippet_%d.py" % i, "%s (block at line %d)" % (readme, line))
    assert rc == 0, out
