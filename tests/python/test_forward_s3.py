"""dragoman as a drop-in S3 endpoint: every operation it does not translate itself reaches an
S3 backend (LocalStack) as it was sent, re-signed, with both bodies streaming. Driven the way
a user would, with the AWS CLI and boto3, on a plain route and on a renamed one."""

import hashlib
import hmac
import json
import os
import subprocess
import threading
import time
from datetime import datetime, timezone
from pathlib import Path
from urllib.parse import quote

import boto3
import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import (ACCESS_KEY, LIMITED_KEY, LIMITED_SECRET, LOCALSTACK, REGION, SECRET_KEY, Dragoman,
                      binary)

pytestmark = pytest.mark.skipif(not LOCALSTACK, reason="needs LocalStack (scripts/with-localstack)")

# The caller's bucket name and its name on LocalStack.
BUCKETS = {"fwd-plain": "fwd-plain", "fwd-rn-data": "renamed-fwd-rn-data"}

ROUTES = f"""
[backends.lake]
kind = "s3"
endpoint = "{LOCALSTACK}"
access_key = "test"
secret_key = "test"

[[routes]]
buckets = "fwd-rn-*"
backend = "lake"
rename = "renamed-{{bucket}}"

[[routes]]
buckets = "fwd-*"
backend = "lake"

[[routes]]
buckets = "team-a-fwd"
backend = "lake"
"""


@pytest.fixture(scope="module")
def front(tmp_path_factory):
    gw = Dragoman(tmp_path_factory.mktemp("forward-s3"), ROUTES).start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()


@pytest.fixture(scope="module")
def direct():
    return boto3.client("s3", endpoint_url=LOCALSTACK, aws_access_key_id="test",
                        aws_secret_access_key="test", region_name=REGION,
                        config=Config(s3={"addressing_style": "path"}))


@pytest.fixture(scope="module")
def s3(front):
    return front.client()


@pytest.fixture(scope="module", params=sorted(BUCKETS))
def bucket(request, s3, direct):
    name = request.param
    try:
        s3.create_bucket(Bucket=name)
    except ClientError as e:
        assert e.response["Error"]["Code"] in ("BucketAlreadyOwnedByYou", "BucketAlreadyExists")
    return name


def there(bucket):
    return BUCKETS[bucket]


def aws(front, *args, check=True, env=None):
    """The AWS CLI as a user runs it, pointed at dragoman."""
    environ = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
                   AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE="/dev/null",
                   AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    environ.update(env or {})
    venv_bin = Path(os.sys.executable).parent
    out = subprocess.run([str(venv_bin / "aws"), "--endpoint-url", front.endpoint, *args],
                         capture_output=True, text=True, env=environ, timeout=600)
    if check:
        assert out.returncode == 0, out.stderr
    return out


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def test_cli_copies_64_mib_up_and_down_byte_identical(front, bucket, direct, tmp_path):
    src = tmp_path / "big.bin"
    with open(src, "wb") as f:
        for i in range(64):
            f.write(hashlib.sha256(str(i).encode()).digest() * (1 << 15))
    aws(front, "s3", "cp", str(src), f"s3://{bucket}/dir/big.bin")
    # The CLI uploaded in parts (64 MiB is above its 8 MiB threshold): the object on the
    # backend is the multipart one, with its part count in the ETag.
    etag = direct.head_object(Bucket=there(bucket), Key="dir/big.bin")["ETag"]
    assert etag.strip('"').endswith("-8"), etag
    back = tmp_path / "back.bin"
    aws(front, "s3", "cp", f"s3://{bucket}/dir/big.bin", str(back))
    assert sha256_file(back) == sha256_file(src)


