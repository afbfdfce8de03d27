#!/bin/bash
# usage: cpu.sh PROTO ROUNDS TOOLS... -> lines: tool wall user sys
proto=$1; n=$2; shift 2; port=18904; [ $proto = http ] && port=18903
H=/work/wt/integ/target/hyperread/release/hyperread
R=/work/wt/integ/target/refreader/release/refreader
U=$proto://127.0.0.1:$port/bench/object-1G.bin
one() {
  local t=$1; local cmd
  case $t in
    lib) cmd="env OSS_ACCESS_KEY_ID=ak OSS_ACCESS_KEY_SECRET=sk SSL_CERT_FILE=/tmp/ab/ca.pem LD_LIBRARY_PATH=/tmp/ab/lib-new /work/wt/integ/target/examples/oss_download --endpoint $proto://127.0.0.1:$port --bucket bench --key object-1G.bin --output /tmp/ab/dl/x.bin --threads 3 --part-size 8388608 --progress none";;
    h0) cmd="$H --url $U --size 1073741824 --output /tmp/ab/dl/x.bin --ca-file /tmp/ab/ca.pem";;
    hf) cmd="$H --url $U --size 1073741824 --output /tmp/ab/dl/x.bin --ca-file /tmp/ab/ca.pem --fill";;
    hb) cmd="$H --url $U --size 1073741824 --output /tmp/ab/dl/x.bin --ca-file /tmp/ab/ca.pem --below 262144";;
    hbf) cmd="$H --url $U --size 1073741824 --output /tmp/ab/dl/x.bin --ca-file /tmp/ab/ca.pem --below 262144 --fill";;
    hfr) cmd="$H --url $U --size 1073741824 --output /tmp/ab/dl/x.bin --fill --read-buf 1048576";;
    raw) cmd="$H --url $U --size 1073741824 --output /tmp/ab/dl/x.bin --raw";;
    hbfr) cmd="$H --url $U --size 1073741824 --output /tmp/ab/dl/x.bin --ca-file /tmp/ab/ca.pem --below 262144 --fill --read-buf 262144";;
    ref) cmd="$R --endpoint $proto://127.0.0.1:$port --bucket bench --key object-1G.bin --output /tmp/ab/dl/x.bin --ca-file /tmp/ab/ca.pem --part-size 8388608";;
  esac
  /usr/bin/time -f "$t %e %U %S" $cmd 2>&1 >/dev/null | tail -1
  rm -f /tmp/ab/dl/x.bin
}
tools=("$@")
for i in $(seq 1 $n); do
  k=${#tools[@]}
  for j in $(seq 0 $((k-1))); do one ${tools[$(( (i+j) % k ))]}; done
done
