"""Sweep speed: uploads examined (dry run) and aborted per second by `dragoman sweep`, for a
bucket of 100,000 uploads on the embedded store and 5,000 on LocalStack (S3)."""

import argparse
import json
import os
import subprocess
import sys
import shutil
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))

from conftest import Dragoman  # noqa: E402


def fill(client, bucket, n, threads=8):
    client.create_bucket(Bucket=bucket)

    def make(i):
        client.create_multipart_upload(Bucket=bucket, Key=f"logs/{i // 1000:03}/part-{i:06}")

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(make, range(n)))


def timed_sweep(gw, bucket, *extra):
    env = dict(os.environ, DRAGOMAN_STORE__DATA_DIR=str(gw.data), RUST_LOG="warn")
    t0 = time.perf_counter()
    out = subprocess.run([os.environ["DRAGOMAN_BIN"], "sweep", "--config", str(gw.config), "--older-than", "0s",
                          "--buckets", bucket, "--format", "json", *extra], capture_output=True, text=True, env=env)
    took = time.perf_counter() - t0
    assert out.returncode == 0, out.stdout + out.stderr
    line = next(b for b in json.loads(out.stdout)["buckets"] if b["bucket"] == bucket)
    return took, line


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--embedded", type=int, default=100_000)
    ap.add_argument("--localstack", type=int, default=5_000)
    args = ap.parse_args()
    os.environ["DRAGOMAN_BIN"] = str(Path(args.bin).resolve())
    localstack = os.environ.get("DRAGOMAN_TEST_LOCALSTACK")
    work = Path(tempfile.mkdtemp(prefix="dragoman-sweep-"))
    extra = ""
    if localstack:
        extra = f"""
[backends.lake]
kind = "s3"
endpoint = "{localstack}"
access_key = "test"
secret_key = "test"

[[routes]]
buckets = "bench-s3"
backend = "lake"
"""
    gw = Dragoman(work, extra, env={"RUST_LOG": "warn"}).start()
    rows = []
    try:
        cases = [("embedded", "bench-emb", args.embedded)]
        if localstack:
            cases.append(("s3 (LocalStack)", "bench-s3", args.localstack))
        for kind, bucket, n in cases:
            t0 = time.perf_counter()
            fill(gw.client(), bucket, n)
            made = time.perf_counter() - t0
            dry, line = timed_sweep(gw, bucket)
            assert line["found"] == n, line
            abort, line = timed_sweep(gw, bucket, "--abort", "--concurrency", "16")
            assert line["aborted"] == n, line
            rows.append((kind, n, made, dry, abort))
    finally:
        gw.stop()
        if os.environ.get("KEEP_WORK"):
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print("| backend | uploads | dry run s | examined/s | --abort s | aborted/s (listing included) |")
    print("|---|---|---|---|---|---|")
    for kind, n, made, dry, abort in rows:
        print(f"| {kind} | {n} | {dry:.2f} | {n / dry:.0f} | {abort:.2f} | {n / abort:.0f} |")


if __name__ == "__main__":
    main()
