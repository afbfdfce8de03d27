"""Throughput of one resumable download through the Python binding (for the benchmark table).

    OSS_FFI_LIBRARY=target/release/liboss_ffi.so python3 bindings/python/bench/bench_download.py \
        --endpoint http://127.0.0.1:9000 --bucket bench --key big.bin --output /tmp/big.bin \
        --threads 8 --part-size 8388608 [--v4 --region cn-hangzhou] [--progress]

Credentials from OSS_ACCESS_KEY_ID / OSS_ACCESS_KEY_SECRET. Prints one line:
``python-binding <bytes> bytes <seconds> s <MiB/s> MiB/s``.
"""
from __future__ import annotations

import argparse
import os
import time

import oss_ffi


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoint", required=True)
    ap.add_argument("--bucket", required=True)
    ap.add_argument("--key", required=True)
    ap.add_argument("--output", required=True)
    ap.add_argument("--threads", type=int, default=8)
    ap.add_argument("--part-size", type=int, default=8 << 20)
    ap.add_argument("--v4", action="store_true")
    ap.add_argument("--region", default="cn-hangzhou")
    ap.add_argument("--progress", action="store_true", help="with a (no-op) Python progress callable")
    a = ap.parse_args()
    with oss_ffi.Client(a.endpoint, region=a.region, signature_version="v4" if a.v4 else "v1") as c:
        t0 = time.perf_counter()
        meta = c.resumable_download(
            a.bucket, a.key, a.output, threads=a.threads, part_size=a.part_size,
            progress=(lambda i, d, t: None) if a.progress else None,
        )
        dt = time.perf_counter() - t0
    assert os.path.getsize(a.output) == meta.content_length
    print("python-binding %d bytes %.3f s %.1f MiB/s" % (meta.content_length, dt, meta.content_length / dt / 2**20))


if __name__ == "__main__":
    main()
