#!/usr/bin/env bash
# Runs every test of the project, as CI does. On a fresh machine it first installs what the
# tests need (Debian packages from tests/apt-packages.txt when run as root, Python packages
# from tests/requirements.txt, the pinned cbindgen).
#
# Steps: header freshness, rustfmt, clippy, the Rust unit/integration tests of the workspace
# (they compile and run the C and C++ programs against the local OSS server), the official
# Python SDK's tests of the local server, the Python binding's tests, then the C/C++ programs
# again under AddressSanitizer+UBSan and under valgrind.
#   OSS_TEST_QUICK=1 skips the sanitizer and valgrind passes.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

step() { printf '\n==> %s\n' "$*"; }

# --- what the tests need ----------------------------------------------------------------
want_pkgs="valgrind"
[ -f tests/apt-packages.txt ] && want_pkgs="$want_pkgs $(grep -v '^#' tests/apt-packages.txt | tr '\n' ' ')"
missing=""
for p in $want_pkgs; do
  dpkg -s "$p" >/dev/null 2>&1 || missing="$missing $p"
done
if [ -n "$missing" ]; then
  if [ "$(id -u)" = 0 ]; then
    step "installing Debian packages:$missing"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq && apt-get install -y -qq $missing >/dev/null
  else
    echo "missing Debian packages:$missing (run as root or install them)" >&2
  fi
fi
if ! python3 -c 'import alibabacloud_oss_v2, pytest' >/dev/null 2>&1; then
  step "installing Python test requirements"
  python3 -m pip install -q -r tests/requirements.txt
fi

step "header is fresh (cbindgen, pinned)"
scripts/gen-header.sh --verify

step "rustfmt"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "build (debug, all targets)"
cargo build --workspace --all-targets

step "Rust unit and integration tests (incl. C and C++ programs)"
cargo test --workspace

step "official Python SDK against the local OSS server"
OSS_EMULATOR_BIN="$PWD/target/debug/oss-emulator" python3 -m pytest emulator/tests/python -q

step "Python binding (pip install ./bindings/python, then its tests)"
python3 -m pip install -q ./bindings/python
OSS_FFI_LIBRARY="$PWD/target/debug/liboss_ffi.so" OSS_EMULATOR_BIN="$PWD/target/debug/oss-emulator" \
  python3 -m pytest bindings/python/tests -q

if [ "${OSS_TEST_QUICK:-0}" != 1 ]; then
  # The reliability suite runs only its C ABI phase (tests/c/hostile.c) in these passes.
  step "C/C++ programs under AddressSanitizer + UBSan"
  OSS_FFI_SANITIZE=1 cargo test --test c_api --test cpp_api --test examples --test reliability
  if command -v valgrind >/dev/null; then
    # The examples (Ctrl-C, exit codes, installed copies) run under ASan only: under valgrind
    # they add minutes to CI and no coverage of the library the other programs lack.
    step "C/C++ programs under valgrind"
    VALGRIND=valgrind cargo test --test c_api --test cpp_api --test reliability
  else
    echo "valgrind is not installed: valgrind pass skipped" >&2
    exit 1
  fi
fi
step "all tests passed"