def test_cli_sync_ls_and_rm(front, bucket, direct, tmp_path):
    tree = tmp_path / "tree"
    for rel in ["a.txt", "sub/b.txt", "sub/deeper/c d.txt", "ü.txt"]:
        (tree / rel).parent.mkdir(parents=True, exist_ok=True)
        (tree / rel).write_text(f"content of {rel}\n" * 100)
    aws(front, "s3", "sync", str(tree), f"s3://{bucket}/tree")
    keys = {o["Key"] for o in direct.list_objects_v2(Bucket=there(bucket), Prefix="tree/")["Contents"]}
    assert keys == {"tree/a.txt", "tree/sub/b.txt", "tree/sub/deeper/c d.txt", "tree/ü.txt"}
    back = tmp_path / "back"
    aws(front, "s3", "sync", f"s3://{bucket}/tree", str(back))
    for rel in ["a.txt", "sub/b.txt", "sub/deeper/c d.txt", "ü.txt"]:
        assert (back / rel).read_text() == (tree / rel).read_text()
    listing = aws(front, "s3", "ls", f"s3://{bucket}/tree/").stdout
    assert "a.txt" in listing and "PRE sub/" in listing
    aws(front, "s3", "rm", "--recursive", f"s3://{bucket}/tree")
    assert "Contents" not in direct.list_objects_v2(Bucket=there(bucket), Prefix="tree/")


def test_boto3_transfers_and_object_operations(s3, bucket, direct):
    import io
    data = os.urandom(3 * 1024 * 1024 + 17)
    s3.upload_fileobj(io.BytesIO(data), bucket, "obj/one", ExtraArgs={
        "Metadata": {"colour": "blue"}, "ContentType": "application/x-test"})
    out = io.BytesIO()
    s3.download_fileobj(bucket, "obj/one", out)
    assert out.getvalue() == data

    head = s3.head_object(Bucket=bucket, Key="obj/one")
    assert head["ContentLength"] == len(data)
    assert head["Metadata"] == {"colour": "blue"}
    assert head["ContentType"] == "application/x-test"
    # dragoman's request id, not the backend's
    assert len(head["ResponseMetadata"]["HTTPHeaders"]["x-amz-request-id"]) == 16

    part = s3.get_object(Bucket=bucket, Key="obj/one", Range="bytes=100-199")
    assert part["ResponseMetadata"]["HTTPStatusCode"] == 206
    assert part["Body"].read() == data[100:200]
    assert part["ContentRange"] == f"bytes 100-199/{len(data)}"

    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="obj/one", IfNoneMatch=head["ETag"])
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 304
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="obj/one", IfMatch='"0123456789abcdef0123456789abcdef"')
    assert e.value.response["Error"]["Code"] == "PreconditionFailed"
    with pytest.raises(ClientError) as e:
        s3.get_object(Bucket=bucket, Key="obj/missing")
    err = e.value.response["Error"]
    assert err["Code"] == "NoSuchKey"
    assert err.get("BucketName", bucket) == bucket, "the caller's bucket name, never the backend's"

    s3.copy_object(Bucket=bucket, Key="obj/copy", CopySource={"Bucket": bucket, "Key": "obj/one"})
    assert direct.get_object(Bucket=there(bucket), Key="obj/copy")["Body"].read() == data

    for i in range(5):
        s3.put_object(Bucket=bucket, Key=f"page/{i}", Body=f"v{i}".encode())
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="page/",
                                                         PaginationConfig={"PageSize": 2})
    seen, names = [], set()
    for p in pages:
        seen.extend(o["Key"] for o in p.get("Contents", []))
        names.add(p["Name"])
    assert seen == [f"page/{i}" for i in range(5)]
    assert names == {bucket}

    gone = s3.delete_objects(Bucket=bucket, Delete={"Objects": [{"Key": f"page/{i}"} for i in range(5)]})
    assert sorted(d["Key"] for d in gone["Deleted"]) == [f"page/{i}" for i in range(5)]
    assert "Contents" not in direct.list_objects_v2(Bucket=there(bucket), Prefix="page/")


