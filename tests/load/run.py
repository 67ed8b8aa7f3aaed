"""Load comparison: a listing answered directly by a backend, through dragoman in the same
dialect, and through dragoman translated to another dialect. Prints req/s, p50, p99 and ratios.

Two backends: an S3 service (LocalStack 4.4.0, started by scripts/with-localstack) and a BOS
service played by a dragoman over its embedded store. Requests are signed once and replayed by
wrk: a bce-auth-v1 signature is valid for 30 minutes and SigV4 allows 15 minutes of skew, far
longer than a run.
"""

import argparse
import hashlib
import hmac
import os
import re
import subprocess
import sys
import shutil
import tempfile
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tests" / "python"))

from botocore.auth import S3SigV4Auth  # noqa: E402
from botocore.awsrequest import AWSRequest  # noqa: E402
from botocore.credentials import Credentials  # noqa: E402

from conftest import ACCESS_KEY, REGION, SECRET_KEY, Dragoman  # noqa: E402

BUCKET = "load"
LS_BUCKET = "load-localstack"


def bce_headers(port, path, query, ak=ACCESS_KEY, sk=SECRET_KEY):
    enc = lambda s: quote(s, safe="-_.~")  # noqa: E731
    ts = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    headers = {"host": f"127.0.0.1:{port}", "x-bce-date": ts}
    prefix = f"bce-auth-v1/{ak}/{ts}/1800"
    key = hmac.new(sk.encode(), prefix.encode(), hashlib.sha256).hexdigest()
    canonical_query = "&".join(sorted(f"{enc(k)}={enc(v)}" for k, v in query.items()))
    canonical_headers = "\n".join(sorted(f"{enc(k)}:{enc(v)}" for k, v in headers.items()))
    canonical = f"GET\n{quote(path, safe='/-_.~')}\n{canonical_query}\n{canonical_headers}"
    signature = hmac.new(key.encode(), canonical.encode(), hashlib.sha256).hexdigest()
    return {"x-bce-date": ts, "Authorization": f"{prefix}//{signature}"}


def s3_headers(url, ak=ACCESS_KEY, sk=SECRET_KEY):
    req = AWSRequest(method="GET", url=url)
    S3SigV4Auth(Credentials(ak, sk), "s3", REGION).add_auth(req)
    return {k: v for k, v in req.headers.items() if k.lower() != "host"}


def to_ms(value):
    m = re.match(r"([\d.]+)(us|ms|s)", value)
    number, unit = float(m.group(1)), m.group(2)
    return number * {"us": 0.001, "ms": 1.0, "s": 1000.0}[unit]


