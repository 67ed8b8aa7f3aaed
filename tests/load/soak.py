"""Soak and flood (issue 9): many requests of mixed dialects and operations at many
connections over the embedded store and a stand-in backend, then a flood of idle connections
and slow bodies beside a normal caller. Prints errors, latency and the gateway's RSS at start,
peak and end; exits non-zero if any request failed, RSS did not come back down, or the
normal caller waited past a second.

    scripts/soak                  10^6 requests at 256 connections, 10,000 idle + 1000 slow
    scripts/soak --smoke          the same, small (the test command's run)
"""

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))
sys.path.insert(0, str(ROOT / "tests" / "load"))

from conftest import ACCESS_KEY, ACCESS_TOKEN, SECRET_KEY, Dragoman  # noqa: E402
from run import bce_headers, s3_headers, to_ms  # noqa: E402


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


class Sampler(threading.Thread):
    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, rss_kib(self.pid))
            time.sleep(0.2)


def lua_escape(s):
    return s.replace("\\", "\\\\").replace('"', '\\"')


def requests_for(port):
    """A mix of dialects and operations, each signed once (valid far longer than a run)."""
    base = f"http://127.0.0.1:{port}"
    reqs = []
    for bucket in ["soak-local", "soak-remote"]:
        reqs.append(("GET", f"/{bucket}?uploads", s3_headers(f"{base}/{bucket}?uploads")))
        reqs.append(("GET", f"/{bucket}?max-uploads=3&uploads", s3_headers(f"{base}/{bucket}?max-uploads=3&uploads")))
        reqs.append(("GET", f"/{bucket}?uploads=", bce_headers(port, f"/{bucket}", {"uploads": ""})))
        reqs.append(("GET", f"/v1/s3/buckets/{bucket}/uploads/?limit=5", {"Authorization": "Bearer " + ACCESS_TOKEN}))
    reqs.append(("GET", "/", s3_headers(f"{base}/")))
    reqs.append(("GET", "/v1/s3/buckets/", {"Authorization": "Bearer " + ACCESS_TOKEN}))
    return reqs


def lua(reqs):
    lines = ["local reqs = {}", "local i = 0", "init = function(args)"]
    for method, path, headers in reqs:
        hs = ", ".join(f'["{lua_escape(k)}"] = "{lua_escape(v)}"' for k, v in headers.items())
        lines.append(f'  table.insert(reqs, wrk.format("{method}", "{lua_escape(path)}", {{{hs}}}))')
    lines += ["end", "request = function()", "  i = i + 1", "  return reqs[(i % #reqs) + 1]", "end"]
    return "\n".join(lines) + "\n"