def test_multipart_by_hand_with_list_parts(s3, bucket, direct):
    created = s3.create_multipart_upload(Bucket=bucket, Key="mpu/by-hand")
    assert created["Bucket"] == bucket
    upload_id = created["UploadId"]
    parts = [os.urandom(5 * 1024 * 1024), b"tail"]
    etags = []
    for n, body in enumerate(parts, start=1):
        etags.append(s3.upload_part(Bucket=bucket, Key="mpu/by-hand", UploadId=upload_id,
                                    PartNumber=n, Body=body)["ETag"])
    listed = s3.list_parts(Bucket=bucket, Key="mpu/by-hand", UploadId=upload_id)
    assert listed["Bucket"] == bucket
    assert [p["PartNumber"] for p in listed["Parts"]] == [1, 2]
    assert [p["Size"] for p in listed["Parts"]] == [len(p) for p in parts]
    # The upload is listed by dragoman's own (translated) listing meanwhile.
    ids = [u["UploadId"] for u in s3.list_multipart_uploads(Bucket=bucket, Prefix="mpu/").get("Uploads", [])]
    assert upload_id in ids
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="mpu/by-hand", UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": n, "ETag": e} for n, e in enumerate(etags, start=1)]})
    assert done["Bucket"] == bucket
    got = direct.get_object(Bucket=there(bucket), Key="mpu/by-hand")["Body"].read()
    assert got == b"".join(parts)


def test_presigned_get_issued_for_dragoman(s3, bucket):
    s3.put_object(Bucket=bucket, Key="shared/file.txt", Body=b"presigned content")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "shared/file.txt"},
                                    ExpiresIn=300)
    got = requests.get(url, timeout=10)
    assert got.status_code == 200, got.text
    assert got.content == b"presigned content"
    tampered = url.replace("shared/file.txt", "shared/other.txt")
    refused = requests.get(tampered, timeout=10)
    assert refused.status_code == 403
    assert b"SignatureDoesNotMatch" in refused.content


def test_forwarding_needs_a_valid_signature_and_the_bucket(front, bucket, direct):
    anonymous = requests.put(f"{front.endpoint}/{bucket}/anon", data=b"x", timeout=10)
    assert anonymous.status_code == 403
    wrong = front.client(secret_key="not-the-secret")
    with pytest.raises(ClientError) as e:
        wrong.put_object(Bucket=bucket, Key="wrong", Body=b"x")
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    for key in ("anon", "wrong"):
        with pytest.raises(ClientError):
            direct.head_object(Bucket=there(bucket), Key=key)


def test_object_operations_on_the_embedded_store_are_501(front):
    s3 = front.client()
    s3.create_bucket(Bucket="local-bucket")
    with pytest.raises(ClientError) as e:
        s3.put_object(Bucket="local-bucket", Key="k", Body=b"x" * (2 * 1024 * 1024))
    err = e.value.response
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 501
    assert "embedded" in err["Error"]["Message"]


def test_copy_from_a_bucket_the_caller_may_not_use_is_refused(front, s3, bucket, direct):
    """The backend's credentials could read any of its buckets: a copy source is authorized
    for the caller like the target."""
    s3.put_object(Bucket=bucket, Key="secret", Body=b"not for team a")
    try:
        s3.create_bucket(Bucket="team-a-fwd")
    except ClientError:
        pass
    limited = front.client(access_key=LIMITED_KEY, secret_key=LIMITED_SECRET)
    limited.put_object(Bucket="team-a-fwd", Key="own", Body=b"mine")
    with pytest.raises(ClientError) as e:
        limited.copy_object(Bucket="team-a-fwd", Key="stolen", CopySource={"Bucket": bucket, "Key": "secret"})
    assert e.value.response["Error"]["Code"] == "AccessDenied"
    with pytest.raises(ClientError):
        direct.head_object(Bucket="team-a-fwd", Key="stolen")
    limited.copy_object(Bucket="team-a-fwd", Key="copied", CopySource={"Bucket": "team-a-fwd", "Key": "own"})
    assert direct.get_object(Bucket="team-a-fwd", Key="copied")["Body"].read() == b"mine"


# --- aws-chunked bodies with signed chunks, built by hand: no Python SDK sends them. ---

def _hmac(key, msg):
    return hmac.new(key, msg.encode(), hashlib.sha256).digest()


