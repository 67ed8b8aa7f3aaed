"""dragoman side by side with nginx and haproxy as proxies of the same listing page, in one
run: CPU per request (the process's utime + stime from /proc over the requests wrk completed),
req/s, p50 and p99; then RSS and threads under 1000 connections.

The backend is a static nginx serving canned pages that a real dragoman store answered to the
exact requests dragoman's backend clients send (recorded first), so the backend costs almost
nothing and every proxy is measured on the same bytes:

- BOS -> BOS: a BOS caller, a BOS backend (canned JSON);
- S3 -> BOS: an S3 caller translated to the BOS backend;
- S3 -> S3: an S3 caller, an S3 backend (canned XML);
- S3 -> embedded: an S3 caller answered from dragoman's own store.

nginx and haproxy pass the caller's request to the same static backend.

`--instructions` runs the front and the store under callgrind instead, counting only while
wrk runs, and prints the user-side instructions per request of each path: a figure a shared,
noisy machine does not move, for comparing two builds (the kernel's share, which CPU time
includes, is not in it).
"""

import argparse
import http.server
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))
sys.path.insert(0, str(ROOT / "tests" / "load"))

from conftest import ACCESS_KEY, SECRET_KEY, Dragoman  # noqa: E402
from run import bce_headers, s3_headers, to_ms  # noqa: E402

PAGES = (10, 1000)
STORE_BUCKET = "real"
EMBEDDED = "S3 -> embedded store"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pids):
    """User and kernel CPU seconds of the processes, apart."""
    user = kernel = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        user += int(fields[11]) / os.sysconf("SC_CLK_TCK")
        kernel += int(fields[12]) / os.sysconf("SC_CLK_TCK")
    return user, kernel


def children(pid):
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def status(pid, field):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def median_round(runs):
    """A path's rounds -> (the round with the median dragoman ÷ nginx, (lowest, highest) ÷ nginx).

    One whole round is reported, not a median of each column apart, so that every figure in a
    row comes from the same minute. A path without an nginx peer (the embedded store) takes its
    median round by its own CPU per request."""
    def ratio(run):
        r, ng = run[0], run[1]
        return r[5] / ng[5] if ng else r[5]
    ordered = sorted(runs, key=ratio)
    middle = ordered[(len(ordered) - 1) // 2]
    span = (ratio(ordered[0]), ratio(ordered[-1])) if middle[1] else (None, None)
    return middle, span


def wrk(url, headers, duration, connections, threads=2):
    cmd = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{duration}", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out or "Socket errors" in out and connections <= 64:
        raise SystemExit(f"errors from {url}:\n{out}")
    done = int(re.search(r"(\d+) requests in", out).group(1))
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    return done, rps, p50, p99


class Recorder(http.server.BaseHTTPRequestHandler):
    """Writes down the request a backend client sends, and fails it."""
    seen = []

    def do_GET(self):  # noqa: N802
        Recorder.seen.append(self.path)
        self.send_response(503)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def record(kind, caller_url, caller_headers):
    """The path and query dragoman's `kind` client sends for one caller request."""
    import requests
    rec = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=rec.serve_forever, daemon=True).start()
    Recorder.seen = []
    work = Path(tempfile.mkdtemp(prefix="dragoman-record-"))
    gw = Dragoman(work, f"""
[backends.rec]
kind = "{kind}"
endpoint = "http://127.0.0.1:{rec.server_port}"
access_key = "{ACCESS_KEY}"
secret_key = "{SECRET_KEY}"
max_retries = 0

[[routes]]
buckets = "*-page*"
backend = "rec"
rename = "page"
""").start()
    try:
        url = caller_url.replace("{port}", str(gw.port))
        requests.get(url, headers=caller_headers(url, gw.port), timeout=10)
    finally:
        gw.stop()
        rec.shutdown()
        shutil.rmtree(work, ignore_errors=True)
    return list(Recorder.seen)


def callgrind_wrapper(workdir, real_bin):
    """A DRAGOMAN_BIN that runs the real binary under callgrind, counting nothing until told."""
    wrapper = workdir / "callgrind-dragoman"
    wrapper.write_text(f"""#!/bin/sh
exec valgrind --tool=callgrind --instr-atstart=no --callgrind-out-file={workdir / 'callgrind.out'} \\
  {real_bin} "$@"
""")
    wrapper.chmod(0o755)
    return str(wrapper)


