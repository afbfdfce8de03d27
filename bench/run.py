#!/usr/bin/env python3
"""oss-ffi benchmark: this library (through examples-c/oss_download and through
its C++ layer) side by side with the official Alibaba Cloud OSS C++ SDK 1.10.1, `curl -o FILE`, our
Python binding, the official Python SDK v2 downloader and oss2's resumable_download, against the
bundled local OSS server (oss-emulator, release build) on loopback, over HTTP and HTTPS.

    make bench                                  # = python3 bench/run.py
    python3 bench/run.py --size 1G --rounds 5 --threads 3 --part-size 8M
    python3 bench/run.py --modes compare        # only mode 1; modes: compare,scale,crc
    python3 bench/run.py --big                  # mode 2 also at 2 GiB and 4 GiB (disk, time)
    python3 bench/run.py --tools cpp-ffi,cpp-official,curl --no-https
    python3 bench/run.py --print-order          # the run order and its predecessor counts, no run
    python3 bench/run.py --modes compare --tools cpp-ffi,cpp-ffi-base,cpp-official \
        --base-tree ../base --order random --rounds 3   # this tree against another (before/after)

Mode 1 (compare): rounds of every tool in an order in which every tool follows every other tool
equally often (bench/order.py; --order), once over HTTP and once over HTTPS (--no-https: HTTP only);
before every timed run, untimed and identical for all tools, the download directory is emptied
and `sync` run. Per tool the median, min and max time (MB/s = 10^6 bytes/s; time = the process's
wall time for oss_download, the C++ program and dd, curl's own time_total, the download call alone
for the Python SDKs and our Python binding, without interpreter start-up), CPU seconds per GiB
(user+sys of the child and its descendants, wait4 in bench/rusage.c; median (min-max), and the
median user / sys split), peak RSS (its ru_maxrss), the ratios of our rows to the official C++ SDK
at equal threads, to curl -o FILE and to the reference reader (time and CPU), and the median time
by predecessor;
plus the machine's limits measured in the same run: `curl -o /dev/null` (network path) and `dd`
of the same amount into a new file with conv=fsync (disk path).

The C++ rows are one program, bench/cpp/resumable_bench.cpp, written against the official SDK's
API and built twice: against the official SDK (built once by bench/cpp/build-official-sdk.sh into
${XDG_CACHE_HOME:-~/.cache}/oss-ffi-bench/; tarball ../shared/peers/ or $OSS_CPP_SDK_TARBALL;
its rows are skipped with a message when it cannot be built) and against this project's
header-only layer (-Iinclude -loss_ffi). Tools (--tools, comma list; default all):
  ffi-c           examples-c/oss_download, --threads (3), --part-size, with a checkpoint dir
  ffi-c-best      the same at the best thread count of a quick sweep (or --best-threads)
  ffi-c-def       examples-c/oss_download at its defaults, with a checkpoint dir (only when named)
  ffi-c-def-stats the same with --stats, i.e. with a metrics callback (only when named): the cost
                  of the per-request metrics, e.g. --tools ffi-c-def,ffi-c-def-stats --order random
  cpp-ffi         resumable_bench against our C++ layer at its defaults (no thread/part setting)
  cpp-ffi-mt      the same with --cpp-threads (8) and --part-size
  cpp-ffi-base    the same program as cpp-ffi against another tree's C++ layer and release library
                  (--base-tree DIR: its `cargo build --release --lib` into DIR/target, the program
                  compiled with -IDIR/include and linked with an rpath to DIR/target/release), to
                  compare two states of this library in one run (a change before and after)
  cpp-official    resumable_bench against the official C++ SDK at its defaults (3 x 8 MiB)
  cpp-official-mt the same with --cpp-threads (8) and --part-size
  ref             bench/refreader, the physical reference (no HTTP library: raw sockets, V1-signed
                  ranged GETs written by hand on --ref-connections (--threads) connections, parts of
                  --ref-part-size (--part-size; 0 = one per connection), recv into aligned buffers,
                  crc-fast checked against the server's CRC, O_DIRECT pwrite; rustls for HTTPS);
                  built with cargo from its own workspace into target/refreader; output checked for
                  size and, untimed, SHA-256 against the source
  curl            curl -o FILE (single stream, public-read bucket)
  null            curl -o /dev/null (the network-path limit)
  dd              dd bs=4M conv=fsync into a new file (the disk-path limit; HTTP phase only)
  binding         our Python binding (bindings/python), --threads, with a checkpoint dir
  v2              alibabacloud-oss-v2 downloader, --threads, with a checkpoint
  oss2            oss2.resumable_download, --threads, with a checkpoint store
Mode 2 (scale): threads 1,2,4,8,16,32 at --size, then sizes 64M,256M,1G (+2G,4G with --big) at
--scale-threads: throughput and peak RSS.
Mode 3 (crc): CRC64 on vs off (`--no-crc`), and a download interrupted (SIGINT) at 50% then
resumed vs an uninterrupted one.

Shaped network (run only when named in --modes): the emulator started with its own
shaping flags (emulator/README.md, "Network shaping"), one emulator process per phase.
  shaped         --size (1G) with --latency 20 --connect-latency 20 --conn-rate 25MB/s, once per
                 --total-rate variant (default 100MB/s,none: a 100 MB/s total cap, then no total
                 cap) and protocol; --shaped-tools: cpp-ffi (our C++ layer, defaults), ffi-c
                 (oss_download, its defaults, checkpoint dir), ffi-c-max (oss_download
                 --throughput-target max; skipped with a note when the example refuses it),
                 ffi-c-max-noreissue (the same with --no-reissue; only when named),
                 cpp-official (defaults), cpp-official-tN (N in --official-threads 8,16; part size
                 --part-size), ref (the reference reader), curl; in the --order schedule, --rounds (default one full cycle).
                 Median (min-max) seconds and MB/s, % of the total cap, x the per-connection cap.
                 --throttle 0.1:20: a tenth of the GET answers at a twentieth of --conn-rate (the
                 emulator's throttle fault), for slow connections.
  small          --objects (1000) objects of --small-min..--small-max bytes (64K..1M, sizes from
                 --objects-seed), one resumable download after another in one process per run
                 (bench/cpp/resumable_many.cpp against our C++ layer and the official SDK; curl:
                 one process, a -K list of url/output pairs, sequential, one reused connection),
                 --latency/--connect-latency only (no rate cap); default 2 full cycles. Objects per
                 second, ours / official, wall and CPU (user+sys; user / sys) microseconds per object,
                 median (min-max); every output checked (size + SHA-256 of the source)
                 after its run, untimed.
  shaped-memory  peak RSS of oss_download --threads N (N in --memory-threads 8,32,64) through the
                 shaped emulator of each --total-rate variant, also with --memory-budget BYTES (64M)
                 when the example accepts it (skipped with a note otherwise); --rounds (default 2).
  concurrent     --conc-objects (200) objects of --conc-size (1M) downloaded at
                 once, one process per run, --latency/--connect-latency only: c-async (bench/c/many.c:
                 the asynchronous C API, every transfer started from one thread), c-blocking (the
                 same program, the blocking C API from --pool (16) threads), cpp-ffi-pool and
                 cpp-official-pool (resumable_many --concurrency --pool against our C++ layer and
                 the official SDK). Objects per second and peak RSS; every output checked.
  python3 bench/run.py --modes shaped,small,shaped-memory --no-https --size 64M --rounds 1 --objects 50

Many objects (run only when named in --modes):
  objects        a prefix of --objects (10,000) objects, flat under one prefix, sizes log-uniform in
                 --objects-min..--objects-max (4K..1M; seeded by --objects-seed) or all of
                 --object-size; per variant of --objects-latency (default 20,0: the emulator's
                 --latency 20 with --connect-latency, then loopback without shaping) and protocol,
                 --rounds (default 3) in a random order per round (--seed), each tool lists the
                 prefix and downloads every object into a fresh directory: ffi (ours, the batch:
                 oss_download --prefix P --output-dir D; when the example has no --prefix yet, a
                 PLACEHOLDER: bench/c/many.c's asynchronous C API per key), ffi-abi (the batch
                 through its C ABI, bench/c/batch.c, the client's max_connections
                 --batch-connections (64): the CLI keeps the library's 16), official-cpp
                 (bench/cpp/many_objects.cpp against the official SDK: ListObjects, then
                 GetObject to a file from --objects-threads (16) threads), curl (bench/curl_objects.sh:
                 the listing with curl, then curl --parallel --parallel-max --curl-parallel (64)),
                 oss2 (bench/objects_oss2.py: ObjectIteratorV2 + get_object_to_file from a
                 ThreadPoolExecutor(16)), ffi-single (with --object-size: our single-object path,
                 bench/c/many.c blocking, one object after another). Objects per second median
                 (min-max), wall and CPU microseconds per object, peak RSS. Every output verified
                 after its run, untimed: exactly the expected files (names, sizes, nothing else but
                 our journal), SHA-256 of --objects-verify (1000, or all) against the sources.
  python3 bench/run.py --modes objects --objects 1000 --rounds 1 --no-https --objects-latency 20
  python3 bench/run.py --modes objects --objects 100 --object-size 64M --objects-latency 0

Output: bench/results/runs.csv (every run, with its predecessor), bench/results/summary.csv,
bench/results/summary.md (the tables, the machine, the load) and bench/results/bench.png.
"""

import argparse
import atexit
import csv
import hashlib
import json
import math
import os
import platform
import random
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

sys.path.insert(0, HERE)
import order as orderlib  # noqa: E402  (bench/order.py)
from benchlib import emulator_endpoint, parse_size  # noqa: E402  (bench/benchlib.py)

# --tools ids, in the order of the tables; the protocol phases they take part in.
TOOL_IDS = ["ffi-c", "ffi-c-best", "ffi-c-def", "ffi-c-def-stats", "cpp-ffi", "cpp-ffi-base", "cpp-ffi-mt", "cpp-official", "cpp-official-mt",
            "ref", "curl", "null", "dd", "binding", "v2", "oss2"]
HTTP_ONLY = {"dd"}
# Run only when named in --tools (the cost of the metrics callback: ffi-c-def vs ffi-c-def-stats).
NAMED_ONLY = {"ffi-c-def", "ffi-c-def-stats"}
PY_MODULE = {"v2": "alibabacloud_oss_v2", "oss2": "oss2"}


def size_name(n):
    for unit, m in (("G", 1 << 30), ("M", 1 << 20), ("K", 1 << 10)):
        if n % m == 0:
            return f"{n // m}{unit}"
    return str(n)


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- set-up

def ensure_python_packages(mods=("alibabacloud_oss_v2", "oss2", "matplotlib")):
    """pip-installs bench/requirements.txt when something is missing; returns {name: error}."""
    missing = {}
    for mod in mods:
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
CPP_SRC = os.path.join(HERE, "cpp", "resumable_bench.cpp")
CPP_BIN = {"ffi": os.path.join(REPO, "target/bench/resumable_bench_ffi"),
           "ffi-base": os.path.join(REPO, "target/bench/resumable_bench_ffi_base"),
           "official": os.path.join(REPO, "target/bench/resumable_bench_official")}
# the "small" mode's program: many ResumableDownloadObject calls in one process
CPP_MANY_SRC = os.path.join(HERE, "cpp", "resumable_many.cpp")
CPP_MANY_BIN = {"ffi": os.path.join(REPO, "target/bench/resumable_many_ffi"),
                "official": os.path.join(REPO, "target/bench/resumable_many_official")}
# the "concurrent" mode's C program (the asynchronous and the blocking C API)
C_MANY_SRC = os.path.join(HERE, "c", "many.c")
C_MANY_BIN = os.path.join(REPO, "target/bench/many")
# the objects mode's batch through the C ABI (bench/c/batch.c), while the example has no --prefix
C_BATCH_SRC = os.path.join(HERE, "c", "batch.c")
C_BATCH_BIN = os.path.join(REPO, "target/bench/batch")
# the physical reference reader (bench/refreader: its own cargo workspace, never built by the
# product's `cargo build --workspace`), built into its own target directory
REF_MANIFEST = os.path.join(HERE, "refreader", "Cargo.toml")
REF_TARGET = os.path.join(REPO, "target", "refreader")
REF_BIN = os.path.join(REF_TARGET, "release", "refreader")


def build(args):
    os.makedirs(os.path.dirname(RUSAGE), exist_ok=True)
    subprocess.run(["cc", "-O2", "-o", RUSAGE, os.path.join(HERE, "rusage.c")], check=True)
    if not args.no_build:
        log("building: make examples (release library + C example), cargo build --release -p oss-emulator")
        subprocess.run(["make", "-C", REPO, "examples"], check=True, stdout=subprocess.DEVNULL)
        subprocess.run(["cargo", "build", "--release", "-p", "oss-emulator"], cwd=REPO, check=True,
                       stderr=subprocess.DEVNULL)


def build_ref():
    """bench/refreader (cargo build --release --locked, its own workspace and target directory).
    Returns (binary, None) or (None, why it is not there)."""
    log("building the reference reader: cargo build --release --locked --manifest-path bench/refreader/Cargo.toml")
    r = subprocess.run(["cargo", "build", "--release", "--locked", "--manifest-path", REF_MANIFEST,
                        "--target-dir", REF_TARGET], cwd=REPO, capture_output=True, text=True)
    if r.returncode != 0 or not os.path.exists(REF_BIN):
        why = "bench/refreader does not build:\n" + r.stderr[-3000:]
        log("reference rows skipped: " + why)
        return None, why
    return REF_BIN, None


def build_c_many():
    """The concurrent mode's C program (bench/c/many.c), against the release library; built only
    when that mode runs (it needs the asynchronous C API)."""
    rel = os.path.join(REPO, "target/release")
    subprocess.run(["cc", "-std=c11", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-pedantic",
                    "-I" + os.path.join(REPO, "include"), C_MANY_SRC, "-o", C_MANY_BIN, "-L" + rel,
                    "-loss_ffi", "-Wl,-rpath," + rel, "-pthread"], check=True)


def build_c_batch():
    """bench/c/batch.c against the release library; (binary, None) or (None, why not): the
    library may not have the batch C ABI (oss_client_download_objects) yet."""
    rel = os.path.join(REPO, "target/release")
    r = subprocess.run(["cc", "-std=c11", "-O2", "-g", "-Wall", "-Wextra", "-Werror", "-pedantic",
                        "-I" + os.path.join(REPO, "include"), C_BATCH_SRC, "-o", C_BATCH_BIN, "-L" + rel,
                        "-loss_ffi", "-Wl,-rpath," + rel], capture_output=True, text=True)
    if r.returncode != 0:
        return None, "bench/c/batch.c does not build (no batch C ABI?): " + r.stderr[-1000:]
    return C_BATCH_BIN, None


def build_cpp(want, src=CPP_SRC, bins=CPP_BIN):
    """Builds bench/cpp/resumable_bench.cpp (or src into bins) against our C++ layer ("ffi") and
    against the official C++ SDK ("official", built once into the cache by
    bench/cpp/build-official-sdk.sh). Returns ({which: binary}, {which: why it is not there})."""
    name = os.path.basename(src)
    cxx = os.environ.get("CXX", "c++")
    built, skipped = {}, {}
    if not shutil.which(cxx):
        return built, {w: f"no C++ compiler ({cxx})" for w in want}
    flags = ["-std=c++11", "-O2", "-g", "-Wall", "-Wextra", "-pedantic"]
    if "ffi" in want:
        rel = os.path.join(REPO, "target/release")
        cmd = [cxx] + flags + ["-Werror", "-I" + os.path.join(REPO, "include"), src, "-o", bins["ffi"],
                               "-L" + rel, "-loss_ffi", "-Wl,-rpath," + rel]
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode == 0:
            built["ffi"] = bins["ffi"]
        else:
            skipped["ffi"] = f"{name} does not compile against our C++ layer:\n" + r.stderr[-3000:]
            log("C++ layer rows skipped: " + skipped["ffi"])
    if "official" in want:
        log("official C++ SDK 1.10.1: bench/cpp/build-official-sdk.sh (built once into a cache; "
            "the first build takes minutes)")
        r = subprocess.run([os.path.join(HERE, "cpp", "build-official-sdk.sh")], capture_output=True, text=True)
        for line in r.stderr.splitlines():
            if line.startswith("official C++ SDK"):
                log("  " + line)
        if r.returncode != 0:
            lines = r.stderr.strip().splitlines()
            skipped["official"] = lines[-1] if lines else f"build-official-sdk.sh exited {r.returncode}"
            log("official C++ SDK rows skipped: " + skipped["official"])
        else:
            prefix = r.stdout.strip().splitlines()[-1]
            cmd = [cxx] + flags + ["-I" + os.path.join(prefix, "include"), src, "-o", bins["official"],
                                   "-L" + os.path.join(prefix, "lib"), "-lalibabacloud-oss-cpp-sdk", "-lcurl",
                                   "-lssl", "-lcrypto", "-lpthread"]
            r = subprocess.run(cmd, capture_output=True, text=True)
            if r.returncode == 0:
                built["official"] = bins["official"]
                try:
                    with open(os.path.join(prefix, ".complete")) as f:
                        log(f"  official C++ SDK in {prefix} ({f.read().strip()})")
                except OSError:
                    pass
            else:
                skipped["official"] = f"{name} does not build against the official SDK:\n" + r.stderr[-3000:]
                log("official C++ SDK rows skipped: " + skipped["official"])
    return built, skipped


