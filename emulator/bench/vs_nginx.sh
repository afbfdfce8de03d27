#!/usr/bin/env bash
# Throughput of oss-emulator vs nginx serving the same cached file on loopback.
#
#   emulator/bench/vs_nginx.sh [SIZE] [ROUNDS]      (defaults: 1G 7)
#
# Needs nginx (apt-get install -y nginx) and curl. Builds the emulator in release mode
# unless OSS_EMULATOR_BIN points at a binary. Each round downloads the file once from
# each server with `curl -s -o /dev/null -w '%{speed_download}'` (alternating which goes
# first) and the script prints every speed, every ratio and the median ratio.
set -euo pipefail

SIZE="${1:-1G}"
ROUNDS="${2:-7}"
HERE="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BIN="${OSS_EMULATOR_BIN:-$REPO/target/release/oss-emulator}"
if [ -z "${OSS_EMULATOR_BIN:-}" ]; then
  (cd "$REPO" && cargo build --release -p oss-emulator >&2)
fi
command -v nginx >/dev/null || { echo "nginx not found: apt-get install -y nginx" >&2; exit 1; }

WORK="$(mktemp -d /tmp/oss-emu-bench.XXXXXX)"
ROOT="$WORK/root"
mkdir -p "$ROOT"
EMU_PID=""; NGINX_PID=""
cleanup() {
  [ -n "$EMU_PID" ] && kill "$EMU_PID" 2>/dev/null || true
  [ -n "$NGINX_PID" ] && kill "$NGINX_PID" 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

# Emulator: creates the object (deterministic content), public-read so curl needs no signature.
"$BIN" --root "$ROOT" --port 0 --access-key-id bench --access-key-secret bench-secret \
  --public-read bench --create-object "bench/object.bin:$SIZE" > "$WORK/emu.out" 2>"$WORK/emu.err" &
EMU_PID=$!
for _ in $(seq 1 600); do grep -q "listening on" "$WORK/emu.out" 2>/dev/null && break; sleep 0.1; done
EMU_URL="$(sed -n 's/^listening on //p' "$WORK/emu.out")/bench/object.bin"
[ -n "$EMU_URL" ] || { cat "$WORK/emu.err" >&2; exit 1; }

# nginx on a free port, same directory tree, sendfile on.
NGINX_PORT="$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')"
mkdir -p "$WORK/nginx/logs"
NGINX_USER=""; [ "$(id -u)" = 0 ] && NGINX_USER="user root;"   # workers must read the temp dir
cat > "$WORK/nginx/nginx.conf" <<CONF
$NGINX_USER
worker_processes auto;
pid $WORK/nginx/nginx.pid;
error_log $WORK/nginx/logs/error.log;
events { worker_connections 64; }
http {
  access_log off;
  sendfile on;
  tcp_nopush on;
  client_body_temp_path $WORK/nginx/tmp;
  proxy_temp_path $WORK/nginx/tmp;
  fastcgi_temp_path $WORK/nginx/tmp;
  uwsgi_temp_path $WORK/nginx/tmp;
  scgi_temp_path $WORK/nginx/tmp;
  server { listen 127.0.0.1:$NGINX_PORT; root $ROOT; }
}
CONF
nginx -p "$WORK/nginx" -c "$WORK/nginx/nginx.conf" -g 'daemon off;' &
NGINX_PID=$!
NGINX_URL="http://127.0.0.1:$NGINX_PORT/bench/object.bin"
for _ in $(seq 1 100); do curl -s -o /dev/null "$NGINX_URL" -r 0-0 && break; sleep 0.1; done

cat "$ROOT/bench/object.bin" > /dev/null   # page cache
speed() {
  local out; out=$(curl -s -o /dev/null -w '%{http_code} %{size_download} %{speed_download}' "$1")
  set -- $out
  [ "$1" = 200 ] || { echo "GET failed: HTTP $1" >&2; exit 1; }
  echo "$3"
}
speed "$EMU_URL" >/dev/null; speed "$NGINX_URL" >/dev/null   # warm-up

echo "file: $SIZE, rounds: $ROUNDS, nproc: $(nproc)"
echo "round  emulator_MB/s  nginx_MB/s  ratio"
RATIOS=()
for i in $(seq 1 "$ROUNDS"); do
  if [ $((i % 2)) -eq 1 ]; then e=$(speed "$EMU_URL"); n=$(speed "$NGINX_URL");
  else n=$(speed "$NGINX_URL"); e=$(speed "$EMU_URL"); fi
  r=$(python3 -c "print(f'{$e/$n:.3f}')")
  RATIOS+=("$r")
  python3 -c "print(f'{$i:5d}  {$e/1e6:13.0f}  {$n/1e6:10.0f}  $r')"
done
MEDIAN=$(printf '%s\n' "${RATIOS[@]}" | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}')
echo "median ratio emulator/nginx: $MEDIAN"
