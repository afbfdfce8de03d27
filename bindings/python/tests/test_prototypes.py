"""The prototype table of ``oss_ffi/_lib.py`` agrees with ``include/oss_ffi.h``.

The table is a hand copy of the header; this test is what keeps it true. It reads the table as
written (the source, with ``ast``), not the ctypes objects it makes: on LP64 ``c_size_t`` *is*
``c_uint64`` and ``c_int64`` *is* ``c_long``, so comparing objects would let a ``size_t`` written
as ``uint64_t`` pass here and break on another platform.

C types map to ctypes as follows (``expected`` below):

- ``void`` (a return type) -> ``None``; ``bool`` -> ``c_bool``; ``uint32_t`` -> ``c_uint32``
  and so on for every fixed-width integer; ``size_t`` -> ``c_size_t``; an enum -> ``c_uint32``
  or ``c_int32`` (a C enum is an ``int``; cbindgen's have non-negative values);
- a handle (``T *`` or ``const T *`` of an opaque ``typedef struct T T``) and ``void *`` ->
  ``c_void_p``; an out handle (``T **``) -> ``POINTER(c_void_p)``;
- ``const char *`` (a string lent for the call) -> ``c_char_p``; ``char *`` (a string the library
  allocated, to be freed with ``oss_string_free``) -> ``c_void_p``, so that ctypes does not copy
  it into ``bytes`` and lose the pointer;
- ``const uint8_t *`` (bytes lent for the call) -> ``c_char_p`` or ``c_void_p``; ``uint8_t *``
  (a buffer the library writes, or bytes it allocated) -> ``c_void_p``;
- ``X *`` for an integer ``X`` -> ``POINTER(<X's ctype>)``; ``X **`` -> ``POINTER(<X *'s>)``;
- a callback typedef, or an inline ``void (*f)(void *)`` -> a ``CFUNCTYPE`` of the table whose
  return and argument types map the same way;
- a struct defined in the header -> the ``ctypes.Structure`` of the table whose ``_fields_`` are
  the struct's fields, by name and type, in order.
"""
from __future__ import annotations

import ast
import os
import re
from typing import Dict, List, NamedTuple, Optional, Set, Tuple, Union

import pytest

import oss_ffi
from oss_ffi import _lib

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
HEADER = os.path.join(REPO, "include", "oss_ffi.h")
PACKAGE_DIR = os.path.dirname(os.path.abspath(oss_ffi.__file__))
LIB_SOURCE = os.path.join(PACKAGE_DIR, "_lib.py")

INTS = {
    "bool": "c_bool",
    "int8_t": "c_int8",
    "uint8_t": "c_uint8",
    "int16_t": "c_int16",
    "uint16_t": "c_uint16",
    "int32_t": "c_int32",
    "uint32_t": "c_uint32",
    "int64_t": "c_int64",
    "uint64_t": "c_uint64",
    "size_t": "c_size_t",
    "int": "c_int",
}


# --- the header ------------------------------------------------------------------------------


class CType(NamedTuple):
    base: str  # "char", "uint64_t", "oss_client_t", "oss_progress_cb", ...
    stars: int
    const_pointee: bool  # `const` before the base: `const char *`
    fnptr: Optional["CSig"] = None  # an inline function pointer parameter


class CSig(NamedTuple):
    ret: CType
    params: List[CType]


class Header(NamedTuple):
    functions: Dict[str, CSig]
    enums: Set[str]
    opaque: Set[str]
    structs: Dict[str, List[Tuple[str, CType]]]
    callbacks: Dict[str, CSig]


def _strip(text: str) -> str:
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    text = re.sub(r"//[^\n]*", " ", text)
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    # The `extern "C" {` ... `}` block of the declarations (inside `#ifdef __cplusplus`).
    lines = [line for line in lines if line.strip() not in ('extern "C" {', "}")]
    return "\n".join(lines)


