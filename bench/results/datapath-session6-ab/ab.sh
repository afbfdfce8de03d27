#!/bin/bash
# usage: ab.sh PROTO ROUNDS  -> lines: ver wall user sys
proto=$1; n=$2; port=18901; [ $proto = http ] && port=18902
one() { LD_LIBRARY_PATH=/tmp/ab/lib-$1 SSL_CERT_FILE=/tmp/ab/ca.pem OSS_ACCESS_KEY_ID=ak OSS_ACCESS_KEY_SECRET=sk /usr/bin/time -f "$1 %e %U %S" /work/wt/integ/target/examples/oss_download --endpoint $proto://127.0.0.1:$port --bucket bench --key object-1G.bin --output /tmp/ab/dl/x.bin --threads 3 --part-size 8388608 --progress none 2>&1 >/dev/null | tail -1; rm -f /tmp/ab/dl/x.bin; }
one new >/dev/null
for i in $(seq 1 $n); do if [ $((i%2)) = 0 ]; then one base; one new; else one new; one base; fi; done
