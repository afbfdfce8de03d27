#!/usr/bin/env bash
# Runs every test of the project, as CI does. On a fresh machine it first installs what the
# tests need (Debian packages from tests/apt-packages.txt when run as root, Python packages
# from tests/requirements.txt, the pinned cbindgen).
#
# Steps: header freshness, rustfmt, clippy, the Rust unit/integration tests of the workspace
# (they compile and run the C and C++ programs against the local OSS server), the official
# Python SDK's tests of the local server, the Python binding's tests, the binding installed by
# `pip install ./bindings/python` alone into a fresh environment (it builds the release library
# and bundles it), then the C/C++ programs again under AddressSanitizer+UBSan and under valgrind.
#   OSS_TEST_QUICK=1 skips the sanitizer and valgrind passes.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
# What the machine's environment could change in a verdict, fixed here: every test server is on
# loopback, so a proxy the machine sets for the package registries must not see that traffic
# (the library ignores proxy variables; Python's requests and curl do not); messages are
# compared in the C locale's words; files the tests create get the usual modes.
export NO_PROXY="127.0.0.1,localhost,::1${NO_PROXY:+,$NO_PROXY}" no_proxy="127.0.0.1,localhost,::1${no_proxy:+,$no_proxy}"
export LC_ALL=C.UTF-8 TZ=UTC
umask 022
# What the library reads from the environment (credentials, log level, the test-only pause hook)
# comes from each test alone, never from the shell that started the run.
unset OSS_ACCESS_KEY_ID OSS_ACCESS_KEY_SECRET OSS_SESSION_TOKEN OSS_SDK_LOG_LEVEL \
  OSS_FFI_TEST_PAUSE_AT OSS_FFI_TEST_PAUSE_MS
# Scratch files (up to a few GiB: the 1 GiB download and its source) on the checkout's disk, in a
# directory of this run's own: /tmp may be a small tmpfs, or hold another run's or user's files.
export TMPDIR="$PWD/target/tmp"
rm -rf "$TMPDIR"; mkdir -p "$TMPDIR"
# The per-user resume token key (~/.config/oss-ffi/resume-token.key, made by the first pause of
# a transfer) of every test goes there too, never into the home of the user running the tests.
export XDG_CONFIG_HOME="$TMPDIR/config"
# The reliability suite's power-cut phase mounts a FUSE file system; where that is possible (root
# and /dev/fuse, as in CI) it must run, not skip with a note.
if [ "$(id -u)" = 0 ] && [ -e /dev/fuse ]; then
  export OSS_TEST_REQUIRE_FUSE=1
fi

t_start=$(date +%s)
step() { printf '\n==> [%ds] %s\n' "$(( $(date +%s) - t_start ))" "$*"; }

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
# Python packages go into a virtual environment under target/, never the system's: what a
# machine happens to have installed (another pytest, an old SDK) cannot change the verdict, and
# a Debian python3 refuses `pip install` outside one (PEP 668). Its python3 comes first on PATH
# for the Rust tests that run Python (tests/sign_crosscheck.rs) too.
venv="$PWD/target/test-venv"
if [ ! -x "$venv/bin/python3" ]; then
  step "creating the Python test environment ($venv)"
  rm -rf "$venv"
  if ! python3 -m venv "$venv" 2>/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      # Debian's python3 has venv and ensurepip in a package of their own.
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null
      rm -rf "$venv"; python3 -m venv "$venv"
    else
      echo "python3 -m venv failed: install python3-venv" >&2; exit 1
    fi
  fi
fi
export PATH="$venv/bin:$PATH"
export PYTHON="$venv/bin/python3"
if ! python3 -c 'import alibabacloud_oss_v2, auditwheel, oss2, pytest, mypy' >/dev/null 2>&1; then
  step "installing Python test requirements"
  python3 -m pip install -q --disable-pip-version-check -r tests/requirements.txt
fi

step "header is fresh (cbindgen, pinned)"
scripts/gen-header.sh --verify

step "rustfmt"
cargo fmt --all -- --check

step "clippy"
cargo clippy --workspace --all-targets -- -D warnings

step "build (debug, all targets)"
cargo build --workspace --all-targets