def chunked_put(endpoint, bucket, key, data, chunk=64 * 1024, tamper_chunk=None):
    """PutObject with STREAMING-AWS4-HMAC-SHA256-PAYLOAD, as the Java and Go SDKs send it
    (the algorithm of the S3 API reference, "Transferring Payload in Multiple Chunks")."""
    now = datetime.now(timezone.utc)
    amz_date, day = now.strftime("%Y%m%dT%H%M%SZ"), now.strftime("%Y%m%d")
    host = endpoint.split("//", 1)[1]
    path = f"/{bucket}/{quote(key)}"
    scope = f"{day}/{REGION}/s3/aws4_request"
    chunks = [data[i:i + chunk] for i in range(0, len(data), chunk)] + [b""]
    sizes = sum(len(f"{len(c):x};chunk-signature=".encode()) + 64 + 2 + len(c) + 2 for c in chunks)
    headers = {
        "host": host, "x-amz-date": amz_date, "content-encoding": "aws-chunked",
        "x-amz-content-sha256": "STREAMING-AWS4-HMAC-SHA256-PAYLOAD",
        "x-amz-decoded-content-length": str(len(data)), "content-length": str(sizes),
    }
    signed = ";".join(sorted(headers))
    canonical = "\n".join(["PUT", path, "", *(f"{h}:{headers[h]}" for h in sorted(headers)), "",
                           signed, "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"])
    sts = "\n".join(["AWS4-HMAC-SHA256", amz_date, scope, hashlib.sha256(canonical.encode()).hexdigest()])
    k = _hmac(_hmac(_hmac(_hmac(("AWS4" + SECRET_KEY).encode(), day), REGION), "s3"), "aws4_request")
    seed = hmac.new(k, sts.encode(), hashlib.sha256).hexdigest()
    headers["authorization"] = (f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY}/{scope}, "
                                f"SignedHeaders={signed}, Signature={seed}")
    body, prev = bytearray(), seed
    empty = hashlib.sha256(b"").hexdigest()
    for i, c in enumerate(chunks):
        chunk_sts = "\n".join(["AWS4-HMAC-SHA256-PAYLOAD", amz_date, scope, prev, empty,
                               hashlib.sha256(c).hexdigest()])
        sig = hmac.new(k, chunk_sts.encode(), hashlib.sha256).hexdigest()
        sent = bytearray(c)
        if i == tamper_chunk:
            sent[len(sent) // 2] ^= 0x01
        body += f"{len(c):x};chunk-signature={sig}\r\n".encode() + sent + b"\r\n"
        prev = sig
    assert len(body) == sizes
    return requests.put(endpoint + path, data=bytes(body), headers=headers, timeout=60)


def test_signed_chunks_are_verified_as_they_stream(front, bucket, direct):
    data = os.urandom(300 * 1024 + 5)
    ok = chunked_put(front.endpoint, bucket, "chunked/good", data)
    assert ok.status_code == 200, ok.text
    assert direct.get_object(Bucket=there(bucket), Key="chunked/good")["Body"].read() == data

    bad = chunked_put(front.endpoint, bucket, "chunked/tampered", data, tamper_chunk=2)
    assert bad.status_code == 403, bad.text
    assert b"SignatureDoesNotMatch" in bad.content
    with pytest.raises(ClientError) as e:
        direct.head_object(Bucket=there(bucket), Key="chunked/tampered")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404, "no object from a tampered body"


def test_a_body_that_does_not_match_its_signed_digest_never_lands(front, bucket, direct):
    from botocore.auth import S3SigV4Auth
    from botocore.awsrequest import AWSRequest
    from botocore.credentials import Credentials
    # Sign for one body, send another of the same length.
    good, evil = b"a" * 100_000, b"b" * 100_000
    url = f"{front.endpoint}/{bucket}/digest/evil"
    req = AWSRequest(method="PUT", url=url, data=good)
    S3SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION).add_auth(req)
    resp = requests.put(url, data=evil, headers=dict(req.prepare().headers), timeout=10)
    assert resp.status_code == 400, resp.text
    assert b"XAmzContentSHA256Mismatch" in resp.content
    with pytest.raises(ClientError):
        direct.head_object(Bucket=there(bucket), Key="digest/evil")


