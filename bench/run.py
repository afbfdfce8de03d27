#!/usr/bin/env python3
"""oss-ffi benchmark (issue 6): this library (through examples-c/oss_download) side by side with
`curl -o FILE`, our Python binding, the official Python SDK v2 downloader and oss2's
resumable_download, against the
bundled local OSS server (oss-emulator, release build) on loopback.

    make bench                                  # = python3 bench/run.py
    python3 bench/run.py --size 1G --rounds 5 --threads 3 --part-size 8M
    python3 bench/run.py --modes compare        # only mode 1; modes: compare,scale,crc
    python3 bench/run.py --big                  # mode 2 also at 2 GiB and 4 GiB (disk, time)

Mode 1 (compare): alternating rounds of every tool (the order rotates each round); per tool the
median throughput (MB/s = 10^6 bytes/s; time = the process's wall time for oss_download, dd and
curl's own time_total, the download call alone for the Python SDKs and our Python binding, without interpreter start-up), CPU seconds per GiB
(user+sys of the child, wait4 in bench/rusage.c), peak RSS (its ru_maxrss) and the ratio to us; plus the
machine's limits measured in the same run: `curl -o /dev/null` (network path) and `dd` of the same
amount into a new file with conv=fsync (disk path).
Mode 2 (scale): threads 1,2,4,8,16,32 at --size, then sizes 64M,256M,1G (+2G,4G with --big) at
--scale-threads: throughput and peak RSS.
Mode 3 (crc): CRC64 on vs off (`--no-crc`), and a download interrupted (SIGINT) at 50% then
resumed vs an uninterrupted one.

Output: bench/results/runs.csv (every run), bench/results/summary.csv, bench/results/summary.md
(the tables, the machine, the load) and bench/results/bench.png. Every output file is removed
right after its run (before the next tool starts) so no tool pays for another's dirty pages.
"""

import argparse
import csv
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
HERE = os.path.join(REPO, "bench")
AK, SK, BUCKET = "bench", "bench-secret", "bench"
MB = 1e6
GIB = 1 << 30


def parse_size(s):
    s = s.strip()
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(s[-1:].upper(), 1)
    return int(s[:-1] if mult > 1 else s) * mult


def size_name(n):
    for unit, m in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n % m == 0:
            return f"{n // m}{unit}"
    return str(n)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- set-up

def ensure_python_packages():
    """pip-installs bench/requirements.txt when something is missing; returns {name: error}."""
    missing = {}
    for mod in ("alibabacloud_oss_v2", "oss2", "matplotlib"):
        # checked in a child: importing here would grow the driver (see bench/rusage.c)
        r = subprocess.run([sys.executable, "-c", f"import {mod}"], capture_output=True)
        if r.returncode != 0:
            missing[mod] = "not installed"
    if missing:
        log(f"installing {', '.join(missing)} (pip install -r bench/requirements.txt)")
        r = subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-r",
                            os.path.join(HERE, "requirements.txt")], capture_output=True, text=True)
        if r.returncode != 0:
            log(r.stdout[-2000:] + r.stderr[-2000:])
    failed = {}
    for mod in list(missing):
        r = subprocess.run([sys.executable, "-c", f"import {mod}"], capture_output=True, text=True)
        if r.returncode != 0:
            failed[mod] = (r.stderr.strip().splitlines() or ["import failed"])[-1]
            log(f"{mod} is not usable: {failed[mod]}")
    return failed


RUSAGE = os.path.join(REPO, "target/bench/rusage")


def build(args):
    os.makedirs(os.path.dirname(RUSAGE), exist_ok=True)
    subprocess.run(["cc", "-O2", "-o", RUSAGE, os.path.join(HERE, "rusage.c")], check=True)
    if args.no_build:
        return
    log("building: make examples (release library + C example), cargo build --release -p oss-emulator")
    subprocess.run(["make", "-C", REPO, "examples"], check=True, stdout=subprocess.DEVNULL)
    subprocess.run(["cargo", "build", "--release", "-p", "oss-emulator"], cwd=REPO, check=True,
                   stderr=subprocess.DEVNULL)