def build_cpp_base(tree):
    """The cpp-ffi-base program: bench/cpp/resumable_bench.cpp of this tree (the cpp-ffi program)
    against the C++ layer and the release library of another tree (--base-tree), built there with
    `cargo build --release --lib` into its own target/. Returns (binary, label, None) or
    (None, None, why it is not there)."""
    tree = os.path.abspath(tree)
    # its commit only when the tree is a checkout of its own (an exported copy, e.g. `git archive`
    # into a directory inside this worktree, would otherwise show the enclosing checkout's HEAD)
    top = subprocess.run(["git", "-C", tree, "rev-parse", "--show-toplevel"], capture_output=True, text=True)
    rev = subprocess.run(["git", "-C", tree, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    own = top.returncode == 0 and os.path.realpath(top.stdout.strip()) == os.path.realpath(tree)
    label = (rev.stdout.strip() if own else "") or os.path.basename(tree)
    log(f"building the base tree's release library: cargo build --release --lib in {tree} ({label})")
    r = subprocess.run(["cargo", "build", "--release", "--lib", "--manifest-path",
                        os.path.join(tree, "Cargo.toml"), "--target-dir", os.path.join(tree, "target")],
                       capture_output=True, text=True)
    rel = os.path.join(tree, "target", "release")
    if r.returncode != 0 or not os.path.exists(os.path.join(rel, "liboss_ffi.so")):
        why = f"the base tree {tree} does not build:\n" + r.stderr[-3000:]
        log("base tree rows skipped: " + why)
        return None, None, why
    # cargo gives the library its soname (build.rs) but makes no link of that name (make does):
    # without one the program linked against it would not load it
    dyn = subprocess.run(["readelf", "-d", os.path.join(rel, "liboss_ffi.so")], capture_output=True, text=True).stdout
    soname = next((l.split("[")[1].split("]")[0] for l in dyn.splitlines() if "(SONAME)" in l), "")
    if soname and soname != "liboss_ffi.so" and not os.path.lexists(os.path.join(rel, soname)):
        os.symlink("liboss_ffi.so", os.path.join(rel, soname))
    cxx = os.environ.get("CXX", "c++")
    out = CPP_BIN["ffi-base"]
    os.makedirs(os.path.dirname(out), exist_ok=True)
    cmd = [cxx, "-std=c++11", "-O2", "-g", "-Wall", "-Wextra", "-pedantic", "-I" + os.path.join(tree, "include"),
           CPP_SRC, "-o", out, "-L" + rel, "-loss_ffi", "-Wl,-rpath," + rel]
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        why = f"resumable_bench.cpp does not compile against the base tree's C++ layer:\n" + r.stderr[-3000:]
        log("base tree rows skipped: " + why)
        return None, None, why
    # the program must load the base tree's library, not this tree's (same soname)
    ldd = subprocess.run(["ldd", out], capture_output=True, text=True).stdout
    lib = next((l.split("=>")[1].split("(")[0].strip() for l in ldd.splitlines() if "liboss_ffi" in l), "")
    if os.path.dirname(os.path.realpath(lib)) != os.path.realpath(rel):
        why = f"the base program loads {lib or 'no liboss_ffi'}, not {rel} (LD_LIBRARY_PATH set?)"
        log("base tree rows skipped: " + why)
        return None, None, why
    log(f"  cpp-ffi-base: {out} -> {lib}")
    return out, label, None


class Emulator:
    """One oss-emulator process; with tls=True it serves HTTPS with a CA written to ca.pem next to
    the root (a second process on the same root: the same files, so the same page cache)."""

    def __init__(self, root, sizes, tls=False, shaping=(), objects=()):
        """shaping: the emulator's shaping flags (--latency MS ... --total-rate RATE), as given;
        objects: more (key, size) pairs to create (the small mode's objects)."""
        self.root = root
        self.tls = tls
        self.ca = None
        self.shaping = list(shaping)
        os.makedirs(root, exist_ok=True)
        cmd = [os.path.join(REPO, "target/release/oss-emulator"), "--root", root, "--port", "0",
               "--access-key-id", AK, "--access-key-secret", SK, "--public-read", BUCKET]
        for n in sorted(set(sizes)):
            cmd += ["--create-object", f"{BUCKET}/{self.key(n)}:{n}"]
        for key, n in objects:
            cmd += ["--create-object", f"{BUCKET}/{key}:{n}"]
        cmd += self.shaping
        if tls:
            self.ca = os.path.join(os.path.dirname(root), "ca-shaped.pem" if shaping else "ca.pem")
            cmd += ["--tls", "--tls-cert-out", self.ca]
        self.cmd = cmd
        log(f"starting the emulator{' (HTTPS)' if tls else ''} (objects "
            f"{', '.join([size_name(n) for n in sorted(set(sizes))] + ([f'{len(objects)} small ones'] if objects else [])) or 'already there'}"
            f"; created once, cached in {root})"
            f"{' shaped: ' + ' '.join(self.shaping) if self.shaping else ''}")
        self.proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.endpoint = emulator_endpoint(self.proc)
        if tls:
            line = self.proc.stdout.readline().strip()
            if line.startswith("ca certificate "):
                self.ca = line[len("ca certificate "):]

    @staticmethod
    def key(n):
        return f"object-{size_name(n)}.bin"

    def url(self, n):
        return f"{self.endpoint}/{BUCKET}/{self.key(n)}"

    def key_url(self, key):
        return f"{self.endpoint}/{BUCKET}/{key}"

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


# ---------------------------------------------------------------- running one child

def file_digest(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# the child's stdout, stderr and rusage files, per driver process (two bench runs at once, from
# other worktrees, must not read each other's), removed when the driver exits
CHILD_FILES = tuple(f"/tmp/oss-bench-child-{os.getpid()}.{ext}" for ext in ("out", "err", "rusage"))


def _remove_child_files():
    for path in CHILD_FILES:
        try:
            os.remove(path)
        except OSError:
            pass


atexit.register(_remove_child_files)


class Cpu(float):
    """user+sys CPU seconds of a child (bench/rusage.c) that also carries .user, .sys and the
    context switches .nvcsw (voluntary) and .nivcsw (involuntary); a sum of two is a plain float
    (record() then takes the split from `ru`, or leaves it out)."""

    def __new__(cls, total, user=None, sys_=None, nvcsw=None, nivcsw=None):
        c = super().__new__(cls, total)
        c.user, c.sys, c.nvcsw, c.nivcsw = user, sys_, nvcsw, nivcsw
        return c

    def __add__(self, other):
        if isinstance(other, Cpu) and None not in (self.user, other.user):
            return Cpu(float(self) + float(other), self.user + other.user, self.sys + other.sys,
                       self.nvcsw + other.nvcsw, self.nivcsw + other.nivcsw)
        return float(self) + float(other)


def run_child(cmd, env=None, interrupt_after=None):
    """Runs cmd; returns (exit status, wall seconds, cpu seconds (a Cpu: user+sys, with .user and
    .sys), peak RSS KiB, stdout, stderr)."""
    out_path, err_path, ru_path = CHILD_FILES
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
        fields = f.read().split()
    code, cpu, maxrss = fields[:3]
    if len(fields) >= 7:
        cpu = Cpu(float(cpu), float(fields[3]), float(fields[4]), int(fields[5]), int(fields[6]))
    else:  # an rusage binary from before the split
        cpu = Cpu(float(cpu))
    return int(code), wall, cpu, int(maxrss), stdout, stderr


def clear_dir(d):
    """Empties d (the download directory: outputs, temp files, checkpoints of any tool)."""
    os.makedirs(d, exist_ok=True)
    for name in os.listdir(d):
        p = os.path.join(d, name)
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p, ignore_errors=True)
        else:
            os.remove(p)


class Bench:
    def __init__(self, args, emus, work):
        self.args, self.emus, self.work = args, emus, work
        self.emu = emus["http"]
        self.rows = []
        self.example = args.example or os.path.join(REPO, "target/examples/oss_download")
        self.env = dict(os.environ, OSS_ACCESS_KEY_ID=AK, OSS_ACCESS_KEY_SECRET=SK)
        self.out = os.path.join(work, "out.bin")
        self.ckpt = os.path.join(work, "ckpt")
        self.cpp_bins = {}
        self.cpp_many_bins = {}
        self.cpp_obj_bins = {}
        self.obj_log = None  # the objects mode's emulator log (--objects-log), read after each run
        self.ffi_via = "cli"  # how the objects mode runs ours: cli, c-abi (bench/c/batch.c), placeholder
        self.obj_hashed = 0
        self.ref_bin = None
        self.refused = {}  # tool label -> why the example refused its options
        self.root = os.path.join(args.work, "root")
        self.list_file = os.path.join(os.path.dirname(work), "small-list.txt")  # outside the cleared dir
        self.digests = {}
        self.verified = 0
        self.after = ""  # the predecessor recorded with the next row (mode 1)
        self.tool_id = ""  # the --tools id recorded with the next row
        self.variant = ""  # the shaping variant recorded with the next row (shaped modes)

    def prepare(self):
        """The disk-state preparation before every timed run, identical for every tool and
        untimed: the previous run's output (and any temp file or checkpoint) deleted, then sync."""
        clear_dir(self.work)
        os.sync()
        time.sleep(0.3)
        os.makedirs(self.ckpt, exist_ok=True)

    def record(self, mode, tool, size, threads, rnd, seconds, wall, cpu, rss_kib, extra="", proto="http"):
        user, sys_ = getattr(cpu, "user", None), getattr(cpu, "sys", None)
        row = {"mode": mode, "tool": tool, "size": size, "threads": threads, "round": rnd,
               "seconds": round(seconds, 4), "mb_s": round(size / seconds / MB, 1),
               "cpu_s_per_gib": round(cpu / (size / GIB), 3),
               "user_s_per_gib": round(user / (size / GIB), 3) if user is not None else "",
               "sys_s_per_gib": round(sys_ / (size / GIB), 3) if sys_ is not None else "",
               "cpu_s": round(float(cpu), 4),
               "nvcsw": "" if getattr(cpu, "nvcsw", None) is None else cpu.nvcsw,
               "nivcsw": "" if getattr(cpu, "nivcsw", None) is None else cpu.nivcsw,
               "peak_rss_mib": round(rss_kib / 1024, 1),
               "wall_s": round(wall, 4), "extra": extra, "proto": proto,
               "after": self.after if mode in ("compare", "shaped", "small") else "", "tool_id": self.tool_id,
               "variant": self.variant}
        self.rows.append(row)
        log(f"  {mode:8} {tool:40} {size_name(size):>5} t={threads:<3} r{rnd}: {row['mb_s']:8.1f} MB/s "
            f"{row['seconds']:7.3f} s  cpu {row['cpu_s_per_gib']:.2f} s/GiB"
            f"{' (user ' + str(row['user_s_per_gib']) + ' sys ' + str(row['sys_s_per_gib']) + ')' if user is not None else ''}"
            f"  rss {row['peak_rss_mib']:.1f} MiB"
            f"{'  after ' + row['after'] if row['after'] else ''} {extra}")
        return row

    def check_output(self, size, what):
        got = os.path.getsize(self.out) if os.path.exists(self.out) else -1
        if got != size:
            raise SystemExit(f"{what}: the output has {got} bytes, expected {size}")

    def tls_env(self, proto):
        """What makes each tool trust the HTTPS emulator's CA (none of them skips verification)."""
        if proto != "https":
            return {}
        ca = self.emus["https"].ca
        # SSL_CERT_FILE: rustls-native-certs (our library) and OpenSSL; REQUESTS_CA_BUNDLE: the
        # Python SDKs' requests sessions
        return {"SSL_CERT_FILE": ca, "REQUESTS_CA_BUNDLE": ca}

    # -- tools: each returns the recorded row

    def ours(self, mode, size, threads, rnd, crc=True, tool=None, proto="http"):
        self.prepare()
        emu = self.emus[proto]
        cmd = [self.example, "--endpoint", emu.endpoint, "--bucket", BUCKET,
               "--key", emu.key(size), "--output", self.out, "--checkpoint-dir", self.ckpt,
               "--threads", str(threads), "--part-size", str(self.args.part_size), "--progress", "none"]
        if not crc:
            cmd.append("--no-crc")
        rc, wall, cpu, rss, out, err = run_child(cmd, dict(self.env, **self.tls_env(proto)))
        if rc != 0:
            raise SystemExit(f"oss_download failed ({rc}): {err}")
        self.check_output(size, "oss_download")
        # wall time of the whole process (SDK set-up, HEAD, parts, fsync, rename: a few ms more
        # than the example's own "time:" line, which has only 10 ms resolution)
        return self.record(mode, tool or f"oss-ffi (t={threads})", size, threads, rnd, wall, wall, cpu, rss,
                           proto=proto)

    def cpp(self, mode, which, size, threads, rnd, tool, proto="http"):
        """bench/cpp/resumable_bench against our C++ layer (which="ffi") or the official SDK;
        threads=0: the library's defaults (no setThreadNum / setPartSize)."""
        self.prepare()
        emu = self.emus[proto]
        cmd = [self.cpp_bins[which], "--endpoint", emu.endpoint, "--bucket", BUCKET, "--key", emu.key(size),
               "--output", self.out]
        if threads:
            cmd += ["--threads", str(threads), "--part-size", str(self.args.part_size)]
        if self.args.cpp_checkpoint:
            cmd += ["--checkpoint-dir", self.ckpt]
        if proto == "https":
            cmd += ["--ca-file", emu.ca]
        rc, wall, cpu, rss, out, err = run_child(cmd, self.env)
        if rc != 0:
            raise SystemExit(f"resumable_bench ({which}) failed ({rc}): {err[-3000:]}")
        self.check_output(size, f"resumable_bench ({which})")
        res = json.loads(out.strip().splitlines()[-1])
        extra = (f"call {res['seconds']:.3f} s, threads {res['threads']}, part {size_name(res['part_size'])}, "
                 f"{res['progress_calls']} progress calls")
        return self.record(mode, tool, size, res["threads"], rnd, wall, wall, cpu, rss, extra=extra, proto=proto)

    def curl(self, mode, size, rnd, dest=None, proto="http", tool=None):
        self.prepare()
        dest = dest or self.out
        emu = self.emus[proto]
        cmd = ["curl", "-s", "-f", "-o", dest, "-w", "%{time_total}"]
        if proto == "https":
            cmd += ["--cacert", emu.ca]
        rc, wall, cpu, rss, out, err = run_child(cmd + [emu.url(size)])
        if rc != 0:
            raise SystemExit(f"curl failed ({rc}): {err}")
        if dest != "/dev/null":
            self.check_output(size, "curl")
        tool = tool or ("curl -o /dev/null" if dest == "/dev/null" else "curl -o FILE")
        return self.record(mode, tool, size, 1, rnd, float(out), wall, cpu, rss, proto=proto)

    def dd(self, mode, size, rnd, tool="dd conv=fsync"):
        self.prepare()
        bs = 4 << 20
        cmd = ["dd", "if=/dev/zero", f"of={self.out}", f"bs={bs}", f"count={size // bs}", "conv=fsync"]
        rc, wall, cpu, rss, out, err = run_child(cmd)
        if rc != 0:
            raise SystemExit(f"dd failed: {err}")
        return self.record(mode, tool, size, 1, rnd, wall, wall, cpu, rss)

    def ref(self, mode, size, rnd, tool, proto="http"):
        """bench/refreader, the physical reference: raw sockets, hand-written V1-signed ranged GETs
        on --ref-connections connections, parts of --ref-part-size, CRC-64 checked against the
        server's, O_DIRECT pwrite. Its output is checked like every tool's (size), and in addition
        its SHA-256 against the source's (untimed: it is the least used code in the bench)."""
        self.prepare()
        emu = self.emus[proto]
        a = self.args
        conns = a.ref_connections or a.threads
        cmd = [self.ref_bin, "--endpoint", emu.endpoint, "--bucket", BUCKET, "--key", emu.key(size),
               "--output", self.out, "--connections", str(conns)]
        part = a.part_size if a.ref_part_size is None else a.ref_part_size
        if part:
            cmd += ["--part-size", str(part)]
        if not a.ref_direct:
            cmd.append("--no-direct")
        if proto == "https":
            cmd += ["--ca-file", emu.ca]
        rc, wall, cpu, rss, out, err = run_child(cmd, self.env)
        if rc != 0:
            raise SystemExit(f"refreader failed ({rc}): {err[-3000:]}")
        self.check_output(size, "refreader")
        if file_digest(self.out) != self.source_digest(emu.key(size)):
            raise SystemExit("refreader: the output's SHA-256 differs from the source's")
        self.verified += 1
        res = json.loads(out.strip().splitlines()[-1])
        extra = (f"call {res['seconds']:.3f} s, {res['connections']} connections, {res['parts']} parts of "
                 f"{size_name(res['part_size'])}, crc64 {res['crc64']} = server's")
        return self.record(mode, tool, size, res["connections"], rnd, wall, wall, cpu, rss, extra=extra,
                           proto=proto)

    def run_example(self, mode, size, rnd, tool, args=(), proto="http", threads=0):
        """examples-c/oss_download (--example) with a checkpoint dir and only `args` beyond it (no
        --threads/--part-size unless given: the example's own defaults). Returns the row, or None
        when the example refuses an option (exit 2, usage): the caller skips that tool (and it
        is not run again in this bench run)."""
        if tool in self.refused:
            return None
        self.prepare()
        emu = self.emus[proto]
        cmd = [self.example, "--endpoint", emu.endpoint, "--bucket", BUCKET, "--key", emu.key(size),
               "--output", self.out, "--checkpoint-dir", self.ckpt, "--progress", "none"] + list(args)
        rc, wall, cpu, rss, out, err = run_child(cmd, dict(self.env, **self.tls_env(proto)))
        if rc == 2:
            self.refused[tool] = (err.strip().splitlines() or ["usage error"])[0]
            log(f"  {tool}: oss_download refused {' '.join(args)}: {self.refused[tool]} (skipped)")
            return None
        if rc != 0:
            raise SystemExit(f"oss_download {' '.join(args)} failed ({rc}): {err}")
        self.check_output(size, "oss_download")
        return self.record(mode, tool, size, threads, rnd, wall, wall, cpu, rss, proto=proto,
                           extra=" ".join(args))

    def verify_many(self, jobs, what):
        """Untimed: every output of the small mode has the source's size and SHA-256."""
        bad = []
        for key, n, out in jobs:
            got = os.path.getsize(out) if os.path.exists(out) else -1
            if got != n:
                bad.append(f"{key}: {got} bytes, expected {n}")
            elif file_digest(out) != self.source_digest(key):
                bad.append(f"{key}: SHA-256 differs from the source")
        if bad:
            raise SystemExit(f"{what}: {len(bad)} of {len(jobs)} outputs wrong: " + "; ".join(bad[:5]))
        self.verified += len(jobs)

    def source_digest(self, key):
        if key not in self.digests:
            self.digests[key] = file_digest(os.path.join(self.root, BUCKET, key))
        return self.digests[key]

    def many_jobs(self, objects):
        """[(key, size, output path)] for the small mode, outputs in the (cleared) download dir."""
        return [(key, n, os.path.join(self.work, f"{i:05d}.bin")) for i, (key, n) in enumerate(objects)]

    def many_c(self, mode, how, objects, rnd, tool, proto="http"):
        """bench/c/many.c: every object at once through one client, the asynchronous C API from
        one thread (how="async") or the blocking one from --pool threads (how="blocking")."""
        self.prepare()
        emu = self.emus[proto]
        jobs = self.many_jobs(objects)
        with open(self.list_file, "w") as f:
            for key, _, out in jobs:
                f.write(f"{key}\t{out}\n")
        cmd = [C_MANY_BIN, "--endpoint", emu.endpoint, "--bucket", BUCKET, "--list", self.list_file,
               "--mode", how, "--pool", str(self.args.pool)]
        rc, wall, cpu, rss, out, err = run_child(cmd, dict(self.env, **self.tls_env(proto)))
        if rc != 0:
            raise SystemExit(f"many --mode {how} failed ({rc}): {err[-3000:]}")
        res = json.loads(out.strip().splitlines()[-1])
        total = sum(n for _, n, _ in jobs)
        if res["objects"] != len(jobs) or res["bytes"] != total:
            raise SystemExit(f"many --mode {how}: {res} for {len(jobs)} objects of {total} bytes")
        self.verify_many(jobs, f"many --mode {how}")
        return self.record(mode, tool, total, 0, rnd, wall, wall, cpu, rss, proto=proto,
                           extra=f"{len(jobs)} objects, calls {res['seconds']:.3f} s")

    def many_cpp(self, mode, which, objects, rnd, tool, proto="http", concurrency=1):
        """bench/cpp/resumable_many (one process, one client, one ResumableDownloadObject per
        object, one after another, or from `concurrency` threads) against our C++ layer or the
        official SDK, at their defaults."""
        self.prepare()
        emu = self.emus[proto]
        jobs = self.many_jobs(objects)
        with open(self.list_file, "w") as f:
            for key, _, out in jobs:
                f.write(f"{key}\t{out}\n")
        cmd = [self.cpp_many_bins[which], "--endpoint", emu.endpoint, "--bucket", BUCKET, "--list", self.list_file]
        if concurrency > 1:
            cmd += ["--concurrency", str(concurrency)]
        if self.args.cpp_checkpoint:
            cmd += ["--checkpoint-dir", self.ckpt]
        if proto == "https":
            cmd += ["--ca-file", emu.ca]
        rc, wall, cpu, rss, out, err = run_child(cmd, self.env)
        if rc != 0:
            raise SystemExit(f"resumable_many ({which}) failed ({rc}): {err[-3000:]}")
        res = json.loads(out.strip().splitlines()[-1])
        total = sum(n for _, n, _ in jobs)
        if res["objects"] != len(jobs) or res["bytes"] != total:
            raise SystemExit(f"resumable_many ({which}): {res} for {len(jobs)} objects of {total} bytes")
        self.verify_many(jobs, f"resumable_many ({which})")
        return self.record(mode, tool, total, 0, rnd, wall, wall, cpu, rss, proto=proto,
                           extra=f"{len(jobs)} objects, loop {res['seconds']:.3f} s")

    def many_curl(self, mode, objects, rnd, tool, proto="http"):
        """One curl process for all the objects, one after another (a -K config of url/output
        pairs: sequential transfers on one reused connection), public-read bucket."""
        self.prepare()
        emu = self.emus[proto]
        jobs = self.many_jobs(objects)
        with open(self.list_file, "w") as f:
            for key, _, out in jobs:
                f.write(f'url = "{emu.key_url(key)}"\noutput = "{out}"\n')
        cmd = ["curl", "-s", "-f", "-K", self.list_file]
        if proto == "https":
            cmd += ["--cacert", emu.ca]
        rc, wall, cpu, rss, out, err = run_child(cmd)
        if rc != 0:
            raise SystemExit(f"curl -K failed ({rc}): {err[-3000:]}")
        self.verify_many(jobs, "curl -K")
        total = sum(n for _, n, _ in jobs)
        return self.record(mode, tool, total, 1, rnd, wall, wall, cpu, rss, proto=proto,
                           extra=f"{len(jobs)} objects")

    def python_sdk(self, mode, which, size, threads, rnd, proto="http", tool=None):
        self.prepare()
        emu = self.emus[proto]
        cmd = [sys.executable, os.path.abspath(__file__), "--_child", which, "--_endpoint", emu.endpoint,
               "--_key", emu.key(size), "--_out", self.out, "--_ckpt", self.ckpt,
               "--threads", str(threads), "--part-size", str(self.args.part_size)]
        if proto == "https":
            cmd += ["--_ca", emu.ca]
        env = dict(os.environ, OSS_FFI_LIBRARY=os.path.join(REPO, "target/release/liboss_ffi.so"),
                   **self.tls_env(proto))
        rc, wall, cpu, rss, out, err = run_child(cmd, env)
        if rc != 0:
            raise SystemExit(f"{which} failed ({rc}): {err[-3000:]}")
        self.check_output(size, which)
        secs = json.loads(out.strip().splitlines()[-1])["seconds"]
        name = {"v2": "python alibabacloud-oss-v2", "oss2": "python oss2",
                "binding": "python oss_ffi binding"}[which]
        return self.record(mode, tool or f"{name} (t={threads})", size, threads, rnd, secs, wall, cpu, rss,
                           proto=proto)


    # -- the objects mode (a prefix of many objects)

    def objects_warmup(self, prefix, objects, proto):
        """Untimed, before a phase's first run: every object fetched once through the phase's
        emulator into /dev/null (curl --parallel), so that the emulator has read each object's
        metadata and the page cache holds every source file."""
        emu = self.emus[proto]
        with open(self.list_file, "w") as f:
            for key, _ in objects:
                f.write(f'url = "{emu.key_url(key)}"\noutput = "/dev/null"\n')
        cmd = ["curl", "-s", "-f", "--parallel", "--parallel-max", "64", "-K", self.list_file]
        if proto == "https":
            cmd += ["--cacert", emu.ca]
        t0 = time.monotonic()
        r = subprocess.run(cmd, capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit(f"objects warm-up (curl --parallel) failed ({r.returncode}): {r.stderr[-2000:]}")
        log(f"  objects: warm-up of {len(objects)} objects (untimed) {time.monotonic() - t0:.1f} s")

    def objects_run(self, mode, tid, prefix, objects, rnd, proto, tool):
        """One tool downloads the prefix into a fresh directory; its output is verified afterwards
        (untimed; verify_objects). Returns the recorded row."""
        self.prepare()
        a = self.args
        emu = self.emus[proto]
        dest = os.path.join(self.work, "objects")
        os.makedirs(dest)
        env = dict(self.env, **self.tls_env(proto))
        strip = prefix[:prefix.rfind("/") + 1]
        threads = 0
        if tid == "ffi" and self.ffi_via == "cli":
            cmd = [self.example, "--endpoint", emu.endpoint, "--bucket", BUCKET, "--prefix", prefix,
                   "--output-dir", dest, "--progress", "none"] + list(a.ffi_args)
        elif tid == "ffi-abi" or (tid == "ffi" and self.ffi_via == "c-abi"):
            threads = a.batch_connections
            cmd = [C_BATCH_BIN, "--endpoint", emu.endpoint, "--bucket", BUCKET, "--prefix", prefix,
                   "--output-dir", dest, "--connections", str(a.batch_connections)]
        elif tid in ("ffi", "ffi-single"):
            # the placeholder (many.c --mode async: every key at once through one client) or the
            # single-object path (many.c --mode blocking --pool 1): both from the key list the
            # bench writes (no listing); outputs at the batch's local paths
            with open(self.list_file, "w") as f:
                for key, _ in objects:
                    f.write(f"{key}\t{os.path.join(dest, key[len(strip):])}\n")
            how, pool = ("async", a.curl_parallel) if tid == "ffi" else ("blocking", 1)
            threads = pool
            cmd = [C_MANY_BIN, "--endpoint", emu.endpoint, "--bucket", BUCKET, "--list", self.list_file,
                   "--mode", how, "--pool", str(pool)]
        elif tid == "official-cpp":
            threads = a.objects_threads
            cmd = [self.cpp_obj_bins["official"], "--endpoint", emu.endpoint, "--bucket", BUCKET, "--prefix", prefix,
                   "--output-dir", dest, "--threads", str(a.objects_threads)]
            if proto == "https":
                cmd += ["--ca-file", emu.ca]
        elif tid == "curl":
            threads = a.curl_parallel
            cmd = ["sh", CURL_OBJECTS, emu.endpoint, BUCKET, prefix, dest, self.list_file, str(a.curl_parallel)]
            if proto == "https":
                cmd.append(emu.ca)
        elif tid == "oss2":
            threads = a.objects_threads
            cmd = [sys.executable, OSS2_OBJECTS, "--endpoint", emu.endpoint, "--bucket", BUCKET, "--prefix", prefix,
                   "--output-dir", dest, "--threads", str(a.objects_threads)]
        else:
            raise SystemExit(f"unknown objects tool {tid}")
        log_at = os.path.getsize(self.obj_log) if self.obj_log and os.path.exists(self.obj_log) else 0
        t_start = time.time()
        rc, wall, cpu, rss, out, err = run_child(cmd, env)
        t_end = time.time()
        if rc != 0:
            raise SystemExit(f"objects: {tool} failed ({rc}): {err[-3000:]}")
        # the tools that leave their files in the page cache: how long making them durable takes
        # (syncfs of the destination's file system, `sync -f`), measured right after the run and
        # reported beside it (ours syncs inside its run: once per group of objects)
        synced = None
        if tid in ("official-cpp", "curl", "oss2"):
            t = time.monotonic()
            subprocess.run(["sync", "-f", dest], check=True)
            synced = time.monotonic() - t
        seconds, extra = wall, ""
        res = None
        for line in reversed(out.strip().splitlines()):
            if line.startswith("{"):
                try:
                    res = json.loads(line)
                except ValueError:
                    res = None
                break
        if res is not None:
            if tid == "oss2":
                seconds = res["seconds"]
            extra = f"call {res['seconds']:.3f} s" + (f", listing {res['list_seconds']:.3f} s" if "list_seconds" in res else "")
        elif tid == "ffi":
            extra = " ".join(out.strip().splitlines()[-2:])[:300]
        vt = time.monotonic()
        checked = self.verify_objects(dest, prefix, objects, tool, rnd)
        log(f"  objects: {tool}: {len(objects)} outputs verified (sizes; SHA-256 of {checked}) in "
            f"{time.monotonic() - vt:.1f} s (untimed)")
        total = sum(n for _, n in objects)
        row = self.record(mode, tool, total, threads, rnd, seconds, wall, cpu, rss, proto=proto, extra=extra)
        row["syncfs_after_s"] = "" if synced is None else round(synced, 4)
        if self.obj_log:
            time.sleep(0.1)  # entries are appended when an answer completes
            row.update(emulator_log_stats(self.obj_log, log_at, t_start, t_end))
        return row

    def verify_objects(self, dest, prefix, objects, what, rnd):
        """Untimed: dest holds exactly one file per object at the batch's local path (key minus the
        prefix's directory part), of the object's size, and nothing else (no temp file, no
        checkpoint; our journal at the top is allowed); the SHA-256 of --objects-verify of them (a
        seeded sample, or all) equals the source's. Returns how many were hashed."""
        strip = prefix[:prefix.rfind("/") + 1]
        want = {key[len(strip):]: (key, n) for key, n in objects}
        seen, bad = set(), []
        for root, dirs, files in os.walk(dest):
            for name in files:
                path = os.path.join(root, name)
                rel = os.path.relpath(path, dest)
                if root == dest and name.startswith(JOURNAL_PREFIX) and name.endswith(JOURNAL_SUFFIX):
                    continue
                if rel not in want:
                    bad.append(f"unexpected file {rel}")
                    continue
                seen.add(rel)
                got = os.path.getsize(path)
                if got != want[rel][1]:
                    bad.append(f"{rel}: {got} bytes, expected {want[rel][1]}")
        missing = sorted(set(want) - seen)
        bad += [f"missing {rel}" for rel in missing[:5]]
        if bad:
            raise SystemExit(f"objects: {what}: {len(bad) + max(0, len(missing) - 5)} problems in {dest}: "
                             + "; ".join(bad[:8]))
        rels = sorted(want)
        k = self.args.objects_verify
        if k != "all":
            rels = random.Random(f"{self.args.seed}-{rnd}-{what}").sample(rels, min(int(k), len(rels)))
        for rel in rels:
            if file_digest(os.path.join(dest, rel)) != self.source_digest(want[rel][0]):
                raise SystemExit(f"objects: {what}: {rel}: SHA-256 differs from the source")
        self.verified += len(objects)
        self.obj_hashed += len(rels)
        return len(rels)

# ---------------------------------------------------------------- the Python SDK children

def child_main(a):
    """Runs inside a child process (so its CPU and RSS are the SDK's own). Over HTTPS the SDKs'
    requests sessions trust the emulator's CA through REQUESTS_CA_BUNDLE (set by the driver), our
    binding through ca_file."""
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
        tls = {"ca_file": a._ca} if a._ca else {}
        with oss_ffi.Client(a._endpoint, credentials=(AK, SK), signature_version="v1", **tls) as c:
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


def tool_label(tid, a, best):
    t, ct = a.threads, a.cpp_threads
    return {"ffi-c": f"oss-ffi C oss_download (t={t})",
            "ffi-c-best": f"oss-ffi C oss_download (t={best}, best of sweep)",
            "ffi-c-def": "oss-ffi C oss_download (defaults)",
            "ffi-c-def-stats": "oss-ffi C oss_download (defaults) --stats (a metrics callback)",
            "cpp-ffi": "oss-ffi C++ layer (defaults)",
            "cpp-ffi-base": f"oss-ffi C++ layer, base tree {getattr(a, 'base_label', None) or '?'} (defaults)",
            "cpp-ffi-mt": f"oss-ffi C++ layer (t={ct})",
            "cpp-official": "official C++ SDK 1.10.1 (defaults)",
            "cpp-official-mt": f"official C++ SDK 1.10.1 (t={ct})",
            "ref": (f"reference reader (c={a.ref_connections or t}, "
                    + (f"parts of {size_name(a.ref_part_size)})" if a.ref_part_size
                       else "one part per connection)" if a.ref_part_size == 0
                       else f"parts of {size_name(a.part_size)})")),
            "curl": "curl -o FILE",
            "null": "curl -o /dev/null",
            "dd": "dd conv=fsync",
            "binding": f"python oss_ffi binding (t={t})",
            "v2": f"python alibabacloud-oss-v2 (t={t})",
            "oss2": f"python oss2 (t={t})"}[tid]


def selected_tools(a, best=None, ids=None):
    """The --tools ids (or ids) in table order, without ffi-c-best when it would equal ffi-c."""
    if ids is None:
        ids = ([t for t in TOOL_IDS
                if (t != "cpp-ffi-base" or getattr(a, "base_tree", None)) and t not in NAMED_ONLY]
               if a.tools in (None, "", "all") else [x.strip() for x in a.tools.split(",") if x.strip()])
    unknown = [x for x in ids if x not in TOOL_IDS]
    if unknown:
        raise SystemExit(f"unknown --tools {', '.join(unknown)}; known: {', '.join(TOOL_IDS)}")
    ids = [t for t in TOOL_IDS if t in ids]
    best = best if best is not None else a.best_threads
    if "ffi-c-best" in ids and best and best == a.threads and "ffi-c" in ids:
        ids.remove("ffi-c-best")
    return ids


def phases(a, ids):
    """[(proto, [tool ids])]: the HTTP phase, then the HTTPS one (without the HTTP-only tools)."""
    out = [("http", list(ids))] if a.http else []
    if a.https:
        out.append(("https", [t for t in ids if t not in HTTP_ONLY]))
    return [(p, t) for p, t in out if t]


def phase_schedule(a, ids):
    rounds = a.rounds or orderlib.full_cycle(len(ids))
    lead, sched = orderlib.schedule(ids, rounds, a.order, a.seed)
    return rounds, lead, sched


def describe_order(a, proto, ids, rounds, lead, sched):
    exact, lo, hi = orderlib.balance(ids, lead, sched)
    full = orderlib.full_cycle(len(ids))
    if exact:
        bal = f"every tool follows every other tool exactly {lo} time(s)"
    else:
        bal = f"predecessor counts {lo}..{hi} (exact balance needs a multiple of {full} rounds with --order balanced)"
    idle = any(orderlib.IDLE in r for r in sched)
    return (f"{proto.upper()}: {len(ids)} tools, {rounds} rounds, order {a.order}"
            f"{' (seed ' + str(a.seed) + ')' if a.order == 'random' else ''}"
            f"{', an idle slot (delete + sync + ' + str(a.idle_seconds) + ' s pause) starts each round' if idle else ''}"
            f"{', untimed lead-in run of ' + lead if lead else ''}: {bal}.")


def run_slot(b, tid, proto, rnd, best, mode="compare"):
    a, size = b.args, b.args.size
    label = tool_label(tid, a, best)
    if tid == "ffi-c":
        return b.ours(mode, size, a.threads, rnd, tool=label, proto=proto)
    if tid == "ffi-c-best":
        return b.ours(mode, size, best, rnd, tool=label, proto=proto)
    if tid == "ffi-c-def":
        return b.run_example(mode, size, rnd, label, proto=proto)
    if tid == "ffi-c-def-stats":
        return b.run_example(mode, size, rnd, label, args=["--stats"], proto=proto)
    if tid == "cpp-ffi-base":
        return b.cpp(mode, "ffi-base", size, 0, rnd, label, proto=proto)
    if tid in ("cpp-ffi", "cpp-ffi-mt", "cpp-official", "cpp-official-mt"):
        which = "ffi" if tid.startswith("cpp-ffi") else "official"
        return b.cpp(mode, which, size, a.cpp_threads if tid.endswith("-mt") else 0, rnd, label, proto=proto)
    if tid == "ref":
        return b.ref(mode, size, rnd, label, proto=proto)
    if tid == "curl":
        return b.curl(mode, size, rnd, proto=proto, tool=label)
    if tid == "null":
        return b.curl(mode, size, rnd, dest="/dev/null", proto=proto, tool=label)
    if tid == "dd":
        return b.dd(mode, size, rnd, tool=label)
    return b.python_sdk(mode, tid, size, a.threads, rnd, proto=proto, tool=label)


def mode_compare(b, py_failed, cpp_skipped, ref_skipped=None):
    """Returns (rows, best threads, {proto: (ids, rounds, lead, schedule)}, {tool id: why skipped})."""
    a = b.args
    size = a.size
    skipped = {}
    ids = selected_tools(a)
    for tid in ids:
        if tid in PY_MODULE and PY_MODULE[tid] in py_failed:
            skipped[tid] = f"{PY_MODULE[tid]}: {py_failed[PY_MODULE[tid]]}"
        elif tid == "cpp-ffi-base":
            if "ffi-base" in cpp_skipped:
                skipped[tid] = cpp_skipped["ffi-base"]
        elif tid.startswith("cpp-ffi") and "ffi" in cpp_skipped:
            skipped[tid] = cpp_skipped["ffi"]
        elif tid.startswith("cpp-official") and "official" in cpp_skipped:
            skipped[tid] = cpp_skipped["official"]
        elif tid == "ref" and ref_skipped:
            skipped[tid] = ref_skipped
    ids = [t for t in ids if t not in skipped]
    log(f"mode 1 (compare): {size_name(size)}, part size {size_name(a.part_size)}, tools {', '.join(ids)}")
    for tid, why in skipped.items():
        log(f"  not measured: {tid}: {why.splitlines()[0]}")
    b.curl("warmup", size, 0, dest="/dev/null")  # page-caches the object on the server side
    best = a.best_threads or a.threads
    if "ffi-c-best" in ids and not a.best_threads:
        log("quick sweep for the best thread count")
        sweep = {}
        for t in (2, 4, 8, 16):
            sweep[t] = statistics.median(b.ours("sweep", size, t, r)["mb_s"] for r in range(2))
        best = max(sweep, key=sweep.get)
    log(f"best thread count: {best}")
    ids = selected_tools(a, best, ids)
    rows, orders = [], {}
    for proto, pids in phases(a, ids):
        rounds, lead, sched = phase_schedule(a, pids)
        orders[proto] = (pids, rounds, lead, sched)
        log("mode 1 order: " + describe_order(a, proto, pids, rounds, lead, sched))
        b.after = ""
        b.curl("warmup", size, 0, dest="/dev/null", proto=proto)
        prev = "warmup"
        if lead:
            b.tool_id = lead
            run_slot(b, lead, proto, 0, best, mode="lead-in")
            prev = lead
        for rnd, slots in enumerate(sched, 1):
            for slot in slots:
                if slot == orderlib.IDLE:
                    b.prepare()
                    time.sleep(a.idle_seconds)
                else:
                    b.after, b.tool_id = prev, slot
                    rows.append(run_slot(b, slot, proto, rnd, best))
                prev = slot
        b.after = b.tool_id = ""
    return rows, best, orders, skipped


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
    rounds = a.rounds or 5
    log(f"mode 3 (crc): CRC64 on/off at {size_name(size)}, {t} threads, {rounds} rounds")
    for rnd in range(1, rounds + 1):
        order = [True, False] if rnd % 2 else [False, True]
        for crc in order:
            rows.append(b.ours("crc", size, t, rnd, crc=crc, tool="oss-ffi crc on" if crc else "oss-ffi crc off"))
    log("mode 3 (resume): interrupted at 50% then resumed vs uninterrupted")
    for rnd in range(1, rounds + 1):
        full = b.ours("resume", size, t, rnd, tool="oss-ffi uninterrupted")
        rows.append(full)
        b.prepare()
        cmd = [b.example, "--endpoint", b.emu.endpoint, "--bucket", BUCKET, "--key", b.emu.key(size),
               "--output", b.out, "--checkpoint-dir", b.ckpt, "--threads", str(t),
               "--part-size", str(a.part_size), "--progress", "lines"]
        rc1, wall1, cpu1, rss1, _, _ = run_child(cmd, b.env, interrupt_after=full["seconds"] / 2)
        if rc1 == 0:  # finished before the signal: nothing to resume
            log("  (the download finished before the interrupt; round skipped)")
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
    return rows


# ---------------------------------------------------------------- shaped network

def parse_rate(s):
    """The emulator's RATE syntax (emulator/README.md): a number with K/M/G or KiB/MiB/GiB (powers
    of 1024) or KB/MB/GB (powers of 1000), optionally followed by /s. Returns bytes per second."""
    t = s.strip()
    if t.lower().endswith("/s"):
        t = t[:-2]
    units = (("KIB", 1 << 10), ("MIB", 1 << 20), ("GIB", 1 << 30), ("KB", 10 ** 3), ("MB", 10 ** 6),
             ("GB", 10 ** 9), ("K", 1 << 10), ("M", 1 << 20), ("G", 1 << 30))
    for suffix, mult in units:
        if t.upper().endswith(suffix):
            return int(float(t[:-len(suffix)]) * mult)
    return int(t)


def rate_name(bps):
    return f"{bps / MB:g} MB/s"


def shaped_variants(a):
    """[(name, total rate string or None)] from --total-rate (a comma list; "none" = no total cap)."""
    out = []
    for v in a.total_rate.split(","):
        v = v.strip()
        if not v:
            continue
        if v.lower() in ("none", "off", "0", "no"):
            out.append(("no total cap", None))
        else:
            out.append((f"total cap {rate_name(parse_rate(v))}", v))
    return out


def shaping_flags(a, total=None, rates=True):
    """The emulator's shaping flags of a shaped-mode phase (the interface: emulator/README.md)."""
    flags = ["--latency", str(a.latency), "--connect-latency", str(a.connect_latency)]
    if a.jitter:
        flags += ["--jitter", str(a.jitter), "--seed", str(a.seed)]
    if rates and a.conn_rate.lower() not in ("none", "off", ""):
        flags += ["--conn-rate", a.conn_rate]
    if rates and total:
        flags += ["--total-rate", total]
    if getattr(a, "throttle", None):
        flags += throttle_flags(a)
    return flags


def throttle_flags(a):
    """--throttle FRACTION[:DIVISOR] (e.g. 0.1:20): the emulator's `throttle` fault on that fraction
    of the object GETs, each sent at --conn-rate / DIVISOR (default 20), seeded by --seed."""
    frac, _, div = a.throttle.partition(":")
    conn = parse_rate(a.conn_rate) if a.conn_rate.lower() not in ("none", "off", "") else None
    if conn is None:
        raise SystemExit("--throttle needs a --conn-rate (the throttled answers get a share of it)")
    rule = {"kind": "throttle", "bytes_per_sec": max(1, conn // int(div or 20)),
            "probability": float(frac), "method": "GET", "listing": False}
    return ["--fault", json.dumps(rule), "--seed", str(a.seed)]


def protocols(a):
    return (["http"] if a.http else []) + (["https"] if a.https else [])


def shaped_tool_ids(a):
    """The shaped mode's tool ids (--shaped-tools; default all): cpp-ffi, ffi-c, ffi-c-max,
    cpp-official, cpp-official-tN for N in --official-threads, curl."""
    every = (["cpp-ffi", "ffi-c", "ffi-c-max", "cpp-official"] +
             [f"cpp-official-t{n}" for n in a.official_threads] + ["ref", "curl"])
    if a.shaped_tools in (None, "", "all"):
        return every
    # Named only: oss_download --throughput-target max without re-requests of slow parts.
    every.append("ffi-c-max-noreissue")
    ids = [x.strip() for x in a.shaped_tools.split(",") if x.strip()]
    bad = [x for x in ids if x not in every and not (x.startswith("cpp-official-t") and x[14:].isdigit())]
    if bad:
        raise SystemExit(f"unknown --shaped-tools {', '.join(bad)}; known: {', '.join(every)} (cpp-official-tN)")
    return ids


SMALL_TOOL_IDS = ["cpp-ffi", "cpp-official", "curl"]


def pick_tools(spec, known, flag):
    """The tool ids a comma list `spec` of `flag` names ("all" or empty: every one of `known`)."""
    if spec in (None, "", "all"):
        return list(known)
    ids = [x.strip() for x in spec.split(",") if x.strip()]
    bad = [x for x in ids if x not in known]
    if bad:
        raise SystemExit(f"unknown {flag} {', '.join(bad)}; known: {', '.join(known)}")
    return ids


def small_tool_ids(a):
    return pick_tools(a.small_tools, SMALL_TOOL_IDS, "--small-tools")


def small_objects(a):
    """The small mode's objects: --objects keys with sizes uniform in [--small-min, --small-max]
    bytes, from random.Random(--objects-seed); the size is part of the key, so that a cached file
    of another size is never taken for the object."""
    rng = random.Random(a.objects_seed)
    lo, hi = a.small_min, a.small_max
    out = []
    for i in range(a.objects if a.objects is not None else 1000):
        n = rng.randint(lo, hi)
        out.append((f"small/s{a.objects_seed}-{i:05d}-{n}.bin", n))
    return out


CONC_TOOL_IDS = ["c-async", "c-blocking", "cpp-ffi-pool", "cpp-official-pool"]


def conc_tool_ids(a):
    return pick_tools(a.conc_tools, CONC_TOOL_IDS, "--conc-tools")


def conc_objects(a):
    """The concurrent mode's objects: --conc-objects keys of --conc-size bytes."""
    return [(f"conc/c-{i:04d}-{a.conc_size}.bin", a.conc_size) for i in range(a.conc_objects)]


def example_accepts(example, flag, value):
    """(True, "") when examples-c/oss_download accepts `flag value` (probed as `oss_download flag
    value --help`: exit 0 once the option is parsed), else (False, why)."""
    try:
        r = subprocess.run([example, flag, value, "--help"], capture_output=True, text=True, timeout=30)
    except OSError as e:
        return False, f"cannot run {example}: {e}"
    if r.returncode == 0 and flag not in r.stderr:
        return True, ""
    why = (r.stderr.strip().splitlines() or [f"exit status {r.returncode}"])[0]
    return False, f"{os.path.basename(example)} does not accept {flag} {value} ({why})"


def shaped_label(tid, a):
    if tid.startswith("cpp-official-t"):
        return f"official C++ SDK 1.10.1 (t={tid[14:]})"
    return {"cpp-ffi": "oss-ffi C++ layer (defaults)",
            "ffi-c": "oss-ffi C oss_download (defaults)",
            "ffi-c-max": "oss-ffi C oss_download --throughput-target max",
            "ffi-c-max-noreissue": "oss-ffi C oss_download --throughput-target max --no-reissue",
            "cpp-official": "official C++ SDK 1.10.1 (defaults)",
            "ref": tool_label("ref", a, 0),
            "curl": "curl -o FILE"}[tid]


def run_shaped_slot(b, tid, proto, rnd, mode="shaped"):
    a, size = b.args, b.args.size
    label = shaped_label(tid, a)
    if tid == "ffi-c":
        return b.run_example(mode, size, rnd, label, proto=proto)
    if tid == "ffi-c-max":
        return b.run_example(mode, size, rnd, label, args=["--throughput-target", "max"], proto=proto)
    if tid == "ffi-c-max-noreissue":
        return b.run_example(mode, size, rnd, label, args=["--throughput-target", "max", "--no-reissue"],
                             proto=proto)
    if tid == "cpp-ffi":
        return b.cpp(mode, "ffi", size, 0, rnd, label, proto=proto)
    if tid == "cpp-official":
        return b.cpp(mode, "official", size, 0, rnd, label, proto=proto)
    if tid.startswith("cpp-official-t"):
        return b.cpp(mode, "official", size, int(tid[14:]), rnd, label, proto=proto)
    if tid == "ref":
        return b.ref(mode, size, rnd, label, proto=proto)
    if tid == "curl":
        return b.curl(mode, size, rnd, proto=proto, tool=label)
    raise SystemExit(f"unknown shaped tool {tid}")


class ShapedPhase:
    """A shaped emulator (HTTP or HTTPS) for one phase: `with ShapedPhase(b, flags, proto):` puts
    it in b.emus[proto] and stops it at the end (one process per phase, so that its buckets
    start full and only this phase's connections share the total cap)."""

    def __init__(self, b, flags, proto):
        self.b, self.flags, self.proto = b, flags, proto

    def __enter__(self):
        self.saved = self.b.emus
        self.emu = Emulator(self.b.root, [], tls=self.proto == "https", shaping=self.flags)
        self.b.emus = dict(self.saved, **{self.proto: self.emu})
        return self.emu

    def __exit__(self, *exc):
        self.emu.stop()
        self.b.emus = self.saved
        return False


def run_schedule(b, mode, ids, proto, runner, rounds=None):
    """Runs one phase's balanced/rotated/random schedule (bench/order.py, --order; --rounds, or
    `rounds`, or one full balanced cycle); returns (rows, (ids, rounds, lead, schedule))."""
    a = b.args
    rounds = a.rounds or rounds or orderlib.full_cycle(len(ids))
    lead, sched = orderlib.schedule(ids, rounds, a.order, a.seed)
    log(f"{mode} order: " + describe_order(a, proto, ids, rounds, lead, sched))
    rows = []
    b.after = ""
    prev = "(start)"
    if lead:
        b.tool_id = lead
        runner(lead, 0, "lead-in")
        prev = lead
    for rnd, slots in enumerate(sched, 1):
        for slot in slots:
            if slot == orderlib.IDLE:
                b.prepare()
                time.sleep(a.idle_seconds)
            else:
                b.after, b.tool_id = prev, slot
                row = runner(slot, rnd, mode)
                if row is not None:
                    rows.append(row)
            prev = slot
    b.after = b.tool_id = ""
    return rows, (ids, rounds, lead, sched)


def mode_shaped(b, cpp_skipped, ref_skipped=None):
    """(a) 1 GiB (--size) through the shaped emulator, each --total-rate variant, each protocol:
    our defaults, our throughput-target mode, the official SDK at its defaults and at
    --official-threads, curl. Returns (rows, [(variant, total, proto, order)], {tool: why skipped})."""
    a = b.args
    skipped = {}
    ids = shaped_tool_ids(a)
    for tid in ids:
        if tid == "cpp-ffi" and "ffi" in cpp_skipped:
            skipped[tid] = cpp_skipped["ffi"]
        elif tid.startswith("cpp-official") and "official" in cpp_skipped:
            skipped[tid] = cpp_skipped["official"]
        elif tid == "ref" and ref_skipped:
            skipped[tid] = ref_skipped
    if "ffi-c-max" in ids:
        ok, why = example_accepts(b.example, "--throughput-target", "max")
        if not ok:
            skipped["ffi-c-max"] = why
    ids = [t for t in ids if t not in skipped]
    for tid, why in skipped.items():
        log(f"  shaped: not measured: {tid}: {why.splitlines()[0]}")
    rows, phases_run = [], []
    for vname, total in shaped_variants(a):
        flags = shaping_flags(a, total)
        for proto in protocols(a):
            log(f"mode shaped: {size_name(a.size)}, {vname}, {proto.upper()}, emulator {' '.join(flags)}, "
                f"tools {', '.join(ids)}")
            b.variant = vname
            with ShapedPhase(b, flags, proto):
                prows, order = run_schedule(b, "shaped", ids, proto,
                                            lambda tid, rnd, mode: run_shaped_slot(b, tid, proto, rnd, mode))
            rows += prows
            phases_run.append((vname, total, proto, flags, order))
    b.variant = ""
    for tool, why in b.refused.items():
        skipped.setdefault(tool, why)
    return rows, phases_run, skipped


def mode_small(b, cpp_skipped):
    """(b) --objects objects of --small-min..--small-max bytes, one resumable download after
    another in one process per tool run, through an emulator with --latency/--connect-latency
    (no rate caps). Returns (rows, [(proto, flags, order)], {tool: why skipped})."""
    a = b.args
    objects = small_objects(a)
    skipped = {}
    ids = small_tool_ids(a)
    for tid in ids:
        if tid.startswith("cpp-"):
            which = "ffi" if tid == "cpp-ffi" else "official"
            if which in cpp_skipped:
                skipped[tid] = cpp_skipped[which]
    ids = [t for t in ids if t not in skipped]
    total = sum(n for _, n in objects)
    log(f"mode small: {len(objects)} objects, {size_name(a.small_min)}..{size_name(a.small_max)} "
        f"(seed {a.objects_seed}), {total / MB:.1f} MB; hashing the sources (untimed)")
    for key, _ in objects:  # the SHA-256 of every source, once; also page-caches them
        b.source_digest(key)
    labels = {"cpp-ffi": "oss-ffi C++ layer (defaults), resumable_many",
              "cpp-official": "official C++ SDK 1.10.1 (defaults), resumable_many",
              "curl": "curl -K (one process, sequential URLs)"}

    def runner(tid, rnd, mode, proto):
        if tid == "curl":
            return b.many_curl(mode, objects, rnd, labels[tid], proto=proto)
        return b.many_cpp(mode, "ffi" if tid == "cpp-ffi" else "official", objects, rnd, labels[tid], proto=proto)

    rows, phases_run = latency_phases(b, "small", ids, runner, len(objects))
    return rows, phases_run, skipped


def latency_phases(b, mode, ids, runner, objects):
    """One phase per protocol through an emulator with --latency/--connect-latency only (no rate
    cap), two full balanced cycles of `ids` unless --rounds says otherwise; `runner(tid, rnd,
    mode, proto)` runs one tool. Returns (rows, [(proto, flags, order)]), each row marked with
    the number of objects."""
    a = b.args
    rows, phases_run = [], []
    flags = shaping_flags(a, rates=False)
    for proto in protocols(a):
        log(f"mode {mode}: {proto.upper()}, emulator {' '.join(flags)}, tools {', '.join(ids)}")
        b.variant = "latency only"
        with ShapedPhase(b, flags, proto):
            prows, order = run_schedule(b, mode, ids, proto,
                                        lambda tid, rnd, m: runner(tid, rnd, m, proto),
                                        rounds=2 * orderlib.full_cycle(len(ids)))
        rows += prows
        phases_run.append((proto, flags, order))
    b.variant = ""
    for r in rows:
        r["objects"] = objects
    return rows, phases_run


def mode_concurrent(b, many_skipped):
    """--conc-objects objects of --conc-size downloaded at once: the asynchronous
    C API from one thread, the blocking C API from --pool threads, our C++ layer and the official
    SDK from --pool threads, through an emulator with --latency/--connect-latency. Returns (rows,
    [(proto, flags, order)], {tool: why skipped})."""
    a = b.args
    objects = conc_objects(a)
    skipped = {}
    ids = conc_tool_ids(a)
    for tid in ids:
        if tid.startswith("cpp-"):
            which = "ffi" if tid == "cpp-ffi-pool" else "official"
            if which in many_skipped:
                skipped[tid] = many_skipped[which]
    ids = [t for t in ids if t not in skipped]
    log(f"mode concurrent: {len(objects)} objects of {size_name(a.conc_size)}, pool {a.pool}; hashing the sources")
    for key, _ in objects:
        b.source_digest(key)

    def runner(tid, rnd, mode, proto):
        label = conc_label(tid, a)
        if tid == "c-async":
            return b.many_c(mode, "async", objects, rnd, label, proto=proto)
        if tid == "c-blocking":
            return b.many_c(mode, "blocking", objects, rnd, label, proto=proto)
        which = "ffi" if tid == "cpp-ffi-pool" else "official"
        return b.many_cpp(mode, which, objects, rnd, label, proto=proto, concurrency=a.pool)

    rows, phases_run = latency_phases(b, "concurrent", ids, runner, len(objects))
    return rows, phases_run, skipped


def conc_label(tid, a):
    return {"c-async": "oss-ffi asynchronous C API, one thread",
            "c-blocking": f"oss-ffi blocking C API, {a.pool} threads",
            "cpp-ffi-pool": f"oss-ffi C++ layer, {a.pool} threads",
            "cpp-official-pool": f"official C++ SDK 1.10.1, {a.pool} threads"}[tid]


# ---------------------------------------------------------------- many objects (a prefix)

# the objects mode's tools: ours (the batch: oss_download --prefix), the official C++ SDK looped
# over the keys by a program of its own (bench/cpp/many_objects.cpp), curl --parallel after a
# curl listing (bench/curl_objects.sh), Python oss2 with a thread pool (bench/objects_oss2.py),
# and the single-object path of this library one object after another (bench/c/many.c, blocking,
# one thread) for the large-object comparison
OBJ_TOOL_IDS = ["ffi", "ffi-abi", "official-cpp", "curl", "oss2", "ffi-single"]
CPP_OBJ_SRC = os.path.join(HERE, "cpp", "many_objects.cpp")
CPP_OBJ_BIN = {"official": os.path.join(REPO, "target/bench/many_objects_official")}
CURL_OBJECTS = os.path.join(HERE, "curl_objects.sh")
OSS2_OBJECTS = os.path.join(HERE, "objects_oss2.py")
# what our batch leaves in the destination besides the objects: its journal (design: kept after
# the batch, `.oss-ffi-batch-<16 hex>.journal`); anything else left there fails the verification
JOURNAL_PREFIX, JOURNAL_SUFFIX = ".oss-ffi-batch-", ".journal"


def emulator_log_stats(path, offset, t0, t1):
    """What the emulator's request log (--log; one JSON line per answer, `time` = arrival in ms,
    `shaping_delay_us` = its wait) says about one run that started at t0 and ended at t1 (Unix
    time): requests by kind, the time from the start to the first object GET and from the last
    object GET's arrival to the exit, and the mean number of requests waiting for their answer
    (the shaping waits summed over the span of object GET arrivals, Little's law: a lower bound of
    the requests in flight)."""
    import datetime
    with open(path, "rb") as f:
        f.seek(offset)
        entries = [json.loads(line) for line in f.read().decode().splitlines() if line.strip()]

    def at(e):
        return datetime.datetime.strptime(e["time"], "%Y-%m-%dT%H:%M:%S.%fZ").replace(
            tzinfo=datetime.timezone.utc).timestamp()

    lists = [e for e in entries if e["method"] == "GET" and not e["key"]]
    gets = [e for e in entries if e["method"] == "GET" and e["key"]]
    heads = [e for e in entries if e["method"] == "HEAD"]
    out = {"log_requests": len(entries), "log_lists": len(lists), "log_gets": len(gets), "log_heads": len(heads),
           "log_not_ok": sum(1 for e in entries if e["status"] not in (200, 206))}
    if gets:
        arr = sorted(at(e) for e in gets)
        span = max(arr[-1] - arr[0], 1e-3)
        out.update(log_first_get_s=round(arr[0] - t0, 3), log_tail_s=round(t1 - arr[-1], 3),
                   log_waiting=round(sum(e.get("shaping_delay_us", 0) for e in gets) / 1e6 / span, 1))
    return out


def objects_count(a):
    return a.objects if a.objects is not None else 10000


def objects_set(a):
    """(prefix, [(key, size)]): --objects keys (default 10,000) under one prefix, flat. Sizes:
    --object-size for all, or else log-uniform between --objects-min and --objects-max (4K..1M:
    as many objects of 4-16 KiB as of 16-64 KiB, 64-256 KiB and 256 KiB-1 MiB), drawn from
    random.Random(--objects-seed). The prefix names the set (count, sizes, seed), so that a
    listing of it returns exactly these keys and a cached object of another set is never taken."""
    n = objects_count(a)
    if a.object_size:
        prefix = f"objects/n{n}-{size_name(a.object_size)}/"
        return prefix, [(f"{prefix}o-{i:05d}.bin", a.object_size) for i in range(n)]
    rng = random.Random(a.objects_seed)
    lo, hi = a.objects_min, a.objects_max
    prefix = f"objects/s{a.objects_seed}-n{n}-{size_name(lo)}-{size_name(hi)}/"
    out = []
    for i in range(n):
        size = min(hi, max(lo, int(round(math.exp(rng.uniform(math.log(lo), math.log(hi)))))))
        out.append((f"{prefix}o-{i:05d}-{size}.bin", size))
    return prefix, out


def objects_mix_text(a, objects):
    sizes = [n for _, n in objects]
    total = sum(sizes)
    if a.object_size:
        return f"{len(objects)} objects of {size_name(a.object_size)} ({total / MB:.1f} MB)"
    return (f"{len(objects)} objects, sizes log-uniform in {size_name(a.objects_min)}..{size_name(a.objects_max)} "
            f"(seed {a.objects_seed}; median {statistics.median(sizes) / 1024:.0f} KiB, mean "
            f"{total / len(sizes) / 1024:.0f} KiB, {total / MB:.1f} MB in all)")


def obj_tool_ids(a):
    default = ["ffi", "ffi-abi", "official-cpp", "curl", "oss2"] + (["ffi-single"] if a.object_size else [])
    if a.objects_tools in (None, "", "all"):
        return default
    return pick_tools(a.objects_tools, OBJ_TOOL_IDS, "--objects-tools")


def obj_label(tid, a, via="cli"):
    if tid == "ffi" and via == "placeholder":
        return "PLACEHOLDER: oss-ffi asynchronous C API per key (bench/c/many.c), not the batch"
    if tid == "ffi" and via == "c-abi":
        return (f"**oss-ffi batch: oss_client_download_objects (bench/c/batch.c, {a.batch_connections} "
                "connections)**")
    return {"ffi": "**oss-ffi batch: oss_download --prefix (defaults)**",
            "ffi-abi": (f"**oss-ffi batch, C ABI with {a.batch_connections} connections "
                        "(bench/c/batch.c)**"),
            "official-cpp": f"official C++ SDK 1.10.1, ListObjects + GetObject, {a.objects_threads} threads",
            "curl": f"curl listing + curl --parallel --parallel-max {a.curl_parallel}",
            "oss2": f"python oss2 {oss2_version()}, ObjectIteratorV2 + get_object_to_file, ThreadPoolExecutor({a.objects_threads})",
            "ffi-single": "oss-ffi single-object path, one object after another (blocking C API, defaults)"}[tid]


_OSS2_VERSION = []


def oss2_version():
    if not _OSS2_VERSION:
        r = subprocess.run([sys.executable, "-c", "import oss2; print(oss2.__version__)"], capture_output=True,
                           text=True)
        _OSS2_VERSION.append(r.stdout.strip() if r.returncode == 0 else "?")
    return _OSS2_VERSION[0]


def ffi_budget(a):
    """The memory budget of our client in the objects mode: --ffi-arg --memory-budget SIZE, or the
    library's default (64 MiB)."""
    args = list(a.ffi_args)
    for i, x in enumerate(args):
        if x == "--memory-budget" and i + 1 < len(args):
            return parse_size(args[i + 1])
        if x.startswith("--memory-budget="):
            return parse_size(x.split("=", 1)[1])
    return 64 << 20


def objects_phases(a):
    """[(name, latency ms, emulator shaping flags)] of the objects mode (--objects-latency)."""
    out = []
    for v in str(a.objects_latency).split(","):
        v = v.strip()
        if not v:
            continue
        ms = int(v)
        if ms:
            out.append((f"latency {ms} ms", ms, ["--latency", str(ms), "--connect-latency", str(a.connect_latency)]))
        else:
            out.append(("loopback (no latency)", 0, []))
    return out


def mode_objects(b, obj_skipped):
    """A prefix of many objects downloaded by every tool into a fresh directory, per latency
    variant (--objects-latency) and protocol, --rounds rounds (default 3) in a random order per
    round (seeded by --seed), every output verified afterwards (untimed). Returns (rows,
    [(variant, latency, proto, flags, (ids, rounds, lead, sched))], {tool: why skipped},
    placeholder: whether ours ran as the placeholder)."""
    a = b.args
    prefix, objects = objects_set(a)
    skipped = dict(obj_skipped)
    ids = [t for t in obj_tool_ids(a) if t not in skipped]
    placeholder = False
    b.ffi_via = "cli"
    abi, abi_why = build_c_batch() if "ffi" in ids or "ffi-abi" in ids else (None, None)
    if "ffi-abi" in ids and not abi:
        skipped["ffi-abi"] = abi_why
        ids.remove("ffi-abi")
    if "ffi" in ids:
        ok, why = example_accepts(b.example, "--prefix", prefix)
        if not ok:
            if abi:
                b.ffi_via = "c-abi"
                if "ffi-abi" in ids:
                    ids.remove("ffi-abi")
                log(f"  objects: {why}: ours runs through the C ABI (bench/c/batch.c: oss_client_download_objects)")
            else:
                why2 = abi_why
                placeholder = True
                b.ffi_via = "placeholder"
                log(f"  objects: {why}; {why2.splitlines()[0]}: ours runs as the PLACEHOLDER (bench/c/many.c, "
                    "asynchronous C API per key); not a result of the batch")
    log(f"mode objects: {objects_mix_text(a, objects)} under {prefix}, tools {', '.join(ids)}")
    rows, phases_run = [], []
    rounds = a.rounds or 3
    for vname, ms, flags in objects_phases(a):
        for proto in protocols(a):
            lead, sched = orderlib.schedule(ids, rounds, "random", a.seed)
            log(f"mode objects: {vname}, {proto.upper()}, emulator {' '.join(flags) or '(no shaping)'}")
            b.variant = vname
            b.obj_log = None
            run_flags = flags
            if a.objects_log:
                b.obj_log = os.path.join(a.work, f"emulator-objects-{ms}ms-{proto}.jsonl")
                if os.path.exists(b.obj_log):
                    os.remove(b.obj_log)
                run_flags = flags + ["--log", b.obj_log]
            with ShapedPhase(b, run_flags, proto):
                b.objects_warmup(prefix, objects, proto)
                prev = "(start)"
                for rnd, slots in enumerate(sched, 1):
                    for tid in slots:
                        b.after, b.tool_id = prev, tid
                        row = b.objects_run("objects", tid, prefix, objects, rnd, proto,
                                            obj_label(tid, a, b.ffi_via if tid == "ffi" else ""))
                        row.update(objects=len(objects), latency_ms=ms, placeholder=int(placeholder and tid == "ffi"))
                        rows.append(row)
                        prev = tid
            b.after = b.tool_id = ""
            phases_run.append((vname, ms, proto, flags, (ids, rounds, lead, sched)))
    b.variant = ""
    return rows, phases_run, skipped, b.ffi_via


def report_objects(a, rows, phases_run, skipped, via, verified_note):
    placeholder = via == "placeholder"
    lines, summary = [], []
    if not phases_run:
        return lines, summary
    prefix, objects = objects_set(a)
    n = len(objects)
    total = sum(s for _, s in objects)
    lines += ["## Many objects", "", f"{objects_mix_text(a, objects)}, flat under one prefix `{prefix}`; every tool "
              f"lists the prefix and downloads every object into a fresh, empty directory (deleted and `sync`ed "
              f"before each run, untimed). Time: the process's wall time (oss2: listing + downloads inside "
              f"the interpreter, without start-up and import). Order: random per round (seed {a.seed}).", ""]
    if via == "c-abi":
        lines += ["Ours ran through bench/c/batch.c: `oss_client_download_objects` (the batch's C ABI, the call "
                  f"the CLI makes), the client's max_connections {a.batch_connections}, everything else at the "
                  "library's defaults, since `oss_download` of this tree has no `--prefix` yet.", ""]
    if placeholder:
        lines += ["**PLACEHOLDER**: `oss_download` of this tree does not accept `--prefix` yet; the row for ours is "
                  "bench/c/many.c (the asynchronous C API, one transfer per key from a key list the bench gives "
                  "it, no listing), NOT the batch. Do not quote it as the batch's result.", ""]
    for vname, ms, proto, flags, (ids, rounds, lead, sched) in phases_run:
        prow = [r for r in rows if r["proto"] == proto and r["variant"] == vname]
        lines += [f"### {vname}, {proto.upper()}", "", f"Emulator: `oss-emulator {' '.join(flags)}"
                  f"{' --tls' if proto == 'https' else ''}`; {rounds} rounds: "
                  + "; ".join(" ".join(r) for r in sched) + ".", "",
                  "| tool | runs | objects/s median (min-max) | s median (min-max) | MB/s | wall µs/object | "
                  "CPU s (median) | CPU µs/object | peak RSS MiB (max) | then syncfs s | durable objects/s |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        ops = {}
        for tid, rs, secs, med in tool_runs(prow, ids):
            ops[tid] = n / med
            cpu = statistics.median(r["cpu_s"] for r in rs)
            rss = max(r["peak_rss_mib"] for r in rs)
            syn = [r["syncfs_after_s"] for r in rs if r.get("syncfs_after_s", "") != ""]
            durable = [n / (r["seconds"] + (r["syncfs_after_s"] or 0)) for r in rs] if syn or tid.startswith("ffi") else []
            sync_cell = f"{statistics.median(syn):.3f}" if syn else ("(inside)" if tid.startswith("ffi") else "")
            durable_cell = f"{statistics.median(durable):.1f}" if durable else ""
            lines.append(f"| {rs[0]['tool']} | {len(rs)} | {_mmm([n / s for s in secs], '{:.1f}')} | {_mmm(secs)} | "
                         f"{total / med / MB:.1f} | {1e6 * med / n:.0f} | {cpu:.2f} | {1e6 * cpu / n:.0f} | {rss:.1f} | "
                         f"{sync_cell} | {durable_cell} |")
            summary.append({"section": f"objects-{'lat' + str(ms) if ms else 'loopback'}-{proto}", "tool": rs[0]["tool"],
                            "tool_id": tid, "runs": len(rs), "median_s": round(med, 4), "min_s": min(secs),
                            "max_s": max(secs), "objects_per_s": round(ops[tid], 2),
                            "mb_s": round(total / med / MB, 1), "wall_us_per_object": round(1e6 * med / n, 1),
                            "cpu_s": round(cpu, 3), "cpu_us_per_object": round(1e6 * cpu / n, 1),
                            "peak_rss_mib": rss, "placeholder": int(placeholder and tid == "ffi"), **cpu_stats(rs)})
        lines.append("")
        for ours in ("ffi", "ffi-abi"):
            ffi_rows = [r for r in prow if r["tool_id"] == ours]
            if ffi_rows:
                budget = ffi_budget(a) if ours == "ffi" and via == "cli" else 64 << 20
                rss = max(r["peak_rss_mib"] for r in ffi_rows)
                lines += [f"Peak RSS of {ours}: {rss:.1f} MiB (max of {len(ffi_rows)} runs), "
                          f"{'under' if rss <= budget / (1 << 20) else 'OVER'} the client's memory budget of "
                          f"{size_name(budget)}.", ""]
            if ours in ops:
                ratios = [f"{ops[ours] / ops[t]:.2f}x {t}" for t in ids if t not in ("ffi", "ffi-abi") and t in ops]
                if ratios:
                    lines += [f"{ours} / the others, objects per second"
                              f"{' (PLACEHOLDER)' if placeholder and ours == 'ffi' else ''}: " + "; ".join(ratios) + ".", ""]
    logged = [r for r in rows if "log_requests" in r]
    if logged:
        lines += ["### Requests seen by the emulator (--objects-log)", "",
                  "Medians per tool and phase: object GETs, HEADs and listing pages per run; the time from the "
                  "process's start to the first object GET's arrival, and from the last object GET's arrival to "
                  "the process's exit; the mean number of object GETs waiting for their answer over the span of "
                  "their arrivals (the emulator's latency waits summed / that span: a lower bound of the requests "
                  "in flight).", "",
                  "| phase | tool | GETs | HEADs | list pages | not 200/206 | start -> first GET s | "
                  "last GET -> exit s | GETs waiting (mean) |", "|---|---|---:|---:|---:|---:|---:|---:|---:|"]
        for vname, ms, proto, flags, (ids, rounds, lead, sched) in phases_run:
            for tid in ids:
                rs = [r for r in logged if r["proto"] == proto and r["variant"] == vname and r["tool_id"] == tid]
                if not rs:
                    continue

                def med(k):
                    v = [r[k] for r in rs if k in r]
                    return statistics.median(v) if v else float("nan")
                lines.append(f"| {vname}, {proto.upper()} | {tid} | {med('log_gets'):.0f} | {med('log_heads'):.0f} | "
                             f"{med('log_lists'):.0f} | {med('log_not_ok'):.0f} | {med('log_first_get_s'):.3f} | "
                             f"{med('log_tail_s'):.3f} | {med('log_waiting'):.1f} |")
        lines.append("")
    lines += [verified_note, ""]
    if skipped:
        lines += ["Not measured: " + "; ".join(f"{t}: {w.splitlines()[0]}" for t, w in skipped.items()), ""]
    return lines, summary


def mode_memory(b):
    """(c) peak RSS of the shaped download with our C example at --memory-threads parts in flight,
    and the same with --memory-budget when the example accepts it, per --total-rate variant and
    protocol. Returns (rows, {what: why skipped})."""
    a = b.args
    skipped = {}
    budget = str(a.memory_budget)
    with_budget, why = example_accepts(b.example, "--memory-budget", budget)
    if not with_budget:
        skipped[f"--memory-budget {budget}"] = why
        log(f"  shaped-memory: without --memory-budget: {why}")
    rounds = a.rounds or 2
    rows = []
    for vname, total in shaped_variants(a):
        flags = shaping_flags(a, total)
        for proto in protocols(a):
            log(f"mode shaped-memory: {size_name(a.size)}, {vname}, {proto.upper()}, threads {a.memory_threads}"
                f"{', also with --memory-budget ' + budget if with_budget else ''}, {rounds} round(s)")
            b.variant = vname
            with ShapedPhase(b, flags, proto):
                runs = [(t, False) for t in a.memory_threads] + ([(t, True) for t in a.memory_threads]
                                                                 if with_budget else [])
                for rnd in range(1, rounds + 1):
                    k = (rnd - 1) % len(runs)  # rotate the order from round to round
                    for t, budgeted in runs[k:] + runs[:k]:
                        args = ["--threads", str(t)] + (["--memory-budget", budget] if budgeted else [])
                        tool = f"oss-ffi C oss_download t={t}" + (f" budget {size_name(a.memory_budget)}" if budgeted else "")
                        row = b.run_example("memory", a.size, rnd, tool, args=args, proto=proto, threads=t)
                        if row is not None:
                            row["budget"] = a.memory_budget if budgeted else 0
                            rows.append(row)
    b.variant = ""
    for tool, why in b.refused.items():
        skipped.setdefault(tool, why)
    return rows, skipped


def _mmm(vals, fmt="{:.3f}"):
    vals = sorted(vals)
    return f"{fmt.format(statistics.median(vals))} ({fmt.format(vals[0])}-{fmt.format(vals[-1])})"


def tool_runs(prow, ids):
    """Each tool of ids (in that order) that has rows in prow: (its id, its rows, their seconds,
    the median of those)."""
    for tid in ids:
        rs = [r for r in prow if r["tool_id"] == tid]
        if rs:
            secs = [r["seconds"] for r in rs]
            yield tid, rs, secs, statistics.median(secs)


def report_shaped(a, rows, phases_run, skipped):
    lines, summary = ["## Shaped network", ""], []
    conn = parse_rate(a.conn_rate) if a.conn_rate.lower() not in ("none", "off", "") else None
    if rows or phases_run:
        lines += [f"### shaped: {size_name(a.size)}, latency {a.latency} ms, connect latency {a.connect_latency} ms"
                  f"{f', jitter {a.jitter} ms' if a.jitter else ''}, per-connection cap "
                  f"{rate_name(conn) if conn else 'none'}", ""]
    for vname, total, proto, flags, (ids, rounds, lead, sched) in phases_run:
        prow = [r for r in rows if r["variant"] == vname and r["proto"] == proto]
        cap = parse_rate(total) if total else None
        lines += [f"#### {vname}, {proto.upper()}", "",
                  f"Emulator: `oss-emulator {' '.join(flags)}{' --tls' if proto == 'https' else ''}`. Order: "
                  + describe_order(a, proto, ids, rounds, lead, sched), "",
                  "| tool | runs | median s (min-max) | MB/s median (min-max) | "
                  + ("% of total cap | " if cap else "") + ("x per-conn cap | " if conn else "")
                  + "official defaults / this | CPU s/GiB median (min-max) | user / sys s/GiB | peak RSS MiB |",
                  "|---|---:|---:|---:|" + ("---:|" if cap else "") + ("---:|" if conn else "") + "---:|---:|---:|---:|"]
        off = [r["seconds"] for r in prow if r["tool_id"] == "cpp-official"]
        off_med = statistics.median(off) if off else None
        for tid in ids:
            rs = [r for r in prow if r["tool_id"] == tid]
            if not rs:
                continue
            secs = [r["seconds"] for r in rs]
            mbs = [r["mb_s"] for r in rs]
            med_mbs = a.size / statistics.median(secs) / MB
            cells = [rs[0]["tool"], str(len(rs)), _mmm(secs), f"{med_mbs:.1f} ({min(mbs):.1f}-{max(mbs):.1f})"]
            if cap:
                cells.append(f"{100 * med_mbs * MB / cap:.0f}%")
            if conn:
                cells.append(f"{med_mbs * MB / conn:.2f}")
            cells.append(f"{off_med / statistics.median(secs):.2f}x" if off_med else "")
            cst = cpu_stats(rs)
            cells += list(cpu_cell(cst))
            cells.append(f"{statistics.median(r['peak_rss_mib'] for r in rs):.1f}")
            name = f"**{cells[0]}**" if tid in ("cpp-ffi", "ffi-c", "ffi-c-max") else cells[0]
            lines.append("| " + " | ".join([name] + cells[1:]) + " |")
            summary.append({"section": f"shaped-{vname}-{proto}", "tool": rs[0]["tool"], "tool_id": tid,
                            "runs": len(rs), "median_s": round(statistics.median(secs), 4), "min_s": min(secs),
                            "max_s": max(secs), "mb_s": round(med_mbs, 1),
                            "pct_of_total_cap": round(100 * med_mbs * MB / cap, 1) if cap else "",
                            **cst, "peak_rss_mib": statistics.median(r["peak_rss_mib"] for r in rs)})
        lines.append("")
    if skipped:
        lines += ["Not measured: " + "; ".join(f"{t}: {w.splitlines()[0]}" for t, w in skipped.items()), ""]
    return lines, summary


def report_small(a, rows, phases_run, skipped, verified):
    lines, summary = [], []
    if not phases_run:
        return lines, summary
    objs = small_objects(a)
    total = sum(n for _, n in objs)
    lines += [f"### small: {len(objs)} objects of {size_name(a.small_min)}..{size_name(a.small_max)} "
              f"(seed {a.objects_seed}, {total / MB:.1f} MB in all), one resumable download after another, "
              f"latency {a.latency} ms, connect latency {a.connect_latency} ms, no rate cap", ""]
    for proto, flags, (ids, rounds, lead, sched) in phases_run:
        prow = [r for r in rows if r["proto"] == proto]
        lines += [f"#### {proto.upper()}", "", f"Emulator: `oss-emulator {' '.join(flags)}"
                  f"{' --tls' if proto == 'https' else ''}`. Order: "
                  + describe_order(a, proto, ids, rounds, lead, sched), "",
                  "| tool | runs | median s (min-max) | objects/s median (min-max) | MB/s (median) | "
                  "wall µs per object median (min-max) | CPU µs per object median (min-max) | "
                  "user / sys µs per object | peak RSS MiB |", "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
        ops = {}
        for tid, rs, secs, med in tool_runs(prow, ids):
            rates = [len(objs) / s for s in secs]
            ops[tid] = len(objs) / med
            n = len(objs)
            wall_us = [1e6 * s / n for s in secs]
            cpu_us = [1e6 * r["cpu_s"] / n for r in rs]
            split = ""
            if all(r.get("user_s_per_gib", "") != "" for r in rs):
                user_us = statistics.median(1e6 * r["user_s_per_gib"] * r["size"] / GIB / n for r in rs)
                sys_us = statistics.median(1e6 * r["sys_s_per_gib"] * r["size"] / GIB / n for r in rs)
                split = f"{user_us:.0f} / {sys_us:.0f}"
            lines.append(f"| {'**' + rs[0]['tool'] + '**' if tid == 'cpp-ffi' else rs[0]['tool']} | {len(rs)} | "
                         f"{_mmm(secs)} | {_mmm(rates, '{:.1f}')} | {total / med / MB:.1f} | "
                         f"{_mmm(wall_us, '{:.0f}')} | {_mmm(cpu_us, '{:.0f}')} | {split} | "
                         f"{statistics.median(r['peak_rss_mib'] for r in rs):.1f} |")
            summary.append({"section": f"small-{proto}", "tool": rs[0]["tool"], "tool_id": tid, "runs": len(rs),
                            "median_s": round(med, 4), "min_s": min(secs), "max_s": max(secs),
                            "objects_per_s": round(ops[tid], 2), "mb_s": round(total / med / MB, 1),
                            "wall_us_per_object": round(statistics.median(wall_us), 1),
                            "wall_us_per_object_min": round(min(wall_us), 1),
                            "wall_us_per_object_max": round(max(wall_us), 1),
                            "cpu_us_per_object": round(statistics.median(cpu_us), 1),
                            "cpu_us_per_object_min": round(min(cpu_us), 1),
                            "cpu_us_per_object_max": round(max(cpu_us), 1), **cpu_stats(rs)})
        lines.append("")
        if "cpp-ffi" in ops and "cpp-official" in ops:
            lines.append(f"Objects per second, ours / official C++ SDK ({proto.upper()}): "
                         f"**{ops['cpp-ffi'] / ops['cpp-official']:.2f}x**"
                         + (f"; ours / curl: {ops['cpp-ffi'] / ops['curl']:.2f}x" if "curl" in ops else "") + ".")
            lines.append("")
    lines += [f"Every output verified after its run, outside the timing: {verified} files, size and SHA-256 "
              "equal to the emulator's source file.", ""]
    if skipped:
        lines += ["Not measured: " + "; ".join(f"{t}: {w.splitlines()[0]}" for t, w in skipped.items()), ""]
    return lines, summary


def report_concurrent(a, rows, phases_run, skipped):
    lines, summary = [], []
    if not phases_run:
        return lines, summary
    objs = conc_objects(a)
    total = sum(n for _, n in objs)
    lines += [f"### concurrent: {len(objs)} objects of {size_name(a.conc_size)} at once, one process per run, "
              f"latency {a.latency} ms, connect latency {a.connect_latency} ms, no rate cap", ""]
    for proto, flags, (ids, rounds, lead, sched) in phases_run:
        prow = [r for r in rows if r["proto"] == proto]
        lines += [f"#### {proto.upper()}", "", f"Emulator: `oss-emulator {' '.join(flags)}"
                  f"{' --tls' if proto == 'https' else ''}`. Order: "
                  + describe_order(a, proto, ids, rounds, lead, sched), "",
                  "| tool | runs | median s (min-max) | objects/s median (min-max) | CPU s | "
                  "CPU µs per object median (min-max) | peak RSS MiB (max) |",
                  "|---|---:|---:|---:|---:|---:|---:|"]
        ops = {}
        for tid, rs, secs, med in tool_runs(prow, ids):
            ops[tid] = len(objs) / med
            cpu = statistics.median(r["cpu_s_per_gib"] * r["size"] / GIB for r in rs)
            rss = max(r["peak_rss_mib"] for r in rs)
            name = rs[0]["tool"]
            lines.append(f"| {'**' + name + '**' if tid == 'c-async' else name} | {len(rs)} | {_mmm(secs)} | "
                         f"{_mmm([len(objs) / x for x in secs], '{:.1f}')} | {cpu:.2f} | "
                         f"{_mmm([1e6 * r['cpu_s'] / len(objs) for r in rs], '{:.0f}')} | {rss:.1f} |")
            summary.append({"section": f"concurrent-{proto}", "tool": name, "tool_id": tid, "runs": len(rs),
                            "median_s": round(med, 4), "min_s": min(secs), "max_s": max(secs),
                            "objects_per_s": round(ops[tid], 2), "peak_rss_mib": rss,
                            "cpu_us_per_object": round(statistics.median(1e6 * r["cpu_s"] / len(objs) for r in rs), 1),
                            **cpu_stats(rs)})
        lines.append("")
        if "c-async" in ops:
            ratios = [f"{ops['c-async'] / ops[t]:.2f}x {conc_label(t, a)}" for t in ids if t != "c-async" and t in ops]
            if ratios:
                lines += [f"Objects per second, the asynchronous API / ({proto.upper()}): " + "; ".join(ratios) + ".", ""]
    if skipped:
        lines += ["Not measured: " + "; ".join(f"{t}: {w.splitlines()[0]}" for t, w in skipped.items()), ""]
    return lines, summary


def report_memory(a, rows, skipped):
    lines, summary = [], []
    if not rows and not skipped:
        return lines, summary
    lines += [f"### shaped-memory: peak RSS of the C example, {size_name(a.size)} through the shaped emulator "
              f"(latency {a.latency} ms, connect {a.connect_latency} ms, per-connection {a.conn_rate})", "",
              "| variant | proto | threads | --memory-budget | runs | peak RSS MiB median (max) | "
              "median s (min-max) | MB/s (median) |", "|---|---|---:|---|---:|---:|---:|---:|"]
    keys = list(dict.fromkeys((r["variant"], r["proto"], r["threads"], r.get("budget", 0)) for r in rows))
    first = {}
    for k in keys:
        first.setdefault(k[0], len(first))
    for v, proto, t, budget in sorted(keys, key=lambda k: (first[k[0]], k[1], k[3], k[2])):
        rs = [r for r in rows if (r["variant"], r["proto"], r["threads"], r.get("budget", 0)) == (v, proto, t, budget)]
        rss = [r["peak_rss_mib"] for r in rs]
        secs = [r["seconds"] for r in rs]
        lines.append(f"| {v} | {proto.upper()} | {t} | {size_name(budget) if budget else '-'} | {len(rs)} | "
                     f"{statistics.median(rss):.1f} ({max(rss):.1f}) | {_mmm(secs)} | "
                     f"{a.size / statistics.median(secs) / MB:.1f} |")
        summary.append({"section": f"shaped-memory-{v}-{proto}", "tool": rs[0]["tool"], "threads": t,
                        "budget": budget, "runs": len(rs), "peak_rss_mib": statistics.median(rss),
                        "peak_rss_mib_max": max(rss), "median_s": round(statistics.median(secs), 4)})
    lines.append("")
    if skipped:
        lines += ["Not measured: " + "; ".join(f"{t}: {w.splitlines()[0]}" for t, w in skipped.items()), ""]
    return lines, summary


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


def cpu_stats(rows):
    """CPU per GiB of rows (user+sys of the tool's process, bench/rusage.c): median, min, max, and
    the medians of user and sys (None when a row has no split)."""
    cpu = sorted(r["cpu_s_per_gib"] for r in rows)
    user = [r["user_s_per_gib"] for r in rows if r.get("user_s_per_gib", "") != ""]
    sys_ = [r["sys_s_per_gib"] for r in rows if r.get("sys_s_per_gib", "") != ""]
    full = len(user) == len(rows) and len(sys_) == len(rows)
    return {"cpu_s_per_gib": round(statistics.median(cpu), 3), "cpu_s_per_gib_min": cpu[0],
            "cpu_s_per_gib_max": cpu[-1],
            "user_s_per_gib": round(statistics.median(user), 3) if full else None,
            "sys_s_per_gib": round(statistics.median(sys_), 3) if full else None}


def cpu_cell(st):
    """"median (min-max)" of CPU s/GiB and "user / sys" medians, from cpu_stats()."""
    return (f"{st['cpu_s_per_gib']:.2f} ({st['cpu_s_per_gib_min']:.2f}-{st['cpu_s_per_gib_max']:.2f})",
            f"{st['user_s_per_gib']:.2f} / {st['sys_s_per_gib']:.2f}" if st["user_s_per_gib"] is not None else "")


def compare_stats(rows):
    secs = sorted(r["seconds"] for r in rows)
    med = statistics.median(secs)
    size = rows[0]["size"]
    return {"runs": len(rows), "median_s": round(med, 4), "min_s": secs[0], "max_s": secs[-1],
            "max_over_min": round(secs[-1] / secs[0], 2), "mb_s": round(size / med / MB, 1),
            **cpu_stats(rows),
            "peak_rss_mib": round(statistics.median(r["peak_rss_mib"] for r in rows), 1),
            "threads": statistics.median(r["threads"] for r in rows)}


OURS = ("ffi-c", "ffi-c-best", "ffi-c-def", "ffi-c-def-stats", "cpp-ffi", "cpp-ffi-base", "cpp-ffi-mt", "binding")


def report_compare(a, compare, orders, skipped):
    """The mode 1 tables (one per protocol), the limits, the order and the median by predecessor."""
    lines, summary = [], []
    for proto, (ids, rounds, lead, sched) in orders.items():
        rows = [r for r in compare if r["proto"] == proto]
        stats = {t: compare_stats([r for r in rows if r["tool_id"] == t]) for t in ids
                 if any(r["tool_id"] == t for r in rows)}
        label = {t: next(r["tool"] for r in rows if r["tool_id"] == t) for t in stats}
        curl = stats.get("curl")
        ref = stats.get("ref")
        lines += [f"### {proto.upper()}, {size_name(a.size)}", "", "Order: " + describe_order(a, proto, ids, rounds, lead, sched), "",
                  "| tool | runs | median s | min s | max s | max/min | MB/s (median) | CPU s/GiB median (min-max) | "
                  "user / sys s/GiB | peak RSS MiB | official C++ SDK (same threads) / this | curl -o FILE / this | "
                  "reference / this: time | CPU |",
                  "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
        for t, st in stats.items():
            vs_off = vs_curl = ref_t = ref_cpu = ""
            if ref and t != "ref":
                ref_t = f"{ref['median_s'] / st['median_s']:.2f}x"
                ref_cpu = f"{ref['cpu_s_per_gib'] / st['cpu_s_per_gib']:.2f}x" if st["cpu_s_per_gib"] else ""
            if t in OURS:
                off = [stats[o] for o in ("cpp-official", "cpp-official-mt")
                       if o in stats and stats[o]["threads"] == st["threads"]]
                if off:
                    vs_off = f"{off[0]['median_s'] / st['median_s']:.2f}x"
                if curl:
                    vs_curl = f"{curl['median_s'] / st['median_s']:.2f}x"
            name = f"**{label[t]}**" if t in OURS else label[t]
            cpu, split = cpu_cell(st)
            lines.append(f"| {name} | {st['runs']} | {st['median_s']:.3f} | {st['min_s']:.3f} | {st['max_s']:.3f} | "
                         f"{st['max_over_min']:.2f} | {st['mb_s']:.0f} | {cpu} | {split} | "
                         f"{st['peak_rss_mib']:.1f} | {vs_off} | {vs_curl} | {ref_t} | {ref_cpu} |")
            summary.append({"section": f"compare-{proto}", "tool": label[t], "tool_id": t, **st,
                            "official_over_this": vs_off.rstrip("x"), "curl_over_this": vs_curl.rstrip("x"),
                            "ref_over_this": ref_t.rstrip("x"), "ref_cpu_over_this": ref_cpu.rstrip("x")})
        lines.append("")
        lines.append("Ratios are speed ratios (the other tool's median time / this row's; > 1: this row is faster); "
                     "\"same threads\": the official SDK row with the same thread count. CPU = user+sys seconds "
                     "of the tool's process per GiB (bench/rusage.c); \"reference / this\": the reference "
                     "reader's median time and median CPU per GiB over this row's (< 1: this row takes more).")
        limits = []
        if "null" in stats:
            limits.append(f"network path (curl -o /dev/null) {stats['null']['mb_s']:.0f} MB/s")
        if "dd" in stats:
            limits.append(f"disk path (dd conv=fsync) {stats['dd']['mb_s']:.0f} MB/s")
        if limits:
            lines.append("Machine limits in the same run: " + ", ".join(limits) + ".")
        # the median time by predecessor: what the disk did just before
        preds = [p for p in ids + [orderlib.IDLE, "warmup"] if any(r["after"] == p for r in rows)]
        if preds:
            lines += ["", f"Median seconds by predecessor ({proto.upper()}; rows: tool, columns: the run just before):", "",
                      "| tool | " + " | ".join(preds) + " |", "|---|" + "---:|" * len(preds)]
            for t in stats:
                cells = []
                for p in preds:
                    v = [r["seconds"] for r in rows if r["tool_id"] == t and r["after"] == p]
                    cells.append(f"{statistics.median(v):.3f}" if v else ("-" if p == t else ""))
                lines.append(f"| {t} | " + " | ".join(cells) + " |")
        lines.append("")
    if skipped:
        lines += ["Not measured: " + "; ".join(f"{t}: {w.splitlines()[0]}" for t, w in skipped.items()), ""]
    return lines, summary


def report(b, compare, best, scale, crc, info, load0, load1, orders=None, skipped=None):
    a = b.args
    lines = [f"Machine: {info['nproc']} cores, {info.get('cpu', '?')}, {info['memory']} RAM, kernel "
             f"{info['kernel']}, disk {info['disk']}, curl {info['curl']}, Python {info['python']}.",
             f"Load average (1/5/15 min) at start {load0[0]:.2f}/{load0[1]:.2f}/{load0[2]:.2f}, "
             f"at end {load1[0]:.2f}/{load1[1]:.2f}/{load1[2]:.2f}.",
             (f"Object {size_name(a.size)} (page-cached on the server), part size {size_name(a.part_size)}. "
              if compare or scale or crc else "")
             + f"Command: `{' '.join(['python3', 'bench/run.py'] + sys.argv[1:])}`", ""]
    summary = []
    if compare:
        more, summary = report_compare(a, compare, orders or {}, skipped or {})
        lines += more
    if scale:
        lines += ["| scale | size | threads | MB/s (median) | peak RSS MiB (max) | CPU s/GiB median (min-max) | "
                  "user / sys s/GiB |", "|---|---|---:|---:|---:|---:|---:|"]
        keys = list(dict.fromkeys((r["mode"], r["size"], r["threads"]) for r in scale))
        for mode, size, t in keys:
            rs = [r for r in scale if (r["mode"], r["size"], r["threads"]) == (mode, size, t)]
            mbs = statistics.median(r["mb_s"] for r in rs)
            rss = max(r["peak_rss_mib"] for r in rs)
            cst = cpu_stats(rs)
            summary.append({"section": mode, "tool": f"oss-ffi {size_name(size)} t={t}", "mb_s": mbs,
                            **cst, "peak_rss_mib": rss})
            cpu, split = cpu_cell(cst)
            lines.append(f"| {mode} | {size_name(size)} | {t} | {mbs:.0f} | {rss:.1f} | {cpu} | {split} |")
        lines.append("")
    if crc:
        lines += ["| crc / resume | MB/s (median) | median seconds | CPU s/GiB median (min-max) | user / sys s/GiB | "
                  "peak RSS MiB |", "|---|---:|---:|---:|---:|---:|"]
        for tool in dict.fromkeys(r["tool"] for r in crc):
            rs = [r for r in crc if r["tool"] == tool]
            m = median_of(rs, tool)
            secs = statistics.median(r["seconds"] for r in rs)
            cst = cpu_stats(rs)
            summary.append({"section": "crc", "tool": tool, **m, **cst, "seconds": secs})
            cpu, split = cpu_cell(cst)
            lines.append(f"| {tool} | {m['mb_s']:.0f} | {secs:.3f} | {cpu} | {split} | {m['peak_rss_mib']:.1f} |")
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
    comp = [dict(r, tool=r["tool"] + (" [https]" if r["proto"] == "https" else "")) for r in rows
            if r["mode"] == "compare"]
    if comp:
        tools = list(dict.fromkeys(r["tool"] for r in comp))
        med = [median_of(comp, t)["mb_s"] for t in tools]
        axes[0].barh(range(len(tools)), med, color=["tab:blue" if "oss-ffi" in t else "tab:gray" for t in tools])
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


def print_order(a):
    """--print-order: the schedule of every phase and its predecessor counts, without running."""
    print(orderlib.__doc__.strip() + "\n")
    failures = orderlib.self_check(40)
    print(f"self-check of the balanced scheme for 1..40 tools over one and two full cycles: "
          f"{'ok' if not failures else 'FAILED: ' + '; '.join(failures)}\n")
    for proto, ids in phases(a, selected_tools(a)):
        rounds, lead, sched = phase_schedule(a, ids)
        print(describe_order(a, proto, ids, rounds, lead, sched))
        if lead:
            print(f"  lead-in (untimed): {lead}")
        for i, r in enumerate(sched, 1):
            print(f"  round {i:2}: {' '.join(r)}")
        print(orderlib.format_matrix(ids, lead, sched))
        print()
    return 1 if failures else 0


def main():
    # No abbreviations: "--no-http" once meant "--no-https" (a prefix of it) and ran HTTP only.
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter,
                                 allow_abbrev=False)
    ap.add_argument("--size", default="1G", help="object size for modes 1 and 3 (default 1G)")
    ap.add_argument("--rounds", type=int, default=None,
                    help="rounds of mode 1 per protocol (default: one full balanced cycle, N-1 or N rounds "
                         "for N tools) and of mode 3 (default 5)")
    ap.add_argument("--threads", type=int, default=3, help="default thread count, also for the Python SDKs (3)")
    ap.add_argument("--best-threads", type=int, default=0, help="skip the quick sweep and use this count")
    ap.add_argument("--part-size", default="8M", help="part size for every tool (default 8M)")
    ap.add_argument("--modes", default="compare,scale,crc",
                    help="comma list of compare, scale, crc (the default set) and shaped, small, "
                         "shaped-memory (a shaped emulator; run only when named), "
                         "concurrent")
    ap.add_argument("--tools", default="all", help=f"mode 1 tools, comma list of {','.join(TOOL_IDS)} (default all)")
    ap.add_argument("--https", dest="https", action="store_true", default=True,
                    help="mode 1 also over HTTPS (the emulator's --tls; the default)")
    ap.add_argument("--no-https", dest="https", action="store_false", help="over HTTP only")
    ap.add_argument("--no-http", dest="http", action="store_false", help="over HTTPS only")
    ap.add_argument("--order", default="balanced", choices=("balanced", "rotate", "random"),
                    help="mode 1 run order (bench/order.py): balanced (every tool follows every other equally "
                         "often; default), rotate (the old rotation), random (a seeded permutation per round)")
    ap.add_argument("--seed", type=int, default=0, help="seed of --order random")
    ap.add_argument("--idle-seconds", type=float, default=2.0,
                    help="pause of the idle slot of the balanced order (even tool counts; default 2)")
    ap.add_argument("--print-order", action="store_true",
                    help="print the mode 1 order and its predecessor counts, check the scheme, and exit")
    ap.add_argument("--base-tree", default=None, metavar="DIR",
                    help="another checkout of this project (a worktree at an earlier commit): its release "
                         "library and C++ layer make the tool cpp-ffi-base (built into DIR/target only)")
    ap.add_argument("--cpp-threads", type=int, default=8, help="threads of the cpp-*-mt rows (default 8)")
    ap.add_argument("--ref-connections", type=int, default=0,
                    help="connections of the reference reader (tool ref; default: --threads)")
    ap.add_argument("--ref-part-size", default=None,
                    help="part size of the reference reader (default: --part-size; 0: one part per connection)")
    ap.add_argument("--ref-no-direct", dest="ref_direct", action="store_false", default=True,
                    help="the reference reader writes without O_DIRECT (a file system that refuses it)")
    ap.add_argument("--cpp-checkpoint", action="store_true",
                    help="give the C++ rows a checkpoint directory (default: none, as measured so far)")
    ap.add_argument("--sweep-threads", default="1,2,4,8,16,32")
    ap.add_argument("--sizes", default="64M,256M,1G", help="mode 2 sizes (default 64M,256M,1G)")
    ap.add_argument("--big", action="store_true", help="mode 2 also at 2G and 4G")
    ap.add_argument("--scale-threads", type=int, default=16, help="threads of the size sweep (16)")
    ap.add_argument("--scale-rounds", type=int, default=2)
    ap.add_argument("--crc-threads", type=int, default=0, help="threads for mode 3 (default: the best)")
    g = ap.add_argument_group("shaped modes: the emulator's shaping flags")
    g.add_argument("--latency", type=int, default=20, metavar="MS",
                   help="emulator --latency of the shaped modes (default 20)")
    g.add_argument("--connect-latency", type=int, default=20, metavar="MS",
                   help="emulator --connect-latency of the shaped modes (default 20)")
    g.add_argument("--jitter", type=int, default=0, metavar="MS",
                   help="emulator --jitter of the shaped modes (default 0: none; seeded by --seed)")
    g.add_argument("--conn-rate", default="25MB/s", metavar="RATE",
                   help="emulator --conn-rate of shaped and shaped-memory (default 25MB/s = 25*10^6 B/s; none)")
    g.add_argument("--throttle", default=None, metavar="FRACTION[:DIVISOR]",
                   help="shaped modes: that fraction of the GET answers (e.g. 0.1) is sent at --conn-rate / "
                        "DIVISOR (default 20): the emulator's throttle fault, seeded by --seed (default: none)")
    g.add_argument("--total-rate", default="100MB/s,none", metavar="RATE[,RATE...]",
                   help="the variants of shaped and shaped-memory: emulator --total-rate per variant, "
                        "'none' = no total cap (default 100MB/s,none: both, in that order)")
    g.add_argument("--shaped-tools", default="all",
                   help="shaped mode tools, comma list of cpp-ffi, ffi-c, ffi-c-max (oss_download "
                        "--throughput-target max; skipped with a note if the example refuses it), "
                        "ffi-c-max-noreissue (the same with --no-reissue; only when named), "
                        "cpp-official, cpp-official-tN, ref (the reference reader), curl (default all)")
    g.add_argument("--official-threads", default="8,16",
                   help="thread counts of the official SDK rows cpp-official-tN of the shaped mode (default 8,16)")
    g.add_argument("--objects", type=int, default=None,
                   help="small mode: number of objects (default 1000); objects mode: (default 10000)")
    g.add_argument("--small-min", default="64K", help="small mode: smallest object size (default 64K)")
    g.add_argument("--small-max", default="1M", help="small mode: largest object size (default 1M)")
    g.add_argument("--objects-seed", type=int, default=13, help="small mode: seed of the object sizes (default 13)")
    g.add_argument("--small-tools", default="all",
                   help=f"small mode tools, comma list of {','.join(SMALL_TOOL_IDS)} (default all)")
    g.add_argument("--conc-objects", type=int, default=200, help="concurrent mode: number of objects (default 200)")
    g.add_argument("--conc-size", default="1M", help="concurrent mode: object size (default 1M)")
    g.add_argument("--pool", type=int, default=16,
                   help="concurrent mode: threads of the blocking tools, and every client's connections (default 16)")
    g.add_argument("--conc-tools", default="all",
                   help=f"concurrent mode tools, comma list of {','.join(CONC_TOOL_IDS)} (default all)")
    g = ap.add_argument_group("objects mode: a prefix of many objects")
    g.add_argument("--objects-latency", "--latency-ms", default="20,0", metavar="MS[,MS...]",
                   help="objects mode: its variants, the emulator's --latency per answer (with --connect-latency); "
                        "0 = loopback without shaping (default 20,0: both)")
    g.add_argument("--object-size", default=None,
                   help="objects mode: every object of this size (e.g. 64M) instead of the mix")
    g.add_argument("--objects-min", default="4K", help="objects mode: smallest size of the mix (default 4K)")
    g.add_argument("--objects-max", default="1M", help="objects mode: largest size of the mix (default 1M)")
    g.add_argument("--objects-threads", type=int, default=16,
                   help="objects mode: threads of the official C++ SDK program and of oss2's pool (default 16)")
    g.add_argument("--curl-parallel", type=int, default=64,
                   help="objects mode: curl --parallel-max, and the placeholder's connections (default 64)")
    g.add_argument("--objects-tools", default="all",
                   help=f"objects mode tools, comma list of {','.join(OBJ_TOOL_IDS)} (default: all but "
                        "ffi-single; ffi-single too with --object-size)")
    g.add_argument("--objects-verify", default="1000",
                   help="objects mode: SHA-256 of a seeded sample of N outputs per run, or 'all' (default 1000; "
                        "count, names and sizes of every output are always checked)")
    g.add_argument("--batch-connections", type=int, default=64,
                   help="objects mode, ours through bench/c/batch.c: the client's max_connections (default 64)")
    g.add_argument("--objects-log", action="store_true",
                   help="objects mode: the emulator logs every request (--log, in the --work directory); the "
                        "report adds what it saw per run (requests by kind, start to first GET, last GET to exit, "
                        "GETs waiting)")
    g.add_argument("--ffi-arg", dest="ffi_args", action="append", default=[],
                   help="objects mode: one more argument for oss_download --prefix (repeatable)")
    g = ap.add_argument_group("shaped-memory")
    g.add_argument("--memory-threads", default="8,32,64",
                   help="shaped-memory: the C example's --threads values (default 8,32,64)")
    g.add_argument("--memory-budget", default="64M",
                   help="shaped-memory: also run with oss_download --memory-budget BYTES (default 64M, passed "
                        "as bytes; skipped with a note if the example refuses the option)")
    g.add_argument("--example", default=None,
                   help="the oss_download binary (default target/examples/oss_download of this tree)")
    ap.add_argument("--work", default=os.environ.get("OSS_BENCH_DIR", "/tmp/oss-ffi-bench"),
                    help="server root (objects cached there) and download directory")
    ap.add_argument("--results", default=os.path.join(HERE, "results"))
    ap.add_argument("--no-build", action="store_true",
                    help="do not rebuild the library, the example and the emulator (the C++ program is "
                         "still compiled; the official SDK is built only if not cached)")
    for hidden in ("--_child", "--_endpoint", "--_key", "--_out", "--_ckpt", "--_ca"):
        ap.add_argument(hidden, help=argparse.SUPPRESS)
    a = ap.parse_args()
    if not a.http and not a.https:
        ap.error("--no-http and --no-https: no protocol left")
    a.size, a.part_size = parse_size(a.size), parse_size(a.part_size)
    a.ref_part_size = None if a.ref_part_size is None else parse_size(a.ref_part_size)
    if a._child:
        return child_main(a)
    if a.print_order:
        return print_order(a)
    a.sweep_threads = [int(x) for x in a.sweep_threads.split(",")]
    a.sizes = [parse_size(x) for x in a.sizes.split(",")]
    a.official_threads = [int(x) for x in a.official_threads.split(",") if x.strip()]
    a.memory_threads = [int(x) for x in a.memory_threads.split(",") if x.strip()]
    a.memory_budget = parse_size(a.memory_budget)
    a.small_min, a.small_max = parse_size(a.small_min), parse_size(a.small_max)
    a.conc_size = parse_size(a.conc_size)
    a.object_size = parse_size(a.object_size) if a.object_size else 0
    a.objects_min, a.objects_max = parse_size(a.objects_min), parse_size(a.objects_max)
    if a.objects_verify != "all" and not a.objects_verify.isdigit():
        raise SystemExit("--objects-verify is a number or 'all'")
    modes = set(m.strip() for m in a.modes.split(",") if m.strip())
    unknown = modes - {"compare", "scale", "crc", "shaped", "small", "shaped-memory", "concurrent", "objects"}
    if unknown:
        raise SystemExit(f"unknown --modes {', '.join(sorted(unknown))}")
    if a.small_min > a.small_max or a.small_min < 1:
        raise SystemExit("--small-min must be at least 1 and at most --small-max")
    for v in shaped_variants(a):  # fail early on a bad RATE
        if v[1]:
            parse_rate(v[1])
    tools = selected_tools(a) if "compare" in modes else []
    if "cpp-ffi-base" in tools and not a.base_tree:
        raise SystemExit("--tools cpp-ffi-base needs --base-tree DIR (the tree to compare with)")
    if a.base_tree and not os.path.exists(os.path.join(a.base_tree, "Cargo.toml")):
        raise SystemExit(f"--base-tree {a.base_tree}: no Cargo.toml there")
    shaped_ids = shaped_tool_ids(a) if "shaped" in modes else []
    small_ids = small_tool_ids(a) if "small" in modes else []
    conc_ids = conc_tool_ids(a) if "concurrent" in modes else []
    obj_ids = obj_tool_ids(a) if "objects" in modes else []

    mods = [PY_MODULE[t] for t in tools if t in PY_MODULE] + ["matplotlib"]
    if "oss2" in obj_ids:
        mods.append("oss2")
    py_failed = ensure_python_packages(mods)
    build(a)
    if "concurrent" in modes or "ffi" in obj_ids or "ffi-single" in obj_ids:
        build_c_many()
    want_cpp = [w for w, prefix in (("ffi", "cpp-ffi"), ("official", "cpp-official"))
                if any(t.startswith(prefix) for t in tools + shaped_ids)]
    cpp_bins, cpp_skipped = build_cpp(want_cpp)
    if "cpp-ffi-base" in tools:
        base_bin, a.base_label, why = build_cpp_base(a.base_tree)
        if base_bin:
            cpp_bins["ffi-base"] = base_bin
        else:
            cpp_skipped["ffi-base"] = why
    want_many = [w for w, prefix in (("ffi", "cpp-ffi"), ("official", "cpp-official"))
                 if any(t.startswith(prefix) for t in small_ids + conc_ids)]
    many_bins, many_skipped = build_cpp(want_many, CPP_MANY_SRC, CPP_MANY_BIN) if want_many else ({}, {})
    ref_bin, ref_skipped = build_ref() if "ref" in tools + shaped_ids else (None, None)
    obj_bins, obj_skipped = (build_cpp(["official"], CPP_OBJ_SRC, CPP_OBJ_BIN) if "official-cpp" in obj_ids
                             else ({}, {}))
    obj_skipped = {"official-cpp": obj_skipped["official"]} if "official" in obj_skipped else {}
    if "oss2" in obj_ids and "oss2" in py_failed:
        obj_skipped["oss2"] = py_failed["oss2"]
    load0 = os.getloadavg()
    sizes = ([a.size] if modes - {"small", "concurrent", "objects"} else []) + (a.sizes + ([2 << 30, 4 << 30] if a.big else [])
                                                     if "scale" in modes else [])
    root = os.path.join(a.work, "root")
    emus = {"http": Emulator(root, sizes, objects=(small_objects(a) if "small" in modes else [])
                             + (conc_objects(a) if "concurrent" in modes else [])
                             + (objects_set(a)[1] if "objects" in modes else []))}
    dl = os.path.join(a.work, "dl")
    os.makedirs(dl, exist_ok=True)
    b = None
    try:
        if a.https and "compare" in modes:
            emus["https"] = Emulator(root, sizes, tls=True)
        b = Bench(a, emus, dl)
        b.cpp_bins = cpp_bins
        b.cpp_many_bins = many_bins
        b.ref_bin = ref_bin
        b.cpp_obj_bins = obj_bins
        for s in sorted(set(sizes)):  # page-cache every object on the server side
            b.curl("warmup", s, 0, dest="/dev/null")
        compare, best, orders, skipped = ([], a.best_threads or a.threads, {}, {})
        if "compare" in modes:
            compare, best, orders, skipped = mode_compare(b, py_failed, cpp_skipped, ref_skipped)
        a.crc_threads = a.crc_threads or best
        scale = mode_scale(b) if "scale" in modes else []
        crc = mode_crc(b) if "crc" in modes else []
        shaped = shaped_phases = shaped_skipped = None
        if "shaped" in modes:
            shaped, shaped_phases, shaped_skipped = mode_shaped(b, cpp_skipped, ref_skipped)
        small = small_phases = small_skipped = None
        if "small" in modes:
            small, small_phases, small_skipped = mode_small(b, many_skipped)
        conc = conc_phases = conc_skipped = None
        if "concurrent" in modes:
            conc, conc_phases, conc_skipped = mode_concurrent(b, many_skipped)
        objs = obj_phases = obj_skipped2 = None
        obj_placeholder = "cli"
        if "objects" in modes:
            objs, obj_phases, obj_skipped2, obj_placeholder = mode_objects(b, obj_skipped)
        memory = memory_skipped = None
        if "shaped-memory" in modes:
            b.refused = {}
            memory, memory_skipped = mode_memory(b)
        clear_dir(dl)
    finally:
        for e in emus.values():
            e.stop()
    load1 = os.getloadavg()
    info = machine()
    text, summary = report(b, compare, best, scale, crc, info, load0, load1, orders, skipped)
    more = []
    if shaped is not None:
        lines, summ = report_shaped(a, shaped, shaped_phases, shaped_skipped)
        more += lines
        summary += summ
    if small is not None:
        lines, summ = report_small(a, small, small_phases, small_skipped, b.verified)
        more += (["## Shaped network", ""] if shaped is None else []) + lines
        summary += summ
    if conc is not None:
        lines, summ = report_concurrent(a, conc, conc_phases, conc_skipped)
        more += ["## Concurrent transfers", ""] + lines
        summary += summ
    if objs is not None:
        note = (f"Every output verified after its run, outside the timing: {b.verified} files in all runs "
                f"(count, names, sizes; nothing else left in the directory but our journal), SHA-256 of "
                f"{b.obj_hashed} of them (--objects-verify {a.objects_verify} per run) equal to the source's.")
        lines, summ = report_objects(a, objs, obj_phases, obj_skipped2, obj_placeholder, note)
        more += lines
        summary += summ
    if memory is not None:
        lines, summ = report_memory(a, memory, memory_skipped)
        more += (["## Shaped network", ""] if shaped is None and small is None else []) + lines
        summary += summ
    if more:
        text += "\n" + "\n".join(more) + "\n"
    other = {k: v for k, v in py_failed.items() if k not in PY_MODULE.values()}
    if other:
        text += "\nNot available: " + "; ".join(f"{k}: {v}" for k, v in other.items()) + "\n"
    os.makedirs(a.results, exist_ok=True)
    with open(os.path.join(a.results, "runs.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(dict.fromkeys(k for r in b.rows for k in r)))
        w.writeheader()
        w.writerows(b.rows)
    with open(os.path.join(a.results, "summary.csv"), "w", newline="") as f:
        keys = list(dict.fromkeys(k for s in summary for k in s))
        w = csv.DictWriter(f, fieldnames=keys)
        w.writeheader()
        w.writerows(summary)
    with open(os.path.join(a.results, "summary.md"), "w") as f:
        f.write(text)
    if any(r["mode"] in ("compare", "threads", "sizes") for r in b.rows):
        plot(b.rows, best, os.path.join(a.results, "bench.png"))
    print(text)


if __name__ == "__main__":
    sys.exit(main())
