"""Fixtures: start the oss-emulator binary on an ephemeral port."""
import os
import re
import subprocess
import tempfile
import time
import urllib.request
import json
import ssl

import pytest

REPO = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))

AK, SK = "test-ak", "test-sk/with+chars="
STS_AK, STS_SK, STS_TOKEN = "STS.test-ak", "sts-secret", "CAIS+token/with=chars&more"
PRIVATE, PUBLIC = "bkt-private", "bkt-public"


def emulator_bin():
    path = os.environ.get("OSS_EMULATOR_BIN") or os.path.join(REPO, "target", "debug", "oss-emulator")
    if not os.path.exists(path):
        subprocess.run(["cargo", "build", "-p", "oss-emulator"], cwd=REPO, check=True)
    return path


class Emu:
    def __init__(self, extra_args=()):
        self.root = tempfile.mkdtemp(prefix="oss-emu-py-")
        args = [
            emulator_bin(), "--root", self.root, "--port", "0",
            "--access-key-id", AK, "--access-key-secret", SK,
            "--access-key-id", STS_AK, "--access-key-secret", STS_SK, "--security-token", STS_TOKEN,
            "--public-read", PUBLIC, "--create-bucket", PRIVATE, "--create-bucket", PUBLIC,
            "--admin", "--seed", "7", *extra_args,
        ]
        self.proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        line = self.proc.stdout.readline()
        m = re.match(r"listening on (https?)://([\d.]+):(\d+)", line)
        if not m:
            self.proc.kill()
            raise RuntimeError(f"emulator did not start: {line!r} {self.proc.stderr.read()}")
        self.scheme, self.host, self.port = m.group(1), m.group(2), int(m.group(3))
        self.endpoint = f"{self.scheme}://{self.host}:{self.port}"
        self.ca = None
        if self.scheme == "https":
            ca_line = self.proc.stdout.readline()
            self.ca = ca_line.split(" ", 2)[2].strip()

    def admin(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(f"{self.endpoint}/__admin/{path}", data=data, method=method)
        ctx = ssl.create_default_context(cafile=self.ca) if self.ca else None
        with urllib.request.urlopen(req, context=ctx) as r:
            return r.read().decode()

    def set_faults(self, rules, seed=None):
        return self.admin("PUT", "faults", {"rules": rules, "seed": seed})

    def log(self):
        return [json.loads(line) for line in self.admin("GET", "log").splitlines() if line]

    def clear_log(self):
        self.admin("DELETE", "log")

    def stop(self):
        self.proc.kill()
        self.proc.wait()


@pytest.fixture(scope="session")
def emu():
    e = Emu()
    yield e
    e.stop()


@pytest.fixture(autouse=True)
def _reset(emu):
    emu.set_faults([])
    emu.clear_log()
    yield