def test_unsigned_payload_with_checksum_trailer_over_tls(front, bucket, direct):
    """Over HTTPS, boto3 sends PutObject and UploadPart as aws-chunked bodies with an unsigned
    payload and a CRC32 trailer (STREAMING-UNSIGNED-PAYLOAD-TRAILER); they pass through with
    the trailer, which the backend checks."""
    s3 = boto3.client("s3", endpoint_url=front.https, aws_access_key_id=ACCESS_KEY,
                      aws_secret_access_key=SECRET_KEY, region_name=REGION, verify=False,
                      config=Config(s3={"addressing_style": "path"}, retries={"max_attempts": 1}))
    seen = []
    s3.meta.events.register("before-send.s3.PutObject",
                            lambda request, **_: seen.append(request.headers.get("x-amz-content-sha256")))
    data = os.urandom(200_000)
    s3.put_object(Bucket=bucket, Key="tls/trailer", Body=data)
    assert seen and seen[0] in (b"STREAMING-UNSIGNED-PAYLOAD-TRAILER", "STREAMING-UNSIGNED-PAYLOAD-TRAILER"), seen
    got = direct.get_object(Bucket=there(bucket), Key="tls/trailer", ChecksumMode="ENABLED")
    assert got["Body"].read() == data
    assert got.get("ChecksumCRC32"), "the trailer's checksum reached the backend"


class Pattern:
    """A large body produced on the fly (never in memory): a file-like object with a length."""

    def __init__(self, size):
        self.size, self.pos = size, 0
        self.block = hashlib.sha256(b"seed").digest() * 2048  # 64 KiB

    def __len__(self):
        return self.size

    def read(self, n=-1):
        if self.pos >= self.size:
            return b""
        n = self.size - self.pos if n is None or n < 0 else min(n, self.size - self.pos)
        n = min(n, len(self.block))
        self.pos += n
        return self.block[:n]


def rss_kib(pid, field="VmRSS"):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(field)


def test_one_gib_up_and_down_in_bounded_memory(tmp_path):
    gw = Dragoman(tmp_path, ROUTES).start()
    try:
        s3 = gw.client()
        s3.create_bucket(Bucket="fwd-big")
        pid = gw.proc.pid
        idle = rss_kib(pid)
        peak = [idle]
        stop = threading.Event()

        def watch():
            while not stop.is_set():
                peak[0] = max(peak[0], rss_kib(pid))
                time.sleep(0.05)

        watcher = threading.Thread(target=watch)
        watcher.start()
        size = 1 << 30
        url = s3.generate_presigned_url("put_object", Params={"Bucket": "fwd-big", "Key": "one-gib"},
                                        ExpiresIn=600)
        up = requests.put(url, data=Pattern(size), timeout=600)
        assert up.status_code == 200, up.text
        down_url = s3.generate_presigned_url("get_object", Params={"Bucket": "fwd-big", "Key": "one-gib"},
                                             ExpiresIn=600)
        h, n = hashlib.sha256(), 0
        with requests.get(down_url, stream=True, timeout=600) as down:
            assert down.status_code == 200
            for block in down.iter_content(1 << 20):
                h.update(block)
                n += len(block)
        stop.set()
        watcher.join()
        expected = hashlib.sha256()
        src = Pattern(size)
        for block in iter(lambda: src.read(1 << 16), b""):
            expected.update(block)
        assert n == size
        assert h.hexdigest() == expected.hexdigest()
        grew_mib = (peak[0] - idle) / 1024
        print(f"RSS idle {idle / 1024:.1f} MiB, peak {peak[0] / 1024:.1f} MiB (+{grew_mib:.1f})")
        assert grew_mib < 64, f"RSS grew by {grew_mib:.1f} MiB while forwarding 1 GiB each way"
        s3.delete_object(Bucket="fwd-big", Key="one-gib")
    finally:
        assert gw.stop() == 0


def test_forward_bench_smoke():
    """scripts/forward-bench's driver, on a small object (the full run is 1 GiB)."""
    out = subprocess.run([os.sys.executable, str(Path(__file__).parents[1] / "load" / "forward.py"),
                          "--bin", str(binary()), "--size-mib", "16"],
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert "s per GiB" in out.stdout, out.stdout