class Emulator:
    def __init__(self, root, sizes):
        self.root = root
        os.makedirs(root, exist_ok=True)
        cmd = [os.path.join(REPO, "target/release/oss-emulator"), "--root", root, "--port", "0",
               "--access-key-id", AK, "--access-key-secret", SK, "--public-read", BUCKET]
        for n in sorted(set(sizes)):
            cmd += ["--create-object", f"{BUCKET}/{self.key(n)}:{n}"]
        log(f"starting the emulator (objects {', '.join(size_name(n) for n in sorted(set(sizes)))}; "
            f"created once, cached in {root})")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        line = self.proc.stdout.readline().strip()
        if not line.startswith("listening on "):
            raise SystemExit(f"the emulator did not start: {line!r}")
        self.endpoint = line.split()[-1]

    @staticmethod
    def key(n):
        return f"object-{size_name(n)}.bin"

    def url(self, n):
        return f"{self.endpoint}/{BUCKET}/{self.key(n)}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


# ---------------------------------------------------------------- running one child

def run_child(cmd, env=None, interrupt_after=None):
    """Runs cmd; returns (exit status, wall seconds, cpu seconds, peak RSS KiB, stdout, stderr)."""
    out_path, err_path = "/tmp/oss-bench-child.out", "/tmp/oss-bench-child.err"
    ru_path = "/tmp/oss-bench-child.rusage"
    with open(out_path, "w") as out, open(err_path, "w") as err:
        t0 = time.monotonic()
        p = subprocess.Popen([RUSAGE, ru_path] + cmd, stdout=out, stderr=err, env=env)
        if interrupt_after is not None:
            time.sleep(interrupt_after)
            p.send_signal(signal.SIGINT)  # forwarded to the tool by rusage
        p.wait()
        wall = time.monotonic() - t0
    with open(out_path) as f:
        stdout = f.read()
    with open(err_path) as f:
        stderr = f.read()
    with open(ru_path) as f:
        code, cpu, maxrss = f.read().split()
    return int(code), wall, float(cpu), int(maxrss), stdout, stderr


def settle(*paths):
    for p in paths:
        if os.path.isdir(p):
            shutil.rmtree(p, ignore_errors=True)
        elif os.path.lexists(p):
            os.remove(p)
    os.sync()
    time.sleep(0.3)


