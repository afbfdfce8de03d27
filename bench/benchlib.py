"""What the bench scripts (run.py, stream.py, parquet.py) share: sizes on the command line, a
timestamped log line and the start of an emulator process."""
import sys
import time


def parse_size(s):
    """Bytes of `256M`, `4k`, `1G` or a plain number."""
    s = s.strip().upper()
    mult = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(s[-1:], 1)
    return int(s[:-1] if s[-1:] in "KMG" else s) * mult


def log(msg):
    print(f"[{time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


def emulator_endpoint(proc):
    """The endpoint an oss-emulator started with `--port 0` and stdout piped (text) says it listens
    on; exits when its first line is not that."""
    line = proc.stdout.readline().strip()
    if not line.startswith("listening on "):
        raise SystemExit(f"the emulator did not start: {line!r}")
    return line.split()[-1]
