#!/usr/bin/env python3
"""objects_oss2.py: a prefix downloaded with the Python SDK oss2 the way its users write it (oss2
has no batch download): oss2.ObjectIteratorV2 (ListObjectsV2, pages of 1000), then
Bucket.get_object_to_file for every key from a ThreadPoolExecutor (the "objects" mode of
bench/run.py).

    objects_oss2.py --endpoint URL --bucket B --prefix P --output-dir DIR [--threads 16]

Local path: the key minus the prefix's directory part (the library's batch rule). oss2's
connection pool is raised to --threads (its default of 10 would make 16 threads open and drop
connections). oss2 checks each object's CRC-64 (its default); nothing is fsync'd. Credentials:
OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET; HTTPS trust: REQUESTS_CA_BUNDLE. Prints one JSON line:
{"seconds": <listing + downloads, without interpreter start-up and import>, "list_seconds",
"objects", "bytes"}.
"""
import argparse
import json
import os
import sys
import time
from concurrent.futures import ThreadPoolExecutor

import oss2


def main():
    ap = argparse.ArgumentParser(allow_abbrev=False)
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--bucket", required=True)
    ap.add_argument("--prefix", required=True)
    ap.add_argument("--output-dir", required=True)
    ap.add_argument("--threads", type=int, default=16)
    a = ap.parse_args()
    oss2.defaults.connection_pool_size = max(a.threads, oss2.defaults.connection_pool_size)
    strip = a.prefix[:a.prefix.rfind("/") + 1]
    bucket = oss2.Bucket(oss2.Auth(os.environ["OSS_ACCESS_KEY_ID"], os.environ["OSS_ACCESS_KEY_SECRET"]),
                         a.endpoint, a.bucket)
    t0 = time.monotonic()
    objs = [(o.key, o.size) for o in oss2.ObjectIteratorV2(bucket, prefix=a.prefix, max_keys=1000)
            if not o.key.endswith("/")]
    t1 = time.monotonic()

    def get(obj):
        key, _ = obj
        path = os.path.join(a.output_dir, key[len(strip):])
        os.makedirs(os.path.dirname(path), exist_ok=True)
        bucket.get_object_to_file(key, path)
        return os.path.getsize(path)

    with ThreadPoolExecutor(a.threads) as ex:
        total = sum(ex.map(get, objs))
    t2 = time.monotonic()
    print(json.dumps({"seconds": t2 - t0, "list_seconds": t1 - t0, "objects": len(objs), "bytes": total}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