class Bench:
    def __init__(self, args, emu, work):
        self.args, self.emu, self.work = args, emu, work
        self.rows = []
        self.example = os.path.join(REPO, "target/examples/oss_download")
        self.env = dict(os.environ, OSS_ACCESS_KEY_ID=AK, OSS_ACCESS_KEY_SECRET=SK)
        self.out = os.path.join(work, "out.bin")
        self.ckpt = os.path.join(work, "ckpt")

    def record(self, mode, tool, size, threads, rnd, seconds, wall, cpu, rss_kib, extra=""):
        row = {"mode": mode, "tool": tool, "size": size, "threads": threads, "round": rnd,
               "seconds": round(seconds, 4), "mb_s": round(size / seconds / MB, 1),
               "cpu_s_per_gib": round(cpu / (size / GIB), 3), "peak_rss_mib": round(rss_kib / 1024, 1),
               "wall_s": round(wall, 4), "extra": extra}
        self.rows.append(row)
        log(f"  {mode:8} {tool:22} {size_name(size):>5} t={threads:<3} r{rnd}: {row['mb_s']:8.1f} MB/s  "
            f"cpu {row['cpu_s_per_gib']:.2f} s/GiB  rss {row['peak_rss_mib']:.1f} MiB {extra}")
        return row

    def check_output(self, size, what):
        got = os.path.getsize(self.out) if os.path.exists(self.out) else -1
        if got != size:
            raise SystemExit(f"{what}: the output has {got} bytes, expected {size}")

    # -- tools: each returns the recorded row

    def ours(self, mode, size, threads, rnd, crc=True, tool=None):
        os.makedirs(self.ckpt, exist_ok=True)
        cmd = [self.example, "--endpoint", self.emu.endpoint, "--bucket", BUCKET,
               "--key", self.emu.key(size), "--output", self.out, "--checkpoint-dir", self.ckpt,
               "--threads", str(threads), "--part-size", str(self.args.part_size), "--progress", "none"]
        if not crc:
            cmd.append("--no-crc")
        rc, wall, cpu, rss, out, err = run_child(cmd, self.env)
        if rc != 0:
            raise SystemExit(f"oss_download failed ({rc}): {err}")
        self.check_output(size, "oss_download")
        # wall time of the whole process (SDK set-up, HEAD, parts, fsync, rename: a few ms more
        # than the example's own "time:" line, which has only 10 ms resolution)
        row = self.record(mode, tool or f"oss-ffi (t={threads})", size, threads, rnd, wall, wall, cpu, rss)
        settle(self.out, self.ckpt)
        return row

    def curl(self, mode, size, rnd, dest=None):
        dest = dest or self.out
        cmd = ["curl", "-s", "-f", "-o", dest, "-w", "%{time_total}", self.emu.url(size)]
        rc, wall, cpu, rss, out, err = run_child(cmd)
        if rc != 0:
            raise SystemExit(f"curl failed ({rc}): {err}")
        if dest != "/dev/null":
            self.check_output(size, "curl")
        tool = "curl -o /dev/null" if dest == "/dev/null" else "curl -o FILE"
        row = self.record(mode, tool, size, 1, rnd, float(out), wall, cpu, rss)
        settle(self.out)
        return row

    def dd(self, mode, size, rnd):
        bs = 4 << 20
        cmd = ["dd", "if=/dev/zero", f"of={self.out}", f"bs={bs}", f"count={size // bs}", "conv=fsync"]
        rc, wall, cpu, rss, out, err = run_child(cmd)
        if rc != 0:
            raise SystemExit(f"dd failed: {err}")
        row = self.record(mode, "dd conv=fsync", size, 1, rnd, wall, wall, cpu, rss)
        settle(self.out)
        return row

    def python_sdk(self, mode, which, size, threads, rnd):
        cmd = [sys.executable, os.path.abspath(__file__), "--_child", which, "--_endpoint", self.emu.endpoint,
               "--_key", self.emu.key(size), "--_out", self.out, "--_ckpt", self.ckpt,
               "--threads", str(threads), "--part-size", str(self.args.part_size)]
        os.makedirs(self.ckpt, exist_ok=True)
        env = dict(os.environ, OSS_FFI_LIBRARY=os.path.join(REPO, "target/release/liboss_ffi.so"))
        rc, wall, cpu, rss, out, err = run_child(cmd, env)
        if rc != 0:
            raise SystemExit(f"{which} failed ({rc}): {err[-3000:]}")
        self.check_output(size, which)
        secs = json.loads(out.strip().splitlines()[-1])["seconds"]
        name = {"v2": "python alibabacloud-oss-v2", "oss2": "python oss2",
                "binding": "python oss_ffi binding"}[which]
        row = self.record(mode, f"{name} (t={threads})", size, threads, rnd, secs, wall, cpu, rss)
        settle(self.out, self.ckpt)
        return row


# ---------------------------------------------------------------- the Python SDK children

def child_main(a):
    """Runs inside a child process (so its CPU and RSS are the SDK's own)."""
    if a._child == "v2":
        import alibabacloud_oss_v2 as oss
        cfg = oss.config.load_default()
        cfg.credentials_provider = oss.credentials.StaticCredentialsProvider(AK, SK)
        cfg.region = "cn-hangzhou"
        cfg.endpoint = a._endpoint
        client = oss.Client(cfg)
        d = client.downloader(part_size=a.part_size, parallel_num=a.threads,
                              enable_checkpoint=True, checkpoint_dir=a._ckpt)
        t0 = time.monotonic()
        d.download_file(oss.GetObjectRequest(bucket=BUCKET, key=a._key), filepath=a._out)
    elif a._child == "binding":
        # This library through its Python binding (bindings/python, ctypes over the C ABI).
        sys.path.insert(0, os.path.join(REPO, "bindings", "python", "src"))
        import oss_ffi
        with oss_ffi.Client(a._endpoint, credentials=(AK, SK), signature_version="v1") as c:
            t0 = time.monotonic()
            c.resumable_download(BUCKET, a._key, a._out, checkpoint_dir=a._ckpt,
                                 threads=a.threads, part_size=a.part_size)
    else:
        import oss2
        bucket = oss2.Bucket(oss2.Auth(AK, SK), a._endpoint, BUCKET)
        t0 = time.monotonic()
        oss2.resumable_download(bucket, a._key, a._out, multiget_threshold=1, part_size=a.part_size,
                                num_threads=a.threads, store=oss2.ResumableDownloadStore(root=a._ckpt))
    print(json.dumps({"seconds": time.monotonic() - t0}))


