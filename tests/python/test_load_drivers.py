"""The long-run drivers keep working: a short run of scripts/perf-peers' driver (the full run
compares dragoman with nginx and haproxy), of its instruction count, and of scripts/sweep-bench's
(see BENCHMARKS.md)."""

import os
import subprocess
import sys
import tempfile
from pathlib import Path

from conftest import binary

ROOT = Path(__file__).resolve().parents[2]


def work_dirs(*prefixes):
    """The drivers' work directories in the temporary directory: a run removes its own."""
    tmp = Path(tempfile.gettempdir())
    return {p for prefix in prefixes for p in tmp.glob(f"{prefix}*")}


def test_perf_peers_smoke():
    # The floor proxy is built beside the binary (scripts/test builds it).
    floor = ROOT / "target" / "debug" / "examples" / "floor_proxy"
    before = work_dirs("dragoman-peers-", "dragoman-record-")
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
    # Its store, canned pages and logs are gone with it (a run leaves about 2.4 MB otherwise).
    assert work_dirs("dragoman-peers-", "dragoman-record-") <= before


def test_perf_peers_rounds_report_the_median_round():
    """--rounds: each path's row is one whole round, the one with the median ratio to nginx, and
    the range of that ratio over all rounds is printed beside it."""
    sys.path.insert(0, str(ROOT / "tests" / "load"))
    from peers import median_round

    def run(cpu, nginx):
        row = ("S3 -> BOS", 10, 1000.0, 1.0, 2.0, cpu, cpu / 2, cpu / 2)
        return (row, ("nginx", 10, 1000.0, 1.0, 2.0, nginx, 1.0, 1.0) if nginx else None, None, None)

    rounds = [run(90.0, 30.0), run(40.0, 40.0), run(60.0, 30.0)]  # 3.0, 1.0, 2.0
    middle, span = median_round(rounds)
    assert middle is rounds[2] and span == (1.0, 3.0)
    # An even count reports the lower of the two middle rounds, never a blend of two minutes.
    middle, _ = median_round([*rounds, run(100.0, 20.0)])
    assert middle is rounds[2]
    # Without an nginx peer (the embedded store): the median by the path's own CPU, no range.
    alone = [run(30.0, None), run(10.0, None), run(20.0, None)]
    assert median_round(alone) == (alone[2], (None, None))

    out = subprocess.run([sys.executable, str(ROOT / "tests" / "load" / "peers.py"), "--bin", str(binary()),
                          "--smoke", "--rounds", "2", "--pages", "10", "--only", "S3 -> BOS", "--no-flood"],
                         capture_output=True, text=True, timeout=600, env=dict(os.environ, RUST_LOG="warn"))
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "2 rounds" in out.stdout, out.stdout
    row = next(line for line in out.stdout.splitlines() if line.startswith("| S3 -> BOS (translated) | 10 |"))
    cells = row.strip("| ").split(" | ")
    low, high = (float(x) for x in cells[-1].split("-"))
    assert low <= float(cells[8]) <= high, row


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
    before = work_dirs("dragoman-sweep-")
    out = subprocess.run([sys.executable, str(ROOT / "tests" / "load" / "sweep.py"), "--bin", str(binary()),
                          "--embedded", "300", "--localstack", "50"], capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    assert "| embedded | 300 |" in out.stdout, out.stdout
    assert work_dirs("dragoman-sweep-") <= before