def wrk(port, script, connections, duration):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}s", "--latency", "--timeout", "10s", "-s", script,
           f"http://127.0.0.1:{port}/"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    total = int(re.search(r"(\d+) requests in", out).group(1))
    non2xx = int(m.group(1)) if (m := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    sock = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    socket_errors = sum(int(g) for g in sock.groups()) if sock else 0
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    return total, non2xx, socket_errors, p50, p99, rps, out


def flood(gw, idle_n, slow_n):
    """idle_n connections that send nothing and slow_n that announce a body and never send
    it, then one normal caller, timed."""
    opened = []
    for _ in range(idle_n):
        opened.append(socket.create_connection(("127.0.0.1", gw.port), timeout=30))
    slow = b"POST /soak-local/k?uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nx-amz-date: 20260101T000000Z\r\nContent-Length: 100\r\n\r\n"
    for _ in range(slow_n):
        s = socket.create_connection(("127.0.0.1", gw.port), timeout=30)
        s.sendall(slow)
        opened.append(s)
    time.sleep(0.5)
    started = time.monotonic()
    r = gw.client().list_multipart_uploads(Bucket="soak-local")
    waited = time.monotonic() - started
    for s in opened:
        s.close()
    return waited, r["ResponseMetadata"]["HTTPStatusCode"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--smoke", action="store_true")
    args = ap.parse_args()
    import os
    os.environ["DRAGOMAN_BIN"] = args.bin
    requests_wanted = 10_000 if args.smoke else 1_000_000
    connections = 32 if args.smoke else 256
    idle_n, slow_n = (500, 50) if args.smoke else (10_000, 1000)
    work = Path(tempfile.mkdtemp(prefix="dragoman-soak-"))
    quiet = {"RUST_LOG": "warn", "DRAGOMAN_TLS__REQUIRE_FOR": "[]"}
    (work / "remote").mkdir()
    remote = Dragoman(work / "remote", env=quiet)
    remote.start()
    extra = f"""
[backends.stand-in]
kind = "bos"
endpoint = "http://127.0.0.1:{remote.port}"
access_key = "{ACCESS_KEY}"
secret_key = "{SECRET_KEY}"

[[routes]]
buckets = "soak-remote"
backend = "stand-in"
"""
    (work / "front").mkdir()
    front = Dragoman(work / "front", extra, env=dict(quiet, DRAGOMAN_SERVER__MAX_CONCURRENCY="4096"))
    front.start()
    try:
        remote.bos().create_bucket("soak-remote")
        s3 = front.client()
        s3.create_bucket(Bucket="soak-local")
        for i in range(50):
            s3.create_multipart_upload(Bucket="soak-local", Key=f"dir/{i % 10}/k{i}")
            remote.client().create_multipart_upload(Bucket="soak-remote", Key=f"dir/{i % 10}/k{i}")
        script = work / "mix.lua"
        script.write_text(lua(requests_for(front.port)))
        pid = front.proc.pid
        # Warm up, then measure from a settled RSS.
        wrk(front.port, str(script), connections, 2)
        time.sleep(1)
        start_rss = rss_kib(pid)
        sampler = Sampler(pid)
        sampler.start()
        # Sized from a short probe so the run lands near the requests wanted.
        probe = wrk(front.port, str(script), connections, 3)
        # (A long run settles below a short probe's rate: a fifth more time reaches the count.)
        seconds = max(3, int(1.2 * requests_wanted / max(probe[5], 1)) + 1)
        total, non2xx, sock_errors, p50, p99, rps, out = wrk(front.port, str(script), connections, seconds)
        runs = 1
        # A long run settles below the probe's rate: go on until the count is reached.
        while total < requests_wanted and runs < 5:
            more = max(3, int(1.2 * (requests_wanted - total) / max(rps, 1)) + 1)
            t, n, e, _, p, _, o = wrk(front.port, str(script), connections, more)
            total, non2xx, sock_errors, p99 = total + t, non2xx + n, sock_errors + e, max(p99, p)
            seconds, runs, out = seconds + more, runs + 1, out + o
        sampler.running = False
        time.sleep(3)
        end_rss = rss_kib(pid)
        waited, status = flood(front, idle_n, slow_n)
        time.sleep(3)
        after_flood_rss = rss_kib(pid)
        # A second flood: memory the allocator kept from the first is reused, not added to.
        waited2, status2 = flood(front, idle_n, slow_n)
        time.sleep(3)
        after_second_rss = rss_kib(pid)
        waited, status = max(waited, waited2), status if status != 200 else status2
        print(f"soak: {total} requests in {seconds} s at {connections} connections, {rps:.0f} req/s, "
              f"p50 {p50:.2f} ms, p99 {p99:.2f} ms, non-2xx {non2xx}, socket errors {sock_errors}")
        print(f"RSS: start {start_rss / 1024:.1f} MiB, peak {sampler.peak / 1024:.1f} MiB, "
              f"end {end_rss / 1024:.1f} MiB, after a flood {after_flood_rss / 1024:.1f} MiB, "
              f"after a second flood {after_second_rss / 1024:.1f} MiB")
        print(f"flood: {idle_n} idle connections and {slow_n} slow bodies open, a normal caller "
              f"served in {waited * 1000:.0f} ms (HTTP {status})")
        failed = []
        if non2xx or sock_errors:
            failed.append(f"{non2xx} non-2xx answers and {sock_errors} socket errors\n{out}")
        if total < requests_wanted * 0.5:
            failed.append(f"only {total} of the {requests_wanted} requests wanted completed")
        # Flat: the end comes back near the start (allocator caches and the store's pages
        # may keep a little).
        if end_rss > start_rss * 1.5 + 16 * 1024:
            failed.append("RSS did not come back down after the load")
        if after_second_rss > after_flood_rss * 1.2 + 8 * 1024:
            failed.append("a second flood grew RSS again: memory is held per connection after it closes")
        if waited >= 1.0 or status != 200:
            failed.append("the normal caller was not served within a second during the flood")
        if failed:
            raise SystemExit("soak FAILED: " + "; ".join(failed))
    finally:
        front.stop()
        remote.stop()
        if os.environ.get("KEEP_WORK"):
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