def paths(front, store, page):
    """The paths measured at one page size: (label, the backend's dialect or None for the
    store, the process that answers, url, headers or None for S3's, signed when sent)."""
    s3_qs = f"uploads&max-uploads={page}"
    return [
        ("BOS -> BOS", "bos", front, f"http://127.0.0.1:{front.port}/bosb-page{page}?uploads=&maxUploads={page}",
         bce_headers(front.port, f"/bosb-page{page}", {"uploads": "", "maxUploads": str(page)})),
        ("S3 -> BOS (translated)", "bos", front, f"http://127.0.0.1:{front.port}/bosb-page{page}?{s3_qs}", None),
        ("S3 -> S3", "s3", front, f"http://127.0.0.1:{front.port}/s3b-page{page}?{s3_qs}", None),
        (EMBEDDED, None, store, f"http://127.0.0.1:{store.port}/{STORE_BUCKET}?{s3_qs}", None),
    ]


def warm_up(url, headers):
    """One request, waited for however long it takes; its answer does not matter here."""
    try:
        with urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=300) as r:
            r.read()
    except (urllib.error.URLError, OSError) as e:
        print(f"warm-up request to {url}: {e}", file=sys.stderr)


def instructions(args, front, store, pages):
    """Instructions per request of each path, one path at a time: callgrind's counters in the
    process answering it (the front, or the store for the embedded path) are zeroed, switched
    on for one wrk run and dumped. Two connections: callgrind runs one thread at a time, fifty
    times slower, and a page 1000 would outlast wrk's timeout behind more."""
    print("\n| path | page | requests | instructions per request |\n|---|---|---|---|")
    for page in pages:
        for label, _, gw, url, headers in paths(front, store, page):
            if args.only not in label:
                continue
            dumps = lambda: gw.workdir.glob("callgrind.out.*")  # noqa: E731
            for f in dumps():
                f.unlink()
            # One request first, counters still off: valgrind translates each piece of code the
            # first time it runs and the backend connection is opened, which under callgrind (a
            # debug build above all) can outlast a short wrk run and leave it no request at all.
            warm_up(url, headers or s3_headers(url))
            control = ["callgrind_control"]
            pid = str(gw.proc.pid)
            subprocess.run(control + ["--zero", pid], check=True, capture_output=True)
            subprocess.run(control + ["--instr=on", pid], check=True, capture_output=True)
            done, *_ = wrk(url, headers or s3_headers(url), args.duration, 2, threads=1)
            subprocess.run(control + ["--instr=off", pid], check=True, capture_output=True)
            subprocess.run(control + ["--dump", pid], check=True, capture_output=True)
            total = 0
            for i, f in enumerate(dumps()):
                m = re.search(r"^totals: (\d+)", f.read_text(errors="replace"), re.M)
                total += int(m.group(1)) if m else 0
                if args.keep_profiles:
                    name = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
                    keep = Path(args.keep_profiles) / f"{name}-page{page}.{i}.callgrind"
                    keep.parent.mkdir(parents=True, exist_ok=True)
                    keep.write_bytes(f.read_bytes())
            if done == 0 or total == 0:
                raise SystemExit(f"{label} page {page}: {done} requests, {total} instructions counted")
            print(f"| {label} | {page} | {done} | {total / done:.0f} |", flush=True)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--duration", default="8s")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--flood-connections", type=int, default=1000)
    ap.add_argument("--smoke", action="store_true", help="a short run that checks the driver")
    ap.add_argument("--pages", default=",".join(map(str, PAGES)), help="page sizes to measure, e.g. 10")
    ap.add_argument("--only", default="", help="measure only the paths whose label contains this")
    ap.add_argument("--no-cpu", action="store_true", help="skip the CPU table (memory only)")
    ap.add_argument("--rounds", type=int, default=1,
                    help="measure the peers and every path this many times, one round after the "
                         "other, and report each path's median round (by ÷ nginx) with the range "
                         "of ÷ nginx over all rounds: on a shared host nginx itself drifts between "
                         "runs, and a ratio from one run can catch a quiet peer and a busy dragoman")
    ap.add_argument("--no-flood", action="store_true", help="skip the memory table")
    ap.add_argument("--instructions", action="store_true",
                    help="count instructions per request under callgrind (no peers, no flood)")
    ap.add_argument("--keep-profiles", metavar="DIR",
                    help="with --instructions: keep each path's callgrind dumps in DIR, "
                         "for callgrind_annotate")
    ap.add_argument("--floor", metavar="BIN",
                    help="also measure this floor proxy (crates/backend/examples/floor_proxy.rs) "
                         "in front of the same backend: dragoman's transport with none of its work")
    ap.add_argument("--syscalls", action="store_true",
                    help="count system calls and context switches per request with `perf stat` "
                         "(the counts include the half second before wrk starts)")
    ap.add_argument("--perf-record", metavar="DIR",
                    help="record each dragoman path's CPU run with `perf record` (sampled, real "
                         "CPU: SHA-NI and the kernel included, unlike callgrind) into DIR")
    args = ap.parse_args()
    if (args.syscalls or args.perf_record) and not shutil.which("perf"):
        raise SystemExit("--syscalls and --perf-record need perf (Debian: linux-perf)")
    if args.floor and not Path(args.floor).is_file():
        raise SystemExit(f"no floor proxy at {args.floor}: "
                         "cargo build --release -p dragoman-backend --example floor_proxy")
    if args.instructions:
        args.no_flood = True
    pages = [int(p) for p in args.pages.split(",")]
    if args.smoke:
        args.duration, args.flood_connections = "1s", 100
    os.environ["DRAGOMAN_BIN"] = str(Path(args.bin).resolve())
    os.environ["RUST_LOG"] = "warn"
    work = Path(tempfile.mkdtemp(prefix="dragoman-peers-"))
    work.chmod(0o755)  # nginx's workers run unprivileged and read the canned pages
    procs, gateways = [], []
    try:
        # 1. A real store with 1000 uploads: it answers the canned pages, and is itself the
        #    "S3 -> embedded" path.
        (work / "store").mkdir()
        store = Dragoman(work / "store", env={"RUST_LOG": "warn"}).start()
        gateways.append(store)
        s3 = store.client()
        s3.create_bucket(Bucket=STORE_BUCKET)
        for i in range(1000):
            s3.create_multipart_upload(Bucket=STORE_BUCKET, Key=f"logs/2026/11/{i // 100:02}/part {i:05}.bin")

        # 2. Canned pages: what the store answers to the requests dragoman's clients send.
        import requests
        canned = work / "canned"
        canned.mkdir(mode=0o755)
        files = {}
        for page in PAGES:
            for kind, caller in (("s3", f"http://127.0.0.1:{{port}}/x-page?uploads&max-uploads={page}"),
                                 ("bos", f"http://127.0.0.1:{{port}}/x-page?uploads&max-uploads={page}")):
                seen = record(kind, caller, lambda url, port: s3_headers(url))
                assert len(seen) == 1, f"{kind} page {page}: dragoman sent {seen}"
                path = seen[0].replace("/page", f"/{STORE_BUCKET}", 1)
                url = f"http://127.0.0.1:{store.port}{path}"
                if kind == "s3":
                    headers = s3_headers(url)
                else:
                    q = dict(p.split("=", 1) if "=" in p else (p, "") for p in path.split("?", 1)[1].split("&"))
                    from urllib.parse import unquote
                    headers = bce_headers(store.port, f"/{STORE_BUCKET}", {k: unquote(v) for k, v in q.items()})
                body = requests.get(url, headers=headers, timeout=10)
                assert body.status_code == 200, body.text
                name = f"{kind}-{page}.{'xml' if kind == 's3' else 'json'}"
                there = f"page{page}".encode()
                (canned / name).write_bytes(body.content.replace(
                    f">{STORE_BUCKET}<".encode(), b">" + there + b"<").replace(
                    f'"{STORE_BUCKET}"'.encode(), b'"' + there + b'"'))
                files[(kind, page)] = name

        # 3. The static backend (one nginx, a port per dialect) and the peer proxies.
        ports = {k: free_port() for k in ("static_s3", "static_bos", "nginx_s3", "nginx_bos",
                                          "haproxy_s3", "haproxy_bos")}

        def canned_locations(kind, ctype):
            return "\n".join(
                f"        location = /page{page} {{ default_type {ctype}; alias {canned / files[(kind, page)]}; }}"
                for page in PAGES)

        common = f"""
worker_rlimit_nofile 8192;
error_log {work}/nginx-%s.log warn;
pid {work}/nginx-%s.pid;
events {{ worker_connections 4096; }}
"""
        (work / "static.conf").write_text((common % ("static", "static")) + f"""
worker_processes 1;
http {{
    access_log off;
    keepalive_requests 1000000;
    server {{
        listen 127.0.0.1:{ports['static_s3']} backlog=4096;
{canned_locations('s3', 'application/xml')}
    }}
    server {{
        listen 127.0.0.1:{ports['static_bos']} backlog=4096;
{canned_locations('bos', 'application/json')}
    }}
}}
""")
        (work / "proxy.conf").write_text((common % ("proxy", "proxy")) + f"""
worker_processes 2;
http {{
    access_log off;
    keepalive_requests 1000000;
    upstream s3 {{ server 127.0.0.1:{ports['static_s3']}; keepalive 64; }}
    upstream bos {{ server 127.0.0.1:{ports['static_bos']}; keepalive 64; }}
    server {{
        listen 127.0.0.1:{ports['nginx_s3']} backlog=4096;
        location / {{ proxy_pass http://s3; proxy_http_version 1.1; proxy_set_header Connection ""; }}
    }}
    server {{
        listen 127.0.0.1:{ports['nginx_bos']} backlog=4096;
        location / {{ proxy_pass http://bos; proxy_http_version 1.1; proxy_set_header Connection ""; }}
    }}
}}
""")
        (work / "haproxy.cfg").write_text(f"""
global
    nbthread 2
    maxconn 8192
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    http-reuse always
frontend s3
    bind 127.0.0.1:{ports['haproxy_s3']}
    default_backend s3
frontend bos
    bind 127.0.0.1:{ports['haproxy_bos']}
    default_backend bos
backend s3
    server static 127.0.0.1:{ports['static_s3']}
backend bos
    server static 127.0.0.1:{ports['static_bos']}
""")
        for conf in ("static", "proxy"):
            subprocess.run(["nginx", "-c", str(work / f"{conf}.conf"), "-p", str(work)], check=True)
        haproxy = subprocess.Popen(["haproxy", "-f", str(work / "haproxy.cfg")],
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        procs.append(haproxy)
        nginx_pid = int((work / "nginx-proxy.pid").read_text())
        # The transport floor (crates/backend/examples/floor_proxy.rs): dragoman's runtime,
        # server and client with none of its work, in front of the same static backend.
        floors = {}
        for kind in ("s3", "bos") if args.floor else ():
            ports[f"floor_{kind}"] = free_port()
            floors[kind] = subprocess.Popen(
                [args.floor, f"127.0.0.1:{ports[f'floor_{kind}']}", f"http://127.0.0.1:{ports[f'static_{kind}']}"],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            procs.append(floors[kind])
        time.sleep(0.5)

        # 4. dragoman in front of the static backend.
        (work / "front").mkdir()
        real_bin = os.environ["DRAGOMAN_BIN"]
        if args.instructions:
            os.environ["DRAGOMAN_BIN"] = callgrind_wrapper(work / "front", real_bin)
        front = Dragoman(work / "front", f"""
[backends.canned-s3]
kind = "s3"
endpoint = "http://127.0.0.1:{ports['static_s3']}"
access_key = "{ACCESS_KEY}"
secret_key = "{SECRET_KEY}"

[backends.canned-bos]
kind = "bos"
endpoint = "http://127.0.0.1:{ports['static_bos']}"
access_key = "{ACCESS_KEY}"
secret_key = "{SECRET_KEY}"

""" + "".join(f"""
[[routes]]
buckets = "{prefix}-page{page}"
backend = "{backend}"
rename = "page{page}"
""" for page in PAGES for prefix, backend in (("s3b", "canned-s3"), ("bosb", "canned-bos"))),
            env={"RUST_LOG": "warn"}).start()
        gateways.append(front)
        if args.instructions:
            if args.only in EMBEDDED:
                # The store, on the same data, under callgrind too.
                store.stop()
                os.environ["DRAGOMAN_BIN"] = callgrind_wrapper(work / "store", real_bin)
                store.start()
            instructions(args, front, store, pages)
            return

        rows = []

        def measure(label, page, url, headers, pids, profile=False):
            recorder = None
            if profile and args.perf_record:
                name = re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-")
                out = Path(args.perf_record) / f"{name}-page{page}.perf"
                out.parent.mkdir(parents=True, exist_ok=True)
                recorder = subprocess.Popen(
                    ["perf", "record", "-q", "-F", "999", "--call-graph", "dwarf,16384", "-o", str(out),
                     "-p", ",".join(map(str, pids()))],
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                time.sleep(0.5)  # perf attaches before the first request
            counter = None
            if args.syscalls:
                counter = subprocess.Popen(
                    ["perf", "stat", "-x", ",", "-e", os.environ.get("PEERS_EVENTS", "raw_syscalls:sys_enter,context-switches"),
                     "-p", ",".join(map(str, pids()))],
                    stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
                time.sleep(0.5)
            user0, kernel0 = cpu_seconds(pids())
            done, rps, p50, p99 = wrk(url, headers, args.duration, args.connections)
            user1, kernel1 = cpu_seconds(pids())
            if counter:
                counter.send_signal(signal.SIGINT)
                _, err = counter.communicate(timeout=30)
                counts = {f[2]: float(f[0]) for f in (line.split(",") for line in err.splitlines())
                          if len(f) > 2 and f[0].replace(".", "").isdigit()}
                print(f"{label} page {page}: " + ", ".join(
                    f"{k} {v / done:.2f}/req" for k, v in counts.items()), flush=True)
            user, kernel = (user1 - user0) / done * 1e6, (kernel1 - kernel0) / done * 1e6
            if recorder:
                recorder.send_signal(signal.SIGINT)
                recorder.wait(timeout=60)
            return (label, page, rps, p50, p99, user + kernel, user, kernel)

        nginx_pids = lambda: [nginx_pid, *children(nginx_pid)]  # noqa: E731
        haproxy_pids = lambda: [haproxy.pid]  # noqa: E731
        rounds = {}  # (label, page) -> that path's row of each round
        for round_ in range(1 if args.no_cpu else max(1, args.rounds)):
            for page in ([] if args.no_cpu else pages):
                s3_qs = f"uploads&max-uploads={page}"
                peer = {}
                for kind in ("s3", "bos"):
                    floor = [("floor", lambda kind=kind: [floors[kind].pid])] if floors else []
                    for name, pids in [("nginx", nginx_pids), ("haproxy", haproxy_pids), *floor]:
                        url = f"http://127.0.0.1:{ports[f'{name}_{kind}']}/page{page}?{s3_qs}"
                        peer[(name, kind)] = measure(name, page, url, {}, pids)
                for label, kind, gw, url, headers in paths(front, store, page):
                    if args.only not in label:
                        continue
                    # Only the first round is profiled: one profile a path is enough to read.
                    r = measure(label, page, url, headers or s3_headers(url), lambda: [gw.proc.pid],
                                profile=round_ == 0)
                    rounds.setdefault((label, page), []).append(
                        (r, peer.get(("nginx", kind)), peer.get(("haproxy", kind)), peer.get(("floor", kind))))
        spans = {}
        for key, runs in rounds.items():
            row, span = median_round(runs)
            rows.append(row)
            spans[key] = span

        print(f"\nwrk -t2 -c{args.connections} -d{args.duration}; CPU µs per request = utime+stime / completed "
              "requests; nginx and haproxy proxy the same canned page\n")
        if args.rounds > 1:
            print(f"{args.rounds} rounds; each row is the path's median round by ÷ nginx, and the last "
                  "column the range of ÷ nginx over all rounds\n")
        many = args.rounds > 1
        print("| path | page | dragoman req/s | p50 ms | p99 ms | dragoman µs/req | nginx µs/req | haproxy µs/req "
              "| ÷ nginx | ÷ haproxy |" + (" floor µs/req | ÷ floor | floor ÷ nginx |" if floors else "")
              + (" ÷ nginx, all rounds |" if many else ""))
        print("|---|---|---|---|---|---|---|---|---|---|" + ("---|---|---|" if floors else "")
              + ("---|" if many else ""))
        for (label, page, rps, p50, p99, cpu, *_), ng, hp, fl in rows:
            n = f"{ng[5]:.1f}" if ng else "–"
            h = f"{hp[5]:.1f}" if hp else "–"
            rn = f"{cpu / ng[5]:.1f}" if ng else "–"
            rh = f"{cpu / hp[5]:.1f}" if hp else "–"
            extra = ""
            if floors:
                extra = (f" {fl[5]:.1f} | {cpu / fl[5]:.2f} | {fl[5] / ng[5]:.2f} |" if fl and ng
                         else " – | – | – |")
            if many:
                low, high = spans[(label, page)]
                extra += f" {low:.1f}-{high:.1f} |" if low is not None else " – |"
            print(f"| {label} | {page} | {rps:.0f} | {p50:.2f} | {p99:.2f} | {cpu:.1f} | {n} | {h} | {rn} | {rh} |"
                  + extra)
        print("\nThe same CPU split into user and kernel time, µs per request (the kernel's share is "
              "mostly the sockets: a proxy cannot go below two reads and two writes a request)\n")
        print("| path | page | dragoman user | dragoman kernel | nginx user | nginx kernel |"
              + (" floor user | floor kernel |" if floors else ""))
        print("|---|---|---|---|---|---|" + ("---|---|" if floors else ""))
        for (label, page, *_, user, kernel), ng, _hp, fl in rows:
            nu, nk = (f"{ng[6]:.1f}", f"{ng[7]:.1f}") if ng else ("–", "–")
            extra = ""
            if floors:
                extra = f" {fl[6]:.1f} | {fl[7]:.1f} |" if fl else " – | – |"
            print(f"| {label} | {page} | {user:.1f} | {kernel:.1f} | {nu} | {nk} |" + extra)
        print("\n| peer | page | req/s | p50 ms | p99 ms |\n|---|---|---|---|---|")
        for (label, page, *_), ng, hp, fl in rows:
            for p in (ng, hp, fl):
                if p and label.startswith("S3 -> S3") or p and label.startswith("BOS -> BOS"):
                    print(f"| {p[0]} ({'S3' if 'S3 -> S3' in label else 'BOS'} page) | {page} | {p[2]:.0f} | "
                          f"{p[3]:.2f} | {p[4]:.2f} |")

        # 5. Memory under many connections, from a fresh start: the gateways are restarted so
        #    that page 10 is not measured on top of what the page-1000 runs above left behind
        #    (their "at rest" figure is printed first). Page 1000 then runs on the same
        #    processes as page 10.
        if not args.no_flood:
            rest = {"front": status(front.proc.pid, "VmRSS"), "store": status(store.proc.pid, "VmRSS")}
            print(f"\nAt rest after the CPU runs: front {rest['front'] / 1024:.0f} MiB, "
                  f"store {rest['store'] / 1024:.0f} MiB; both restarted for the floods.")
            front.restart()
            store.restart()
        print(f"\nRSS under {args.flood_connections} connections (wrk -t2 -c{args.flood_connections}), MiB\n")
        print("| process | page | before | peak | after | threads peak |")
        print("|---|---|---|---|---|---|")
        floods = []
        for page in ([] if args.no_flood else pages):
            s3_qs = f"uploads&max-uploads={page}"
            floods += [
                ("dragoman S3 -> BOS", page, front.proc.pid, f"http://127.0.0.1:{front.port}/bosb-page{page}?{s3_qs}", True),
                ("dragoman S3 -> S3", page, front.proc.pid, f"http://127.0.0.1:{front.port}/s3b-page{page}?{s3_qs}", True),
                ("dragoman S3 -> embedded", page, store.proc.pid, f"http://127.0.0.1:{store.port}/{STORE_BUCKET}?{s3_qs}", True),
            ]
            floods = [f for f in floods if args.only in f[0]] if args.only else floods
            floods += [] if args.only else [
                ("nginx", page, nginx_pid, f"http://127.0.0.1:{ports['nginx_s3']}/page{page}?{s3_qs}", False),
                ("haproxy", page, haproxy.pid, f"http://127.0.0.1:{ports['haproxy_s3']}/page{page}?{s3_qs}", False),
            ]
        for label, page, pid, url, signed in floods:
            pids = [pid, *children(pid)]
            before = sum(status(p, "VmRSS") for p in pids)
            peak = [before, 0]
            stop = threading.Event()

            def watch():
                while not stop.is_set():
                    ps = [pid, *children(pid)]
                    peak[0] = max(peak[0], sum(status(p, "VmRSS") for p in ps))
                    peak[1] = max(peak[1], sum(status(p, "Threads") for p in ps))
                    time.sleep(0.05)

            t = threading.Thread(target=watch)
            t.start()
            wrk(url, s3_headers(url) if signed else {}, "4s" if not args.smoke else "1s", args.flood_connections)
            stop.set()
            t.join()
            time.sleep(3)  # "after": 3 s after the load, time for an allocator to give memory back
            after = sum(status(p, "VmRSS") for p in [pid, *children(pid)])
            print(f"| {label} | {page} | {before / 1024:.0f} | {peak[0] / 1024:.0f} | {after / 1024:.0f} | {peak[1]} |")
    finally:
        for gw in gateways:
            gw.stop()
        for conf in ("static", "proxy"):
            pid_file = work / f"nginx-{conf}.pid"
            if pid_file.exists():
                os.kill(int(pid_file.read_text()), signal.SIGQUIT)
        for p in procs:
            p.terminate()
            p.wait(timeout=10)
        # The store, the canned pages and the logs: a run's own, kept only if asked for.
        if os.environ.get("KEEP_WORK"):
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