def _split_top(s: str, sep: str) -> List[str]:
    out, depth, cur = [], 0, ""
    for ch in s:
        if ch in "({":
            depth += 1
        elif ch in ")}":
            depth -= 1
        if ch == sep and depth == 0:
            out.append(cur)
            cur = ""
        else:
            cur += ch
    out.append(cur)
    return out


def _type(decl: str, named: bool) -> Tuple[CType, str]:
    """`const char *const *etags` -> (CType("char", 2, True), "etags")."""
    decl = decl.strip()
    m = re.fullmatch(r"(.*?)\(\s*\*\s*(\w+)\s*\)\s*\((.*)\)", decl, flags=re.S)
    if m:  # an inline function pointer: `void (*user_data_free)(void*)`
        ret, _ = _type(m.group(1), named=False)
        return CType("", 0, False, CSig(ret, _params(m.group(3)))), m.group(2)
    tokens = re.findall(r"\w+|\*", decl)
    name = ""
    if named and tokens and tokens[-1] != "*" and len([t for t in tokens if t not in ("const", "*")]) > 1:
        name = tokens.pop()
    stars = tokens.count("*")
    words = [t for t in tokens if t not in ("*",)]
    base = [t for t in words if t != "const"]
    assert len(base) == 1, "cannot read the C type %r" % decl
    const_pointee = tokens.index(base[0]) > 0 and tokens[0] == "const"
    return CType(base[0], stars, const_pointee), name


def _params(text: str) -> List[CType]:
    text = text.strip()
    if text in ("", "void"):
        return []
    return [_type(p, named=True)[0] for p in _split_top(text, ",")]


def parse_header(text: str) -> Header:
    h = Header({}, set(), set(), {}, {})
    for stmt in _split_top(_strip(text), ";"):
        stmt = " ".join(stmt.split())
        if not stmt:
            continue
        m = re.fullmatch(r"typedef enum \{.*\} (\w+)", stmt)
        if m:
            h.enums.add(m.group(1))
            continue
        m = re.fullmatch(r"typedef struct (\w+) (\w+)", stmt)
        if m:
            h.opaque.add(m.group(2))
            continue
        m = re.fullmatch(r"typedef struct \{(.*)\} (\w+)", stmt)
        if m:
            fields = []
            for f in m.group(1).split(";"):
                if f.strip():
                    t, name = _type(f, named=True)
                    fields.append((name, t))
            h.structs[m.group(2)] = fields
            continue
        m = re.fullmatch(r"typedef (.*?)\(\s*\*\s*(\w+)\s*\)\s*\((.*)\)", stmt)
        if m:
            h.callbacks[m.group(2)] = CSig(_type(m.group(1), named=False)[0], _params(m.group(3)))
            continue
        assert not stmt.startswith("typedef"), "unknown typedef in the header: %r" % stmt
        m = re.fullmatch(r"(.*?)\b(oss_\w+)\s*\((.*)\)", stmt)
        if m:
            h.functions[m.group(2)] = CSig(_type(m.group(1), named=False)[0], _params(m.group(3)))
    return h


# --- the table, as written -------------------------------------------------------------------

PyType = Union[str, Tuple[str, "PyType"]]  # "c_void_p", "None", ("POINTER", ...), ("CB", name)


class Table(NamedTuple):
    prototypes: Dict[str, Tuple[PyType, List[PyType]]]
    callbacks: Dict[str, Tuple[PyType, List[PyType]]]
    structs: Dict[str, List[Tuple[str, PyType]]]