# ---------------------------------------------------------------- modes

def median_of(rows, tool):
    r = [x for x in rows if x["tool"] == tool]
    return {k: statistics.median(x[k] for x in r) for k in ("mb_s", "cpu_s_per_gib", "peak_rss_mib")}


def mode_compare(b, py_failed):
    a = b.args
    size = a.size
    log(f"mode 1 (compare): {size_name(size)}, part size {size_name(a.part_size)}, {a.rounds} rounds")
    b.curl("warmup", size, 0, dest="/dev/null")  # page-caches the object on the server side
    best = a.threads
    if not a.best_threads:
        log("quick sweep for the best thread count")
        sweep = {}
        for t in (2, 4, 8, 16):
            sweep[t] = statistics.median(b.ours("sweep", size, t, r)["mb_s"] for r in range(2))
        best = max(sweep, key=sweep.get)
    else:
        best = a.best_threads
    log(f"best thread count: {best}")
    tools = [("ours", a.threads), ("ours", best), ("curl", None), ("null", None), ("dd", None)]
    tools.append(("binding", a.threads))
    if "alibabacloud_oss_v2" not in py_failed:
        tools.append(("v2", a.threads))
    if "oss2" not in py_failed:
        tools.append(("oss2", a.threads))
    if best == a.threads:
        tools.remove(("ours", best))
    rows = []
    for rnd in range(1, a.rounds + 1):
        k = (rnd - 1) % len(tools)
        for kind, t in tools[k:] + tools[:k]:
            if kind == "ours":
                rows.append(b.ours("compare", size, t, rnd))
            elif kind == "curl":
                rows.append(b.curl("compare", size, rnd))
            elif kind == "null":
                rows.append(b.curl("compare", size, rnd, dest="/dev/null"))
            elif kind == "dd":
                rows.append(b.dd("compare", size, rnd))
            else:
                rows.append(b.python_sdk("compare", kind, size, t, rnd))
    return rows, best


def mode_scale(b):
    a = b.args
    rows = []
    log(f"mode 2 (scale): threads {a.sweep_threads} at {size_name(a.size)}")
    for rnd in range(1, a.scale_rounds + 1):
        for t in a.sweep_threads:
            rows.append(b.ours("threads", a.size, t, rnd))
    sizes = list(a.sizes) + ([2 << 30, 4 << 30] if a.big else [])
    log(f"mode 2 (scale): sizes {', '.join(size_name(s) for s in sizes)} at {a.scale_threads} threads")
    for rnd in range(1, a.scale_rounds + 1):
        for s in sizes:
            rows.append(b.ours("sizes", s, a.scale_threads, rnd))
    return rows


def mode_crc(b):
    a = b.args
    size, t = a.size, a.crc_threads
    rows = []
    log(f"mode 3 (crc): CRC64 on/off at {size_name(size)}, {t} threads, {a.rounds} rounds")
    for rnd in range(1, a.rounds + 1):
        order = [True, False] if rnd % 2 else [False, True]
        for crc in order:
            rows.append(b.ours("crc", size, t, rnd, crc=crc, tool="oss-ffi crc on" if crc else "oss-ffi crc off"))
    log("mode 3 (resume): interrupted at 50% then resumed vs uninterrupted")
    for rnd in range(1, a.rounds + 1):
        full = b.ours("resume", size, t, rnd, tool="oss-ffi uninterrupted")
        rows.append(full)
        os.makedirs(b.ckpt, exist_ok=True)
        cmd = [b.example, "--endpoint", b.emu.endpoint, "--bucket", BUCKET, "--key", b.emu.key(size),
               "--output", b.out, "--checkpoint-dir", b.ckpt, "--threads", str(t),
               "--part-size", str(a.part_size), "--progress", "lines"]
        rc1, wall1, cpu1, rss1, _, _ = run_child(cmd, b.env, interrupt_after=full["seconds"] / 2)
        if rc1 == 0:  # finished before the signal: nothing to resume
            log("  (the download finished before the interrupt; round skipped)")
            settle(b.out, b.ckpt)
            continue
        if rc1 != 7:
            raise SystemExit(f"interrupted oss_download exited {rc1}, expected 7 (cancelled)")
        rc2, wall2, cpu2, rss2, out2, err2 = run_child(cmd, b.env)
        if rc2 != 0:
            raise SystemExit(f"resumed oss_download failed ({rc2}): {err2}")
        b.check_output(size, "resumed oss_download")
        done = ""
        for line in err2.splitlines():
            if line.startswith("resuming:"):
                done = line.split(":", 1)[1].replace("already downloaded", "").strip()
        total = wall1 + wall2
        rows.append(b.record("resume", "oss-ffi interrupted+resumed", size, t, rnd, total, wall1 + wall2,
                             cpu1 + cpu2, max(rss1, rss2), extra=f"on disk at resume: {done}"))
        settle(b.out, b.ckpt)
    return rows


