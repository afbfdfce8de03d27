#!/bin/bash
# usage: tgt.sh PORT KEY ROUNDS -> lines: ver wall user sys
port=$1; key=$2; n=$3
one() { LD_LIBRARY_PATH=/tmp/ab/lib-$1 OSS_ACCESS_KEY_ID=ak OSS_ACCESS_KEY_SECRET=sk /usr/bin/time -f "$1 %e %U %S" /work/wt/integ/target/examples/oss_download --endpoint http://127.0.0.1:$port --bucket bench --key $key --output /tmp/ab/dl/t.bin --throughput-target max --progress none 2>&1 >/dev/null | tail -1; rm -f /tmp/ab/dl/t.bin; }
one cur >/dev/null
for i in $(seq 1 $n); do if [ $((i%2)) = 0 ]; then one new; one cur; else one cur; one new; fi; done
