#!/usr/bin/env python3
"""Reading a stream: one object read sequentially into memory (and discarded) through the
prefetching reader, from C (bench/c/stream_read.c) and Python (oss_ffi's Client.open, readinto a
1 MiB buffer), against `curl -o /dev/null`, the file download at `--throughput-target max`
(examples-c/oss_download) and oss2's `get_object().read()` (and oss_ffi's one-connection
`get_object_stream`), on loopback and on the emulator shaped as a WAN link (20 ms latency, 20 ms
connect latency, 25 MB/s per connection, no total cap: `bench/run.py`'s "shaped" mode).

One run of every tool per link, in a random order (--seed), each a child process started through
bench/rusage (wall seconds from the tool's own clock where it has one, CPU seconds and peak RSS
from wait4). Needs the release build (`make examples`: the library and examples-c;
`cargo build --release -p oss-emulator`) and oss2 in the Python running this script.

    python3 bench/stream.py --size 256M
    python3 bench/stream.py --size 1G --links loopback,shaped
"""
import argparse
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
WORK = os.path.join(REPO, "target", "bench-stream")
AK, SK, BUCKET = "bench", "bench-secret", "bench"
SHAPED = ["--latency", "20", "--connect-latency", "20", "--conn-rate", "25MB/s"]
MIB = 1 << 20


def build():
    os.makedirs(WORK, exist_ok=True)
    subprocess.run(["cc", "-O2", "-o", os.path.join(WORK, "rusage"), os.path.join(HERE, "rusage.c")], check=True)
    subprocess.run(["cc", "-std=c11", "-O2", "-I", os.path.join(REPO, "include"), "-o",
                    os.path.join(WORK, "stream_read"), os.path.join(HERE, "c", "stream_read.c"),
                    "-L" + REL, "-loss_ffi", "-Wl,-rpath," + REL, "-pthread"], check=True)


def run_child(cmd, env):
    """(rc, wall, cpu seconds, peak RSS KiB, stdout, stderr) of `cmd` run through rusage."""
    stats = os.path.join(WORK, "rusage.out")
    t0 = time.monotonic()
    p = subprocess.run([os.path.join(WORK, "rusage"), stats] + cmd, env=env, capture_output=True, text=True)
    wall = time.monotonic() - t0
    with open(stats) as f:
        code, cpu, rss = f.read().split()[:3]
    return int(code), wall, float(cpu), int(rss), p.stdout, p.stderr


PY_READER = """
import json, sys, time, oss_ffi
endpoint, key, budget, window = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
connections = int(sys.argv[5]) if len(sys.argv) > 5 else 0
kw = {"memory_budget": budget} if budget else {}
if connections:
    kw["max_connections"] = connections
with oss_ffi.Client(endpoint, credentials=("bench", "bench-secret"), signature_version="v1", **kw) as c:
    buf = bytearray(1 << 20)
    t0 = time.monotonic()
    opts = {"max_window": window} if window != "0" else {}
    with c.open("bench", key, **opts) as f:
        n = total = 0
        while True:
            n = f.readinto1(buf)
            if not n:
                break
            total += n
        verified = f.verified()
    print(json.dumps({"bytes": total, "seconds": time.monotonic() - t0, "verified": verified}))
"""

PY_STREAM = """
import json, sys, time, oss_ffi
endpoint, key = sys.argv[1], sys.argv[2]
with oss_ffi.Client(endpoint, credentials=("bench", "bench-secret"), signature_version="v1") as c:
    buf = bytearray(1 << 20)
    t0 = time.monotonic()
    with c.get_object_stream("bench", key) as f:
        total = 0
        while True:
            n = f.readinto(buf)
            if not n:
                break
            total += n
    print(json.dumps({"bytes": total, "seconds": time.monotonic() - t0}))
"""

PY_OSS2 = """
import json, sys, time, oss2
endpoint, key = sys.argv[1], sys.argv[2]
b = oss2.Bucket(oss2.Auth("bench", "bench-secret"), endpoint, "bench", is_cname=False)
t0 = time.monotonic()
r = b.get_object(key)
total = 0
while True:
    chunk = r.read(1 << 20)
    if not chunk:
        break
    total += len(chunk)
print(json.dumps({"bytes": total, "seconds": time.monotonic() - t0}))
"""