# ---------------------------------------------------------------- report

def machine():
    info = {"nproc": os.cpu_count(), "kernel": platform.release(), "python": platform.python_version()}
    with open("/proc/cpuinfo") as f:
        for line in f:
            if line.startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    with open("/proc/meminfo") as f:
        info["memory"] = f"{int(f.readline().split()[1]) // 1024} MiB"
    df = subprocess.run(["df", "-T", "-h", "/tmp"], capture_output=True, text=True).stdout.splitlines()
    info["disk"] = " ".join(df[-1].split()[:3]) if len(df) > 1 else "?"
    dev = df[-1].split()[0].split("/")[-1] if len(df) > 1 else ""
    rot = f"/sys/block/{dev}/queue/rotational"
    if os.path.exists(rot):
        info["disk"] += " (rotational)" if open(rot).read().strip() == "1" else " (non-rotational)"
    cv = subprocess.run(["curl", "--version"], capture_output=True, text=True).stdout.split()
    info["curl"] = cv[1] if len(cv) > 1 else "?"
    return info


def report(b, compare, best, scale, crc, info, load0, load1):
    a = b.args
    lines = [f"Machine: {info['nproc']} cores, {info.get('cpu', '?')}, {info['memory']} RAM, kernel "
             f"{info['kernel']}, disk {info['disk']}, curl {info['curl']}, Python {info['python']}.",
             f"Load average (1/5/15 min) at start {load0[0]:.2f}/{load0[1]:.2f}/{load0[2]:.2f}, "
             f"at end {load1[0]:.2f}/{load1[1]:.2f}/{load1[2]:.2f}.",
             f"Object {size_name(a.size)} (page-cached on the server), part size {size_name(a.part_size)}, "
             f"{a.rounds} alternating rounds, medians. Command: `{' '.join(['python3', 'bench/run.py'] + sys.argv[1:])}`", ""]
    summary = []
    if compare:
        tools = list(dict.fromkeys(r["tool"] for r in compare))
        ours = median_of(compare, f"oss-ffi (t={best})")["mb_s"]
        lines += ["| tool | MB/s (median) | CPU s/GiB | peak RSS MiB | oss-ffi (best) / tool |",
                  "|---|---:|---:|---:|---:|"]
        for tool in tools:
            m = median_of(compare, tool)
            summary.append({"section": "compare", "tool": tool, **m, "ours_over_tool": round(ours / m["mb_s"], 2)})
            lines.append(f"| {tool} | {m['mb_s']:.0f} | {m['cpu_s_per_gib']:.2f} | {m['peak_rss_mib']:.1f} | "
                         f"{ours / m['mb_s']:.2f}x |")
        net = median_of(compare, "curl -o /dev/null")["mb_s"]
        disk = median_of(compare, "dd conv=fsync")["mb_s"]
        lines += ["", f"Machine limits: network path (curl -o /dev/null) {net:.0f} MB/s, disk path "
                  f"(dd conv=fsync) {disk:.0f} MB/s; oss-ffi (best, t={best}) = {ours:.0f} MB/s = "
                  f"{ours / min(net, disk):.2f} of the smaller.", ""]
    if scale:
        lines += ["| scale | size | threads | MB/s (median) | peak RSS MiB (max) | CPU s/GiB |", "|---|---|---:|---:|---:|---:|"]
        keys = list(dict.fromkeys((r["mode"], r["size"], r["threads"]) for r in scale))
        for mode, size, t in keys:
            rs = [r for r in scale if (r["mode"], r["size"], r["threads"]) == (mode, size, t)]
            mbs = statistics.median(r["mb_s"] for r in rs)
            rss = max(r["peak_rss_mib"] for r in rs)
            cpu = statistics.median(r["cpu_s_per_gib"] for r in rs)
            summary.append({"section": mode, "tool": f"oss-ffi {size_name(size)} t={t}", "mb_s": mbs,
                            "cpu_s_per_gib": cpu, "peak_rss_mib": rss})
            lines.append(f"| {mode} | {size_name(size)} | {t} | {mbs:.0f} | {rss:.1f} | {cpu:.2f} |")
        lines.append("")
    if crc:
        lines += ["| crc / resume | MB/s (median) | median seconds | CPU s/GiB | peak RSS MiB |", "|---|---:|---:|---:|---:|"]
        for tool in dict.fromkeys(r["tool"] for r in crc):
            rs = [r for r in crc if r["tool"] == tool]
            m = median_of(rs, tool)
            secs = statistics.median(r["seconds"] for r in rs)
            summary.append({"section": "crc", "tool": tool, **m, "seconds": secs})
            lines.append(f"| {tool} | {m['mb_s']:.0f} | {secs:.3f} | {m['cpu_s_per_gib']:.2f} | {m['peak_rss_mib']:.1f} |")
        on = [r for r in crc if r["tool"] == "oss-ffi crc on"]
        off = [r for r in crc if r["tool"] == "oss-ffi crc off"]
        full = [r for r in crc if r["tool"] == "oss-ffi uninterrupted"]
        res = [r for r in crc if r["tool"] == "oss-ffi interrupted+resumed"]
        if on and off:
            t_on = statistics.median(r["seconds"] for r in on)
            t_off = statistics.median(r["seconds"] for r in off)
            lines.append(f"\nCRC64 cost: {100 * (t_on / t_off - 1):+.1f}% time (median {t_on:.3f} s on vs {t_off:.3f} s off).")
        if full and res:
            t_full = statistics.median(r["seconds"] for r in full)
            t_res = statistics.median(r["seconds"] for r in res)
            lines.append(f"Resume cost: interrupted at 50% + resumed = {t_res:.3f} s vs {t_full:.3f} s uninterrupted "
                         f"({100 * (t_res / t_full - 1):+.1f}%; {res[0]['extra']}).")
    return "\n".join(lines) + "\n", summary