step "official C++ SDK 1.10.1 for the coexistence test (built once into ~/.cache/oss-ffi-bench)"
# tests/cpp_api.rs cpp_coexists_with_the_official_sdk links it with this library in one program.
# Built once (about 3.5 min on 2 cores; reused afterwards) by the bench's script; when it cannot
# be built here (no tarball, no compiler) the test skips with a notice; when it could, the test
# must run. OSS_TEST_SKIP_CPP_SDK=1 skips the build (the test then skips unless a build exists).
if [ "${OSS_TEST_SKIP_CPP_SDK:-0}" != 1 ]; then
  if sdk_prefix=$(bench/cpp/build-official-sdk.sh); then
    export OSS_CPP_SDK_PREFIX="$sdk_prefix" OSS_TEST_REQUIRE_CPP_SDK=1
    echo "official C++ SDK: $sdk_prefix"
  else
    echo "official C++ SDK not available (reason above): the coexistence test will skip" >&2
  fi
fi

step "Rust unit and integration tests (incl. C and C++ programs)"
cargo test --workspace --no-fail-fast

step "official Python SDK against the local OSS server"
OSS_EMULATOR_BIN="$PWD/target/debug/oss-emulator" python3 -m pytest emulator/tests/python -q

step "Python binding (pip install ./bindings/python, then its tests)"
# The tests run against the debug build just made: it is what the package bundles here
# (OSS_FFI_PREBUILT_LIBRARY: no cargo run, no release build) and what they load
# (OSS_FFI_LIBRARY). The release build a plain `pip install` makes is the next step's.
OSS_FFI_PREBUILT_LIBRARY="$PWD/target/debug/liboss_ffi.so" \
  python3 -m pip install -q --disable-pip-version-check ./bindings/python
OSS_FFI_LIBRARY="$PWD/target/debug/liboss_ffi.so" OSS_EMULATOR_BIN="$PWD/target/debug/oss-emulator" \
  python3 -m pytest bindings/python/tests -q

step "Python wheel: pip install ./bindings/python alone, in a fresh environment, outside the checkout"
# What a user does on a fresh machine: no OSS_FFI_LIBRARY, nothing installed by hand. The build
# runs cargo (release, in target/ or $CARGO_TARGET_DIR, so an earlier release build is reused)
# and bundles the library in the wheel; the check downloads from the local server, from a
# directory outside the checkout, and asserts the library loaded is the one in site-packages.
wheel_dir="$(mktemp -d "${OSS_WHEEL_CHECK_DIR:-/tmp}/oss-ffi-wheel.XXXXXX")"
trap 'rm -rf "$wheel_dir"' EXIT
repo="$PWD"
t_wheel=$(date +%s)
# The wheel is built first (`pip install ./bindings/python` does the same, then installs it), so
# that its file can be checked too: its manylinux tag against `auditwheel show`, its size and
# that the library in it is stripped.
python3 -m venv "$wheel_dir/venv"
env -u OSS_FFI_LIBRARY -u OSS_FFI_PREBUILT_LIBRARY "$wheel_dir/venv/bin/python" -m pip wheel -q \
  --disable-pip-version-check --no-deps -w "$wheel_dir/dist" ./bindings/python
"$wheel_dir/venv/bin/python" -m pip install -q --disable-pip-version-check "$wheel_dir"/dist/oss_ffi-*.whl
(cd "$wheel_dir" && env -u OSS_FFI_LIBRARY "$wheel_dir/venv/bin/python" -I \
  "$repo/scripts/check-python-wheel.py" --emulator "$repo/target/debug/oss-emulator" --repo "$repo" \
  --wheel "$wheel_dir/dist/oss_ffi-*.whl")
rm -rf "$wheel_dir"; trap - EXIT
echo "Python wheel step: $(( $(date +%s) - t_wheel ))s (venv, release build of the library, install, check)"

if [ "${OSS_TEST_QUICK:-0}" != 1 ]; then
  # The reliability suite runs only its C ABI phase (tests/c/hostile.c) in these passes.
  step "C/C++ programs under AddressSanitizer + UBSan"
  OSS_FFI_SANITIZE=1 cargo test --test c_api --test cpp_api --test examples --test install --test reliability --test credentials
  if command -v valgrind >/dev/null; then
    # The examples (Ctrl-C, exit codes, installed copies) run under ASan only: under valgrind
    # they add minutes to CI and no coverage of the library the other programs lack.
    step "C/C++ programs under valgrind"
    VALGRIND=valgrind cargo test --test c_api --test cpp_api --test reliability --test credentials
  else
    echo "valgrind is not installed: valgrind pass skipped" >&2
    exit 1
  fi
fi
step "all tests passed"
