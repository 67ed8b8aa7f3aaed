"""The long-run drivers keep working: a short run of scripts/perf-peers' driver (the full run
compares dragoman with nginx and haproxy), of its instruction count, and of scripts/sweep-bench's
(see BENCHMARKS.md)."""

import os
import subprocess
import sys
from pathlib import Path

from conftest import binary

ROOT = Path(__file__).resolve().parents[2]


def test_perf_peers_smoke():
    # The floor proxy is built beside the binary (scripts/test builds it).
    floor = ROOT / "target" / "debug" / "examples" / "floor_proxy"
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "load" / "peers.py"), "--bin", str(binary()),
                          "--floor", str(floor), "--smoke"], capture_output=True, text=True, timeout=600,
                         env=dict(os.environ, RUST_LOG="warn"))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    for row in ("| BOS -> BOS | 10 |", "| S3 -> S3 | 1000 |", "| S3 -> embedded store | 1000 |",
                "| dragoman S3 -> BOS | 1000 |", "| haproxy | 10 |", "| floor (S3 page) | 1000 |"):
        assert row in out.stdout, out.stdout
    # The floor answered (a floor that failed every request would show no rate, or a 502 page).
    row = next(line for line in out.stdout.splitlines() if line.startswith("| floor (BOS page) | 10 |"))
    assert float(row.strip("| ").split(" | ")[2]) > 0, row


def test_perf_peers_instructions_smoke():
    """The front's instructions per request under callgrind (BENCHMARKS.md compares builds by it):
    counting switches on only for wrk's run, so the figure is per completed request."""
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "load" / "peers.py"), "--bin", str(binary()),
                          "--instructions", "--pages", "10", "--only", "S3 -> S3", "--duration", "2s"],
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    row = next(line for line in out.stdout.splitlines() if line.startswith("| S3 -> S3 | 10 |"))
    requests, per_request = (int(c) for c in row.strip("| ").split(" | ")[2:4])
    # A debug build spends a few million instructions on a request (3.7M when this was written).
    assert requests > 0 and 10_000 < per_request < 100_000_000, row


def test_sweep_bench_smoke():
    """scripts/sweep-bench's driver on small buckets (the full run is 100,000 and 5,000)."""
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "load" / "sweep.py"), "--bin", str(binary()),
                          "--embedded", "300", "--localstack", "50"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "| embedded | 300 |" in out.stdout, out.stdout
