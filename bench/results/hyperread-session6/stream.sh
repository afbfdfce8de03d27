#!/bin/bash
# usage: stream.sh ROUNDS TOOLS... (HTTP loopback, 1 GiB into memory) -> lines: tool wall user sys
n=$1; shift
H=/work/wt/integ/target/hyperread/release/hyperread
U=http://127.0.0.1:18903/bench/object-1G.bin
one() {
  local t=$1; local cmd
  case $t in
    curl) cmd="curl -s -o /dev/null $U";;
    creader) cmd="env OSS_ACCESS_KEY_ID=ak OSS_ACCESS_KEY_SECRET=sk LD_LIBRARY_PATH=/tmp/ab/lib-new /work/wt/integ/target/bench-stream/stream_read http://127.0.0.1:18903 bench object-1G.bin";;
    h0d) cmd="$H --url $U --size 1073741824 --output /tmp/ab/dl/h.bin --discard";;
    rawd) cmd="$H --url $U --size 1073741824 --output /tmp/ab/dl/h.bin --raw --discard";;
    rawd1) cmd="$H --url $U --size 1073741824 --output /tmp/ab/dl/h.bin --raw --discard --connections 1 --part-size 1073741824";;
  esac
  /usr/bin/time -f "$t %e %U %S" $cmd 2>&1 >/dev/null | tail -1
}
tools=("$@")
for i in $(seq 1 $n); do
  k=${#tools[@]}
  for j in $(seq 0 $((k-1))); do one ${tools[$(( (i+j) % k ))]}; done
done
