#!/usr/bin/env bash
# Regenerates include/oss_ffi.h from src/ffi with cbindgen (the version pinned below).
# --verify: regenerate into a temp file and fail if the checked-in header differs.
set -euo pipefail
CBINDGEN_VERSION=0.29.4
cd "$(dirname "$0")/.."
# The pinned cbindgen is the one cargo installs into $CARGO_HOME/bin, called by its path: another
# cbindgen earlier on PATH (a distribution's) would generate another header.
cbindgen="${CARGO_HOME:-$HOME/.cargo}/bin/cbindgen"
if [ ! -x "$cbindgen" ] || [ "$("$cbindgen" --version | awk '{print $2}')" != "$CBINDGEN_VERSION" ]; then
  cargo install cbindgen --version "$CBINDGEN_VERSION" --locked --root "${CARGO_HOME:-$HOME/.cargo}"
fi
out=include/oss_ffi.h
if [ "${1:-}" = "--verify" ]; then
  tmp=$(mktemp)
  "$cbindgen" --config cbindgen.toml --crate oss-ffi --output "$tmp" --quiet
  if ! diff -u "$out" "$tmp"; then
    echo "include/oss_ffi.h is stale: run scripts/gen-header.sh and commit it" >&2
    rm -f "$tmp"; exit 1
  fi
  rm -f "$tmp"; echo "include/oss_ffi.h is fresh"
else
  "$cbindgen" --config cbindgen.toml --crate oss-ffi --output "$out" --quiet
  echo "wrote $out"
fi