def read_table(source: str) -> Table:
    tree = ast.parse(source)
    aliases: Dict[str, str] = {}
    callbacks: Dict[str, Tuple[PyType, List[PyType]]] = {}
    structs: Dict[str, List[Tuple[str, PyType]]] = {}
    tables: Dict[str, ast.expr] = {}

    def ty(node: ast.expr) -> PyType:
        if isinstance(node, ast.Constant) and node.value is None:
            return "None"
        if isinstance(node, ast.Name):
            if node.id in aliases:
                return aliases[node.id]
            if node.id in callbacks:
                return ("CB", node.id)
            if node.id in structs:
                return ("STRUCT", node.id)
            return node.id
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "POINTER"
            and len(node.args) == 1
        ):
            return ("POINTER", ty(node.args[0]))
        raise AssertionError("_lib.py: cannot read the ctypes type %s" % ast.dump(node))

    for node in tree.body:
        target: Optional[str] = None
        value: Optional[ast.expr] = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
            target, value = node.targets[0].id, node.value
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            target, value = node.target.id, node.value
        if isinstance(node, ast.ClassDef):
            for item in node.body:
                if (
                    isinstance(item, ast.Assign)
                    and isinstance(item.targets[0], ast.Name)
                    and item.targets[0].id == "_fields_"
                ):
                    assert isinstance(item.value, ast.List)
                    fields = []
                    for elt in item.value.elts:
                        assert isinstance(elt, ast.Tuple) and isinstance(elt.elts[0], ast.Constant)
                        fields.append((str(elt.elts[0].value), ty(elt.elts[1])))
                    structs[node.name] = fields
            continue
        if target is None or value is None:
            continue
        if isinstance(value, ast.Name) and value.id.startswith("c_"):
            aliases[target] = value.id  # `_err_p = c_void_p`
        elif isinstance(value, ast.Call) and isinstance(value.func, ast.Name) and value.func.id == "CFUNCTYPE":
            callbacks[target] = (ty(value.args[0]), [ty(a) for a in value.args[1:]])
        elif target in ("_PROTOTYPES", "_OPTIONAL"):
            tables[target] = value
    prototypes: Dict[str, Tuple[PyType, List[PyType]]] = {}
    for tname in ("_PROTOTYPES", "_OPTIONAL"):
        table = tables[tname]
        assert isinstance(table, ast.Dict), "%s is not a dict literal" % tname
        for key, val in zip(table.keys, table.values):
            assert isinstance(key, ast.Constant) and isinstance(val, ast.Tuple), tname
            ret, args = val.elts
            assert isinstance(args, ast.List), "%s[%r]: arguments are not a list" % (tname, key.value)
            name = str(key.value)
            assert name not in prototypes, "%s declared twice" % name
            prototypes[name] = (ty(ret), [ty(a) for a in args.elts])
    return Table(prototypes, callbacks, structs)


# --- the comparison --------------------------------------------------------------------------


def show(t: PyType) -> str:
    if isinstance(t, tuple):
        kind, inner = t
        return "POINTER(%s)" % show(inner) if kind == "POINTER" else str(inner)
    return t


def c_show(t: CType) -> str:
    if t.fnptr is not None:
        return "%s (*)(%s)" % (c_show(t.fnptr.ret), ", ".join(c_show(p) for p in t.fnptr.params))
    return "%s%s%s" % ("const " if t.const_pointee else "", t.base, " " + "*" * t.stars if t.stars else "")