def wrk(url, headers, duration, connections):
    cmd = ["wrk", "-t2", f"-c{connections}", f"-d{duration}", "--latency"]
    for k, v in headers.items():
        cmd += ["-H", f"{k}: {v}"]
    out = subprocess.run(cmd + [url], capture_output=True, text=True, check=True).stdout
    if "Non-2xx" in out:
        raise SystemExit(f"non-2xx answers from {url}:\n{out}")
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = to_ms(re.search(r"\s50%\s+(\S+)", out).group(1))
    p99 = to_ms(re.search(r"\s99%\s+(\S+)", out).group(1))
    return rps, p50, p99


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--duration", default="10s")
    ap.add_argument("--connections", type=int, default=16)
    ap.add_argument("--uploads", type=int, default=1000)
    args = ap.parse_args()
    os.environ["DRAGOMAN_BIN"] = str(Path(args.bin).resolve())
    os.environ["RUST_LOG"] = "warn"
    work = Path(tempfile.mkdtemp(prefix="dragoman-load-"))
    (work / "remote").mkdir()
    (work / "front").mkdir()
    remote = Dragoman(work / "remote").start()
    front = None
    try:
        s3 = remote.client()
        s3.create_bucket(Bucket=BUCKET)
        for i in range(args.uploads):
            s3.create_multipart_upload(Bucket=BUCKET, Key=f"logs/2026/11/{i // 100:02}/part {i:05}.bin")
        localstack = os.environ["DRAGOMAN_TEST_LOCALSTACK"]
        import boto3
        from botocore.config import Config

        ls = boto3.client("s3", endpoint_url=localstack, aws_access_key_id="test", aws_secret_access_key="test",
                          region_name=REGION, config=Config(s3={"addressing_style": "path"}))
        ls.create_bucket(Bucket=LS_BUCKET)
        for i in range(args.uploads):
            ls.create_multipart_upload(Bucket=LS_BUCKET, Key=f"logs/2026/11/{i // 100:02}/part {i:05}.bin")
        front = Dragoman(work / "front", f"""
[log]
filter = "warn"

[backends.localstack]
kind = "s3"
endpoint = "{localstack}"
access_key = "test"
secret_key = "test"

[[routes]]
buckets = "{LS_BUCKET}"
backend = "localstack"

[backends.bos-remote]
kind = "bos"
endpoint = "http://127.0.0.1:{remote.port}"
access_key = "{ACCESS_KEY}"
secret_key = "{SECRET_KEY}"

[[routes]]
buckets = "{BUCKET}"
backend = "bos-remote"
""").start()
        rows = []
        ls_port = int(localstack.rsplit(":", 1)[1])
        for page in (10, 1000):
            s3_qs = f"uploads&max-uploads={page}"
            direct = f"http://127.0.0.1:{ls_port}/{LS_BUCKET}?{s3_qs}"
            same = f"http://127.0.0.1:{front.port}/{LS_BUCKET}?{s3_qs}"
            bos_query = {"uploads": "", "maxUploads": str(page)}
            translated = f"http://127.0.0.1:{front.port}/{LS_BUCKET}?uploads=&maxUploads={page}"
            scenarios = [
                ("direct: S3 caller -> S3 (LocalStack)", direct, s3_headers(direct, "test", "test")),
                ("dragoman, same dialect: S3 -> S3", same, s3_headers(same)),
                ("dragoman, translated: BOS -> S3", translated, bce_headers(front.port, f"/{LS_BUCKET}", bos_query)),
            ]
            base = None
            for name, url, headers in scenarios:
                rps, p50, p99 = wrk(url, headers, args.duration, args.connections)
                base = base or (rps, p50, p99)
                rows.append((name, page, rps, p50, p99, rps / base[0], p50 / base[1]))
        for page in (10, 1000):
            bos_query = {"uploads": "", "maxUploads": str(page)}
            bos_qs = f"uploads=&maxUploads={page}"
            direct = f"http://127.0.0.1:{remote.port}/{BUCKET}?{bos_qs}"
            same = f"http://127.0.0.1:{front.port}/{BUCKET}?{bos_qs}"
            translated = f"http://127.0.0.1:{front.port}/{BUCKET}?uploads&max-uploads={page}"
            scenarios = [
                ("direct: BOS caller -> BOS service", direct, bce_headers(remote.port, f"/{BUCKET}", bos_query)),
                ("dragoman, same dialect: BOS -> BOS", same, bce_headers(front.port, f"/{BUCKET}", bos_query)),
                ("dragoman, translated: S3 -> BOS", translated, s3_headers(translated)),
            ]
            base = None
            for name, url, headers in scenarios:
                rps, p50, p99 = wrk(url, headers, args.duration, args.connections)
                base = base or (rps, p50, p99)
                rows.append((name, page, rps, p50, p99, rps / base[0], p50 / base[1]))
        print(f"\n{args.uploads} uploads, wrk -t2 -c{args.connections} -d{args.duration}, release build, 2 cores shared by wrk and the servers\n")
        print("| scenario | page | req/s | p50 ms | p99 ms | req/s vs direct | p50 vs direct |")
        print("|---|---|---|---|---|---|---|")
        for name, page, rps, p50, p99, r_rps, r_p50 in rows:
            print(f"| {name} | {page} | {rps:.0f} | {p50:.2f} | {p99:.2f} | {r_rps:.2f} | {r_p50:.2f} |")
    finally:
        if front:
            front.stop()
        remote.stop()
        if os.environ.get("KEEP_WORK"):
            print(f"work directory kept: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
