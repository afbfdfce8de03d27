#!/usr/bin/env bash
# The README demo: a 256 MiB download from the local OSS server is interrupted with Ctrl-C
# (SIGINT) part-way, leaves a checkpoint, and is resumed by running the same command again; the
# file is then compared with the server's copy. One command on a fresh clone: `make demo`.
#
#   DEMO_SIZE=64M scripts/demo.sh     a smaller object
#   DEMO_RATE=32768 scripts/demo.sh   first run's rate limit in KiB/s (default: size / 5 s)
#   DEMO_BIN_DIR=DIR scripts/demo.sh  no build: DIR/oss_download and DIR/oss-emulator (the tests)
#   NO_COLOR=1 scripts/demo.sh        no colour (there is none either when stdout is not a terminal)
#
# The build is one `make examples`: one cargo invocation for the library and the emulator (two,
# with different package sets, would compile rustls, ring, hyper, reqwest... twice: cargo unifies
# features over the packages of one invocation), with cargo's progress shown.
set -euo pipefail
cd "$(dirname "$0")/.."

SIZE="${DEMO_SIZE:-256M}"
# Default rate: the first run would take about 5 s, so the interrupt at 1.5 s lands mid-way.
size_bytes() {
  local n="${1%[KkMmGg]}" mult=1
  case "$1" in *[Kk]) mult=1024 ;; *[Mm]) mult=1048576 ;; *[Gg]) mult=1073741824 ;; esac
  echo $((n * mult))
}
RATE="${DEMO_RATE:-$(( $(size_bytes "$SIZE") / 1024 / 5 ))}"
BUCKET=demo-bucket
KEY=big/object.bin
export OSS_ACCESS_KEY_ID=demo-access-key
export OSS_ACCESS_KEY_SECRET=demo-secret-key-not-a-real-one

# Bold headings only for a person at a terminal (https://no-color.org).
if [ -t 1 ] && [ -z "${NO_COLOR:-}" ]; then
  say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
else
  say() { printf '\n==> %s\n' "$*"; }
fi

if [ -n "${DEMO_BIN_DIR:-}" ]; then
  DL="$DEMO_BIN_DIR/oss_download"
  EMULATOR="$DEMO_BIN_DIR/oss-emulator"
else
  say "building the library, the local OSS server and the C examples (release; a few minutes the first time)"
  make -s examples
  DL=target/examples/oss_download
  EMULATOR=target/release/oss-emulator
fi

WORK="$(mktemp -d "${TMPDIR:-/tmp}/oss-ffi-demo.XXXXXX")"
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ]; then kill "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
  rm -rf "$WORK"
}
trap cleanup EXIT

say "starting $EMULATOR with a $SIZE object ($BUCKET/$KEY)"
"$EMULATOR" --root "$WORK/server" --port 0 \
  --access-key-id "$OSS_ACCESS_KEY_ID" --access-key-secret "$OSS_ACCESS_KEY_SECRET" \
  --create-object "$BUCKET/$KEY:$SIZE" >"$WORK/server.out" 2>&1 &
SERVER_PID=$!
for _ in $(seq 1 600); do
  grep -q '^listening on ' "$WORK/server.out" 2>/dev/null && break
  kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.out"; exit 1; }
  sleep 0.1
done
ENDPOINT="$(sed -n 's/^listening on //p' "$WORK/server.out")"
[ -n "$ENDPOINT" ] || { echo "the server did not start" >&2; exit 1; }
echo "server: $ENDPOINT"

mkdir -p "$WORK/checkpoints"
OUT="$WORK/object.bin"
ARGS=(--endpoint "$ENDPOINT" --bucket "$BUCKET" --key "$KEY" --output "$OUT"
      --checkpoint-dir "$WORK/checkpoints" --threads 4 --part-size 8M --v4 --region cn-hangzhou)

say "first run (limited to $RATE KiB/s), interrupted with SIGINT after 1.5 s"
echo "\$ $DL ${ARGS[*]} --rate $RATE"
set +e
"$DL" "${ARGS[@]}" --rate "$RATE" &
DL_PID=$!
sleep 1.5
kill -INT "$DL_PID"
wait "$DL_PID"
rc=$?
set -e
echo "exit code: $rc (7 = cancelled)"
[ "$rc" = 7 ] || { echo "expected exit code 7" >&2; exit 1; }

say "what the interrupted run left behind"
ls -l "$WORK/checkpoints" "$WORK" | grep -v '^total' | grep -v 'server' || true
ckpt_count=$(find "$WORK/checkpoints" -type f | wc -l)
[ "$ckpt_count" -ge 1 ] || { echo "no checkpoint was left" >&2; exit 1; }
[ ! -e "$OUT" ] || { echo "the destination must not exist before the download is complete" >&2; exit 1; }

say "second run: the same command resumes from the checkpoint"
start=$(date +%s.%N)
"$DL" "${ARGS[@]}"
end=$(date +%s.%N)

say "verifying against the server's copy"
server_file="$WORK/server/$BUCKET/$KEY"
a=$(sha256sum "$OUT" | awk '{print $1}')
b=$(sha256sum "$server_file" | awk '{print $1}')
echo "downloaded: $a"
echo "server:     $b"
[ "$a" = "$b" ] || { echo "MISMATCH" >&2; exit 1; }
left=$(find "$WORK/checkpoints" -type f | wc -l)

say "summary"
printf '  object:              %s/%s (%s)\n' "$BUCKET" "$KEY" "$SIZE"
printf '  interrupted run:     exit code 7, checkpoint kept\n'
printf '  resumed run:         exit code 0 in %s s\n' "$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.2f", b - a }')"
printf '  sha256 identical:    yes\n'
printf '  checkpoints left:    %s\n' "$left"