def plot(rows, best, path):
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except Exception as e:  # noqa: BLE001
        log(f"no plot: {e}")
        return
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8))
    comp = [r for r in rows if r["mode"] == "compare"]
    if comp:
        tools = list(dict.fromkeys(r["tool"] for r in comp))
        med = [median_of(comp, t)["mb_s"] for t in tools]
        axes[0].barh(range(len(tools)), med, color=["tab:blue" if t.startswith("oss-ffi") else "tab:gray" for t in tools])
        axes[0].set_yticks(range(len(tools)), tools, fontsize=8)
        axes[0].invert_yaxis()
        axes[0].set_xlabel("MB/s (median)")
        axes[0].set_title("throughput, same run")
    for ax, mode, xkey, xlabel in ((axes[1], "threads", "threads", "threads"), (axes[2], "sizes", "size", "object size (MiB)")):
        rs = [r for r in rows if r["mode"] == mode]
        if not rs:
            ax.set_visible(False)
            continue
        xs = sorted(set(r[xkey] for r in rs))
        mbs = [statistics.median(r["mb_s"] for r in rs if r[xkey] == x) for x in xs]
        rss = [max(r["peak_rss_mib"] for r in rs if r[xkey] == x) for x in xs]
        xv = [x / (1 << 20) for x in xs] if xkey == "size" else xs
        ax.plot(xv, mbs, "o-", color="tab:blue", label="MB/s")
        ax.set_xscale("log", base=2)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("MB/s", color="tab:blue")
        ax2 = ax.twinx()
        ax2.plot(xv, rss, "s--", color="tab:red", label="peak RSS")
        ax2.set_ylabel("peak RSS (MiB)", color="tab:red")
        ax2.set_ylim(0, max(70, max(rss) * 1.2))
        ax2.axhline(64, color="tab:red", lw=0.5, ls=":")
        ax.set_title(f"oss-ffi scaling: {mode}")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    log(f"plot: {path}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--size", default="1G", help="object size for modes 1 and 3 (default 1G)")
    ap.add_argument("--rounds", type=int, default=5, help="alternating rounds (default 5)")
    ap.add_argument("--threads", type=int, default=3, help="default thread count, also for the Python SDKs (3)")
    ap.add_argument("--best-threads", type=int, default=0, help="skip the quick sweep and use this count")
    ap.add_argument("--part-size", default="8M", help="part size for every tool (default 8M)")
    ap.add_argument("--modes", default="compare,scale,crc", help="comma list of compare, scale, crc")
    ap.add_argument("--sweep-threads", default="1,2,4,8,16,32")
    ap.add_argument("--sizes", default="64M,256M,1G", help="mode 2 sizes (default 64M,256M,1G)")
    ap.add_argument("--big", action="store_true", help="mode 2 also at 2G and 4G")
    ap.add_argument("--scale-threads", type=int, default=16, help="threads of the size sweep (16)")
    ap.add_argument("--scale-rounds", type=int, default=2)
    ap.add_argument("--crc-threads", type=int, default=0, help="threads for mode 3 (default: the best)")
    ap.add_argument("--work", default=os.environ.get("OSS_BENCH_DIR", "/tmp/oss-ffi-bench"),
                    help="server root (objects cached there) and download directory")
    ap.add_argument("--results", default=os.path.join(HERE, "results"))
    ap.add_argument("--no-build", action="store_true")
    for hidden in ("--_child", "--_endpoint", "--_key", "--_out", "--_ckpt"):
        ap.add_argument(hidden, help=argparse.SUPPRESS)
    a = ap.parse_args()
    a.size, a.part_size = parse_size(a.size), parse_size(a.part_size)
    if a._child:
        return child_main(a)
    a.sweep_threads = [int(x) for x in a.sweep_threads.split(",")]
    a.sizes = [parse_size(x) for x in a.sizes.split(",")]
    modes = set(a.modes.split(","))

    py_failed = ensure_python_packages()
    build(a)
    load0 = os.getloadavg()
    sizes = [a.size] + (a.sizes + ([2 << 30, 4 << 30] if a.big else []) if "scale" in modes else [])
    emu = Emulator(os.path.join(a.work, "root"), sizes)
    dl = os.path.join(a.work, "dl")
    os.makedirs(dl, exist_ok=True)
    b = Bench(a, emu, dl)
    try:
        for s in sorted(set(sizes)):  # page-cache every object on the server side
            b.curl("warmup", s, 0, dest="/dev/null")
        compare, best = ([], a.best_threads or a.threads)
        if "compare" in modes:
            compare, best = mode_compare(b, py_failed)
        a.crc_threads = a.crc_threads or best
        scale = mode_scale(b) if "scale" in modes else []
        crc = mode_crc(b) if "crc" in modes else []
    finally:
        emu.stop()
    load1 = os.getloadavg()
    info = machine()
    text, summary = report(b, compare, best, scale, crc, info, load0, load1)
    if py_failed:
        text += "\nNot measured: " + "; ".join(f"{k}: {v}" for k, v in py_failed.items()) + "\n"
    os.makedirs(a.results, exist_ok=True)
    with open(os.path.join(a.results, "runs.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(b.rows[0].keys()))
        w.writeheader()
        w.writerows(b.rows)
    with open(os.path.join(a.results, "summary.csv"), "w", newline="") as f:
        keys = list(dict.fromkeys(k for s in summary for k in s))
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(summary)
    with open(os.path.join(a.results, "summary.md"), "w") as f:
        f.write(text)
    plot(b.rows, best, os.path.join(a.results, "bench.png"))
    print(text)


if __name__ == "__main__":
    main()
