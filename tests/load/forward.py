"""Forwarding throughput: one large object put and got directly on LocalStack and through
dragoman (S3 to S3, re-signed, streamed), in one run. Prints MiB/s each way, the ratio, and
dragoman's CPU seconds per GiB forwarded (utime + stime from /proc over each transfer).

Bodies are produced and hashed on the fly, never held in memory, and sent as presigned
requests (unsigned payload), so the client costs the same on both paths.
"""

import argparse
import hashlib
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))

import boto3  # noqa: E402
import requests  # noqa: E402
from botocore.config import Config  # noqa: E402

from conftest import REGION, Dragoman  # noqa: E402
from test_forward_s3 import Pattern  # noqa: E402

BUCKET = "bench-forward"


def cpu_seconds(pid):
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def transfer(client, size):
    """(seconds up, seconds down) for one object of `size` bytes, checked by SHA-256."""
    put = client.generate_presigned_url("put_object", Params={"Bucket": BUCKET, "Key": "big"}, ExpiresIn=3600)
    t0 = time.perf_counter()
    r = requests.put(put, data=Pattern(size), timeout=3600)
    up = time.perf_counter() - t0
    assert r.status_code == 200, r.text
    get = client.generate_presigned_url("get_object", Params={"Bucket": BUCKET, "Key": "big"}, ExpiresIn=3600)
    h, n = hashlib.sha256(), 0
    t0 = time.perf_counter()
    with requests.get(get, stream=True, timeout=3600) as r:
        assert r.status_code == 200
        for block in r.iter_content(1 << 20):
            h.update(block)
            n += len(block)
    down = time.perf_counter() - t0
    expected = hashlib.sha256()
    src = Pattern(size)
    for block in iter(lambda: src.read(1 << 16), b""):
        expected.update(block)
    assert n == size and h.hexdigest() == expected.hexdigest(), "the object came back changed"
    return up, down


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=str(ROOT / "target" / "release" / "dragoman"))
    ap.add_argument("--size-mib", type=int, default=1024)
    args = ap.parse_args()
    os.environ["DRAGOMAN_BIN"] = str(Path(args.bin).resolve())
    localstack = os.environ["DRAGOMAN_TEST_LOCALSTACK"]
    size = args.size_mib << 20
    cfg = Config(s3={"addressing_style": "path"}, signature_version="s3v4")
    direct = boto3.client("s3", endpoint_url=localstack, aws_access_key_id="test",
                          aws_secret_access_key="test", region_name=REGION, config=cfg)
    direct.create_bucket(Bucket=BUCKET)
    with tempfile.TemporaryDirectory() as work:
        gw = Dragoman(Path(work), f"""
[backends.lake]
kind = "s3"
endpoint = "{localstack}"
access_key = "test"
secret_key = "test"

[[routes]]
buckets = "bench-*"
backend = "lake"
""", env={"RUST_LOG": "warn"}).start()
        try:
            d_up, d_down = transfer(direct, size)
            through = gw.client()
            cpu0 = cpu_seconds(gw.proc.pid)
            g_up, g_down = transfer(through, size)
            cpu = cpu_seconds(gw.proc.pid) - cpu0
        finally:
            gw.stop()
    mib = size / (1 << 20)
    print(f"object {mib:.0f} MiB, put then get, sha256 checked")
    print(f"{'path':<10} {'direct MiB/s':>13} {'via dragoman MiB/s':>19} {'ratio':>6}")
    for name, d, g in (("put", d_up, g_up), ("get", d_down, g_down)):
        print(f"{name:<10} {mib / d:>13.1f} {mib / g:>19.1f} {d / g:>6.2f}")
    print(f"dragoman CPU: {cpu:.2f} s for {2 * mib:.0f} MiB forwarded = {cpu / (2 * mib / 1024):.2f} s per GiB")


if __name__ == "__main__":
    main()