def mismatch(c: CType, py: PyType, h: Header, table: Table, is_return: bool = False) -> Optional[str]:
    """Why the ctypes type ``py`` does not stand for the C type ``c``, or None when it does."""
    want = "%s for %s" % (show(py), c_show(c))
    if c.fnptr is not None or (c.stars == 0 and c.base in h.callbacks):
        sig = c.fnptr if c.fnptr is not None else h.callbacks[c.base]
        if not (isinstance(py, tuple) and py[0] == "CB"):
            return want + " (a callback needs a CFUNCTYPE)"
        ret, args = table.callbacks[str(py[1])]
        if len(args) != len(sig.params):
            return "%s: %d arguments, the C callback has %d" % (want, len(args), len(sig.params))
        why = mismatch(sig.ret, ret, h, table, is_return=True)
        if why:
            return "%s: return %s" % (want, why)
        for i, (cp, pp) in enumerate(zip(sig.params, args)):
            why = mismatch(cp, pp, h, table)
            if why:
                return "%s: argument %d: %s" % (want, i + 1, why)
        return None
    if c.stars == 0:
        if c.base == "void" and is_return:
            ok = {"None"}
        elif c.base in INTS:
            ok = {INTS[c.base]}
        elif c.base in h.enums:
            ok = {"c_uint32", "c_int32"}
        else:
            return want + " (a C type the table cannot pass by value)"
        return None if py in ok else want
    if c.stars == 1:
        if c.base == "char":
            ok = {"c_char_p"} if c.const_pointee else {"c_void_p"}
        elif c.base == "uint8_t":
            ok = {"c_char_p", "c_void_p"} if c.const_pointee else {"c_void_p"}
        elif c.base == "void" or c.base in h.opaque:
            ok = {"c_void_p"}
        elif c.base in h.structs:
            inner = py[1] if isinstance(py, tuple) and py[0] == "POINTER" else None
            if not (isinstance(inner, tuple) and inner[0] == "STRUCT"):
                return want + " (a struct needs POINTER(<its ctypes.Structure>))"
            fields = table.structs[str(inner[1])]
            c_fields = h.structs[c.base]
            if [n for n, _ in fields] != [n for n, _ in c_fields]:
                return "%s: fields %s, the header's %s" % (want, [n for n, _ in fields], [n for n, _ in c_fields])
            for (n, pf), (_, cf) in zip(fields, c_fields):
                why = mismatch(cf, pf, h, table)
                if why:
                    return "%s: field %s: %s" % (want, n, why)
            return None
        elif c.base in INTS:
            return None if isinstance(py, tuple) and py == ("POINTER", INTS[c.base]) else want
        else:
            return want + " (unknown pointee)"
        return None if py in ok else want
    # X ** -> POINTER(<X *>)
    if not (isinstance(py, tuple) and py[0] == "POINTER"):
        return want + " (a pointer to a pointer needs POINTER(...))"
    why = mismatch(CType(c.base, c.stars - 1, c.const_pointee), py[1], h, table)
    return None if why is None else "%s: %s" % (want, why)


def prototype_errors(header_text: str, lib_source: str) -> List[str]:
    h = parse_header(header_text)
    table = read_table(lib_source)
    errors = []
    for name, (ret, args) in sorted(table.prototypes.items()):
        sig = h.functions.get(name)
        if sig is None:
            errors.append("%s: not declared in include/oss_ffi.h" % name)
            continue
        if len(args) != len(sig.params):
            errors.append(
                "%s: %d arguments in _lib.py, %d in the header" % (name, len(args), len(sig.params))
            )
            continue
        why = mismatch(sig.ret, ret, h, table, is_return=True)
        if why:
            errors.append("%s: return type %s" % (name, why))
        for i, (cp, pp) in enumerate(zip(sig.params, args)):
            why = mismatch(cp, pp, h, table)
            if why:
                errors.append("%s: argument %d: %s" % (name, i + 1, why))
    return errors


def _read(path: str) -> str:
    with open(path, encoding="utf-8") as f:
        return f.read()


@pytest.fixture(scope="module")
def header_text() -> str:
    if not os.path.exists(HEADER):
        pytest.skip("include/oss_ffi.h not found next to the tests")
    return _read(HEADER)


# --- the tests -------------------------------------------------------------------------------


def test_header_parser_reads_every_export(header_text: str) -> None:
    h = parse_header(header_text)
    declared = set(re.findall(r"\b(oss_\w+)\s*\(", _strip(header_text)))
    assert set(h.functions) == declared
    assert len(h.functions) > 80
    assert h.functions["oss_client_new"].params[3] == CType("oss_client_t", 2, True)
    assert h.callbacks["oss_progress_cb"].params[0] == CType("size_t", 0, False)
    assert "oss_transfer_status_t" in h.structs and "oss_error_kind_t" in h.enums