class Emulator:
    def __init__(self, root, size, shaping):
        cmd = [os.path.join(REL, "oss-emulator"), "--root", root, "--port", "0", "--access-key-id", AK,
               "--access-key-secret", SK, "--public-read", BUCKET,
               "--create-object", f"{BUCKET}/stream-{size}.bin:{size}"] + shaping
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.endpoint = emulator_endpoint(self.proc)
        self.key = f"stream-{size}.bin"

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def tools(a, emu, size, env, out):
    py = sys.executable
    lib_env = dict(env, OSS_FFI_LIBRARY=os.path.join(REL, "liboss_ffi.so"),
                   PYTHONPATH=os.path.join(REPO, "bindings", "python", "src"))
    big = str(a.big_budget)

    def json_tool(cmd, e=env):
        def run():
            rc, wall, cpu, rss, so, se = run_child(cmd, e)
            if rc != 0:
                raise SystemExit(f"{cmd[0]} failed ({rc}): {se[-2000:]}")
            r = json.loads(so.strip().splitlines()[-1])
            if r["bytes"] != size:
                raise SystemExit(f"{cmd}: {r['bytes']} bytes, expected {size}")
            return r["seconds"], cpu, rss, ("verified" if r.get("verified") else "")
        return run

    def curl():
        rc, wall, cpu, rss, so, se = run_child(
            ["curl", "-s", "-f", "-o", "/dev/null", "-w", "%{time_total}", f"{emu.endpoint}/{BUCKET}/{emu.key}"], env)
        if rc != 0:
            raise SystemExit(f"curl failed: {se}")
        return float(so), cpu, rss, ""

    def download():
        if os.path.exists(out):
            os.remove(out)
        rc, wall, cpu, rss, so, se = run_child(
            [os.path.join(REPO, "target", "examples", "oss_download"), "--endpoint", emu.endpoint, "--bucket", BUCKET,
             "--key", emu.key, "--output", out, "--progress", "none", "--throughput-target", "max"], env)
        if rc != 0 or os.path.getsize(out) != size:
            raise SystemExit(f"oss_download failed ({rc}): {se[-2000:]}")
        os.remove(out)
        return wall, cpu, rss, "to a file"

    c_reader = os.path.join(WORK, "stream_read")
    # oss_download raises max_connections to 1000 for a throughput target (its parts in flight
    # are then bounded by the budget): the same client setting for the reader, for a like-for-like
    # row beside the defaults (16 connections).
    conns = str(a.connections)
    t = {
        "C reader (defaults)": json_tool([c_reader, emu.endpoint, BUCKET, emu.key]),
        f"C reader (max_connections {conns}, as oss_download sets)":
            json_tool([c_reader, emu.endpoint, BUCKET, emu.key, "0", "0", "0", conns]),
        f"Python Client.open (max_connections {conns})":
            json_tool([py, "-c", PY_READER, emu.endpoint, emu.key, "0", "0", conns], lib_env),
        f"C reader (budget {a.big_budget // MIB} MiB, window {a.big_window // MIB} MiB)":
            json_tool([c_reader, emu.endpoint, BUCKET, emu.key, big, str(a.big_window)]),
        "Python Client.open (defaults)": json_tool([py, "-c", PY_READER, emu.endpoint, emu.key, "0", "0"], lib_env),
        f"Python Client.open (budget {a.big_budget // MIB} MiB, window {a.big_window // MIB} MiB)":
            json_tool([py, "-c", PY_READER, emu.endpoint, emu.key, big, str(a.big_window)], lib_env),
        "Python get_object_stream (one GET)": json_tool([py, "-c", PY_STREAM, emu.endpoint, emu.key], lib_env),
        "curl -o /dev/null": curl,
        "C oss_download --throughput-target max": download,
        "oss2 get_object().read()": json_tool([py, "-c", PY_OSS2, emu.endpoint, emu.key]),
    }
    return t


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 allow_abbrev=False)
    ap.add_argument("--size", default="256M")
    ap.add_argument("--links", default="loopback,shaped")
    ap.add_argument("--seed", type=int, default=int(time.time()))
    ap.add_argument("--big-budget", type=parse_size, default=parse_size("256M"))
    ap.add_argument("--big-window", type=parse_size, default=parse_size("128M"))
    ap.add_argument("--connections", type=int, default=1000,
                    help="max_connections of the readers' rows that raise it (oss_download's 1000)")
    ap.add_argument("--skip", default="", help="comma-separated substrings of tool names to skip")
    ap.add_argument("--no-build", action="store_true")
    a = ap.parse_args()
    size = parse_size(a.size)
    if not a.no_build:
        build()
    env = dict(os.environ, OSS_ACCESS_KEY_ID=AK, OSS_ACCESS_KEY_SECRET=SK)
    env.pop("OSS_FFI_LIBRARY", None)
    rng = random.Random(a.seed)
    log(f"seed {a.seed}")
    rows = []
    for link in a.links.split(","):
        root = tempfile.mkdtemp(prefix="stream-", dir=WORK)
        emu = Emulator(root, size, SHAPED if link == "shaped" else [])
        try:
            t = tools(a, emu, size, env, os.path.join(root, "out.bin"))
            names = [n for n in t if not any(s and s in n for s in a.skip.split(","))]
            rng.shuffle(names)
            for name in names:
                secs, cpu, rss, note = t[name]()
                mbs = size / secs / 1e6
                log(f"{link}: {name}: {secs:.3f} s, {mbs:.1f} MB/s, {cpu:.2f} CPU-s, {rss / 1024:.1f} MiB {note}")
                rows.append({"link": link, "tool": name, "seconds": secs, "MBps": mbs, "cpu_s": cpu,
                             "cpu_s_per_gib": cpu * (1 << 30) / size, "rss_mib": rss / 1024, "note": note})
        finally:
            emu.stop()
            shutil.rmtree(root, ignore_errors=True)
    print(f"| link | tool | s | MB/s | CPU-s per GiB | peak RSS MiB |")
    print("|---|---|---:|---:|---:|---:|")
    for r in rows:
        print(f"| {r['link']} | {r['tool']} | {r['seconds']:.3f} | {r['MBps']:.1f} | {r['cpu_s_per_gib']:.2f} | "
              f"{r['rss_mib']:.1f} |")
    with open(os.path.join(WORK, f"results-{a.size}-{a.seed}.json"), "w") as f:
        json.dump({"size": size, "seed": a.seed, "rows": rows}, f, indent=1)


if __name__ == "__main__":
    main()
