#!/usr/bin/env python3
"""A projected Parquet read (2 of 20 columns) through fsspec: oss_ffi's filesystem (`ossffi://`)
against ossfs (`oss://`), on the emulator shaped as a WAN link (20 ms latency, 20 ms connect
latency, 25 MB/s per connection) or on loopback. Time, requests sent and bytes sent by the
server (the emulator's request log) per read; one run each (`--repeat`), in a random order, after one
untimed warm-up read (the emulator hashes the dataset's files on first access).

    python3 bench/parquet.py --size 256M            # needs pandas, pyarrow, fsspec, ossfs
"""
import argparse
import io
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time

from benchlib import emulator_endpoint, log, parse_size

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
REL = os.path.join(REPO, "target", "release")
AK, SK, BUCKET = "bench", "bench-secret", "bench"
SHAPED = ["--latency", "20", "--connect-latency", "20", "--conn-rate", "25MB/s"]

CHILD = r"""
import json, sys, time
import pandas as pd
which, endpoint, prefix = sys.argv[1], sys.argv[2], sys.argv[3]
opts = {"endpoint": endpoint, "key": "bench", "secret": "bench-secret"}
if which == "ossffi":
    import fsspec, oss_ffi.filesystem
    fsspec.register_implementation("ossffi", oss_ffi.filesystem.OssFfiFileSystem, clobber=True)
    opts["signature_version"] = "v1"
t0 = time.monotonic()
df = pd.read_parquet("%s://bench/%s/" % (which if which == "ossffi" else "oss", prefix),
                     columns=["c03", "c17"], storage_options=opts)
print(json.dumps({"seconds": time.monotonic() - t0, "rows": len(df)}))
"""


def make_dataset(root, prefix, size, files):
    """`files` Parquet files of about size/files bytes each, 20 float64 columns (incompressible)."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq
    rows = max(1, size // files // (20 * 8))
    rng = np.random.default_rng(7)
    for i in range(files):
        table = pa.table({"c%02d" % c: rng.random(rows) for c in range(20)})
        buf = io.BytesIO()
        pq.write_table(table, buf, row_group_size=max(1, rows // 4), compression="none")
        path = os.path.join(root, BUCKET, prefix, "part-%03d.parquet" % i)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(buf.getvalue())
    return rows * files


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 allow_abbrev=False)
    ap.add_argument("--size", default="256M")
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--links", default="shaped")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--tools", default="ossffi,ossfs", help="comma list of ossffi, ossfs")
    ap.add_argument("--repeat", type=int, default=1, help="runs of each tool per link (one random order)")
    ap.add_argument("--keep-logs", metavar="DIR", help="keep each run's request log (JSON lines) in DIR")
    a = ap.parse_args()
    size = parse_size(a.size)
    work = os.path.join(REPO, "target", "bench-parquet")
    os.makedirs(work, exist_ok=True)
    root = tempfile.mkdtemp(prefix="parquet-", dir=work)
    rows = make_dataset(root, "table", size, a.files)
    log(f"dataset: {a.files} files, {rows} rows, 20 columns, {size / 1e6:.0f} MB; seed {a.seed}")
    rng = random.Random(a.seed)
    env = dict(os.environ, OSS_FFI_LIBRARY=os.path.join(REL, "liboss_ffi.so"),
               PYTHONPATH=os.path.join(REPO, "bindings", "python", "src"), NO_PROXY="127.0.0.1,localhost")
    out = []
    try:
        for link in a.links.split(","):
            logf = os.path.join(root, "requests.log")
            cmd = [os.path.join(REL, "oss-emulator"), "--root", root, "--port", "0", "--access-key-id", AK,
                   "--access-key-secret", SK, "--log", logf] + (SHAPED if link == "shaped" else [])
            emu = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
            endpoint = emulator_endpoint(emu)
            try:
                # Untimed: the emulator computes the MD5 and CRC64 of a file placed in its root by
                # hand on the first request that needs them (the listing's ETags: ~1-2 s per GiB,
                # much more on a loaded machine), which made the first timed read of a run pay
                # for hashing the whole dataset (the 16.6 s outlier). One read warms it.
                p = subprocess.run([sys.executable, "-c", CHILD, "ossffi", endpoint, "table"], env=env,
                                   capture_output=True, text=True)
                if p.returncode != 0:
                    raise SystemExit(f"the warm-up read failed: {p.stderr[-3000:]}")
                tools = a.tools.split(",") * a.repeat
                rng.shuffle(tools)
                for run, which in enumerate(tools):
                    open(logf, "w").close()
                    p = subprocess.run([sys.executable, "-c", CHILD, which, endpoint, "table"], env=env,
                                       capture_output=True, text=True)
                    if p.returncode != 0:
                        raise SystemExit(f"{which} failed: {p.stderr[-3000:]}")
                    r = json.loads(p.stdout.strip().splitlines()[-1])
                    notes = [l for l in p.stderr.splitlines() if "resum" in l or "retr" in l.lower()]
                    if notes:
                        log(f"{which}: {len(notes)} log lines about retries/resumes, e.g. {notes[:3]}")
                    time.sleep(0.5)
                    with open(logf) as f:
                        entries = [json.loads(line) for line in f if line.strip()]
                    if a.keep_logs:
                        os.makedirs(a.keep_logs, exist_ok=True)
                        shutil.copy(logf, os.path.join(a.keep_logs, f"{link}-{run:02d}-{which}.jsonl"))
                        with open(os.path.join(a.keep_logs, f"{link}-{run:02d}-{which}.stderr"), "w") as f:
                            f.write(p.stderr)
                    gets = [e for e in entries if e["method"] == "GET" and e.get("key")]
                    row = {"link": link, "tool": which, "seconds": r["seconds"], "rows": r["rows"],
                           "requests": len(entries), "gets": len(gets),
                           "bytes_mb": sum(e.get("bytes_sent", 0) for e in entries) / 1e6}
                    log(json.dumps(row))
                    out.append(row)
            finally:
                emu.terminate()
                emu.wait()
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print("| link | filesystem | s | requests (GETs of objects) | MB sent |")
    print("|---|---|---:|---:|---:|")
    for r in out:
        print(f"| {r['link']} | {r['tool']} | {r['seconds']:.3f} | {r['requests']} ({r['gets']}) | {r['bytes_mb']:.1f} |")


if __name__ == "__main__":
    main()