def test_every_python_prototype_matches_the_header(header_text: str) -> None:
    errors = prototype_errors(header_text, _read(LIB_SOURCE))
    assert not errors, "_lib.py disagrees with include/oss_ffi.h:\n" + "\n".join(errors)


PLANTS = [
    # (a line of _lib.py, the same line made wrong, the start of the error expected)
    # an argument of the wrong width (ABI-identical to c_uint64 on LP64 only)
    (
        '"oss_crc64": (c_uint64, [c_uint64, c_char_p, c_size_t])',
        '"oss_crc64": (c_uint64, [c_uint64, c_char_p, c_uint64])',
        "oss_crc64: argument 3",
    ),
    # a missing argument
    (
        '"oss_config_set_retry": (_err_p, [c_void_p, c_uint32, c_uint64])',
        '"oss_config_set_retry": (_err_p, [c_void_p, c_uint32])',
        "oss_config_set_retry: 2 arguments",
    ),
    # a wrong return type
    (
        '"oss_error_http_status": (c_uint16, [c_void_p])',
        '"oss_error_http_status": (c_uint32, [c_void_p])',
        "oss_error_http_status: return type",
    ),
    # a library-allocated string that ctypes would convert to bytes (and so leak)
    (
        '"oss_string_free": (None, [c_void_p])',
        '"oss_string_free": (None, [c_char_p])',
        "oss_string_free: argument 1",
    ),
    # a function the header does not have
    (
        '"oss_error_free": (None, [c_void_p])',
        '"oss_error_frees": (None, [c_void_p])',
        "oss_error_frees: not declared",
    ),
    # a callback of the wrong signature
    (
        "LOG_CB = CFUNCTYPE(None, c_uint32, c_char_p, c_void_p)",
        "LOG_CB = CFUNCTYPE(None, c_uint32, c_void_p, c_void_p)",
        "oss_set_log_callback: argument 1",
    ),
    # a struct field of the wrong type
    (
        '("state", c_int32)',
        '("state", c_int64)',
        "oss_transfer_status: argument 2",
    ),
]


@pytest.mark.parametrize("right, wrong, expected", PLANTS)
def test_a_wrong_prototype_is_reported(
    header_text: str, right: str, wrong: str, expected: str
) -> None:
    source = _read(LIB_SOURCE)
    assert source.count(right) == 1, "the plant's original %r is not in _lib.py" % right
    errors = prototype_errors(header_text, source.replace(right, wrong))
    assert any(e.startswith(expected) for e in errors), errors


def test_the_table_is_the_one_in_use() -> None:
    """What the test read is what ``Library`` declares: the same names, in the same tables."""
    table = read_table(_read(LIB_SOURCE))
    assert set(table.prototypes) == set(_lib._PROTOTYPES) | set(_lib._OPTIONAL)


def _package_sources() -> Dict[str, str]:
    return {
        name: _read(os.path.join(PACKAGE_DIR, name))
        for name in sorted(os.listdir(PACKAGE_DIR))
        if name.endswith(".py")
    }


def test_every_export_the_package_calls_is_in_the_table() -> None:
    declared = set(_lib._PROTOTYPES) | set(_lib._OPTIONAL)
    called: Dict[str, Set[str]] = {}
    for name, source in _package_sources().items():
        for sym in re.findall(r"\.(oss_\w+)\b", source):
            called.setdefault(sym, set()).add(name)
    assert called, "found no calls at all: the scan is broken"
    missing = {sym: sorted(files) for sym, files in called.items() if sym not in declared}
    assert not missing, "called without a prototype in _lib.py: %s" % missing


def test_no_prototype_is_declared_outside_the_table() -> None:
    for name, source in _package_sources().items():
        if name == "_lib.py":
            continue
        for pattern in (r"\.argtypes\b", r"\.restype\b", r"\bCFUNCTYPE\b", r"\bCDLL\b", r"\bPyDLL\b"):
            assert not re.search(pattern, source), "%s: %s outside _lib.py" % (name, pattern)
