"""Caller dialect x backend: a front gateway routes buckets to an S3 service (LocalStack 4.4.0,
started by scripts/test), a BOS service and a Qumulo cluster (both played by a second dragoman
over its embedded store), and every caller's own iteration must return exactly what the backend
holds."""

import json
import os

import pytest
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, PASSWORD, SECRET_KEY, Dragoman
from s3util import canonical, expected_entries, page_entries
from test_bos import text, with_page_size

REMOTE_BUCKET = "matrix"
KEYS = (
    ["a/1", "a/2", "a/2", "a/b/c", "a/b/d", "a b", "a", "b", "b", "b", "c/ü/x", "c/ü/y", "c/z", "d e f", "日本/語", "日本/語"]
    + [f"logs/2026/{i:02}.bin" for i in range(20)]
    + [f"data/x {i}" for i in range(12)]
    + ["ü", "z", "z/", "z//", "plus+key", "k=1&x", "q?=&key", "emoji 😀/x", "nested/a/b/c/d", "nested/a/b/e", "x", "y"]
)
# Caller-side bucket names and the backend each routes to (renamed to the backend's bucket).
VIA = {"embedded": "via-embedded-matrix", "bos": "via-bos-matrix", "qumulo": "via-qumulo-matrix", "s3": "via-s3-matrix"}
LOCALSTACK = os.environ.get("DRAGOMAN_TEST_LOCALSTACK")
LOCALSTACK_BUCKET = "matrix-localstack"


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    gw = Dragoman(tmp_path_factory.mktemp("remote")).start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()


def fill(s3, bucket):
    s3.create_bucket(Bucket=bucket)
    made = [(k, s3.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"]) for k in KEYS]
    assert len(made) >= 60
    return made


@pytest.fixture(scope="module")
def remote_created(remote):
    return fill(remote.client(), REMOTE_BUCKET)


@pytest.fixture(scope="module")
def localstack_created():
    if not LOCALSTACK:
        pytest.skip("DRAGOMAN_TEST_LOCALSTACK is not set (scripts/test starts LocalStack and sets it)")
    import boto3
    from botocore.config import Config

    s3 = boto3.client("s3", endpoint_url=LOCALSTACK, aws_access_key_id="test", aws_secret_access_key="test",
                      region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
    return fill(s3, LOCALSTACK_BUCKET)


@pytest.fixture(scope="module")
def embedded_created(front):
    # No route names this bucket: it lives in the front gateway's own embedded store.
    return fill(front.client(), VIA["embedded"])


@pytest.fixture(params=["embedded", "bos", "qumulo", "s3"])
def backend(request):
    return request.param


@pytest.fixture
def created(backend, request):
    return request.getfixturevalue({"embedded": "embedded_created", "s3": "localstack_created"}.get(backend, "remote_created"))


@pytest.fixture(scope="module")
def front(tmp_path_factory, remote):
    extra = f"""
[backends.bos-remote]
kind = "bos"
endpoint = "http://127.0.0.1:{remote.port}"
access_key = "{ACCESS_KEY}"
secret_key = "{SECRET_KEY}"

[backends.qumulo-remote]
kind = "qumulo"
endpoint = "https://127.0.0.1:{remote.port}"
username = "tester"
password = "{PASSWORD}"
ca_file = "{remote.data}/tls/self-signed.pem"
page_limit = 5

[[routes]]
buckets = "{VIA['bos']}"
backend = "bos-remote"
rename = "{REMOTE_BUCKET}"

[[routes]]
buckets = "{VIA['qumulo']}"
backend = "qumulo-remote"
rename = "{REMOTE_BUCKET}"

[[routes]]
buckets = "missing-via-bos"
backend = "bos-remote"
{LOCALSTACK_ROUTES if LOCALSTACK else ""}
[[routes]]
buckets = "missing-via-qumulo"
backend = "qumulo-remote"
"""
    gw = Dragoman(tmp_path_factory.mktemp("front"), extra).start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()


LOCALSTACK_ROUTES = f"""
[backends.s3-localstack]
kind = "s3"
endpoint = "{LOCALSTACK}"
region = "us-east-1"
access_key = "test"
secret_key = "test"

[[routes]]
buckets = "{VIA['s3']}"
backend = "s3-localstack"
rename = "{LOCALSTACK_BUCKET}"

[[routes]]
buckets = "missing-via-s3"
backend = "s3-localstack"
"""
SHAPES = [("", ""), ("a", ""), ("", "/"), ("a/", "/"), ("nested/", "/")]


@pytest.mark.parametrize("page_size", [1, 2, 3, 7, 1000])
@pytest.mark.parametrize("prefix,delimiter", SHAPES)
def test_s3_caller_paginator(front, created, backend, page_size, prefix, delimiter):
    s3 = front.client()
    kwargs = {"Bucket": VIA[backend], "PaginationConfig": {"PageSize": page_size}}
    if prefix:
        kwargs["Prefix"] = prefix
    if delimiter:
        kwargs["Delimiter"] = delimiter
    got = []
    for page in s3.get_paginator("list_multipart_uploads").paginate(**kwargs):
        entries = page_entries(page)
        assert len(entries) <= page_size
        got.extend(entries)
    assert got == expected_entries(created, prefix, delimiter)


@pytest.mark.parametrize("page_size", [3, 7, 1000])
@pytest.mark.parametrize("prefix,delimiter", SHAPES)
def test_bos_caller_list_all(front, created, backend, page_size, prefix, delimiter):
    client = with_page_size(front.bos(), page_size)
    got = [(text(u.key), text(u.upload_id))
           for u in client.list_all_multipart_uploads(VIA[backend], prefix=prefix or None, delimiter=delimiter or None)]
    want = [(e[1], e[2]) for e in expected_entries(created, prefix, delimiter) if e[0] == "U"]
    assert got == want


@pytest.mark.parametrize("page_size", [1, 2, 3, 7, 1000])
def test_bos_caller_manual_paging(front, created, backend, page_size):
    bos = front.bos()
    want = expected_entries(created, "", "/")
    got, marker = [], None
    for _ in range(500):
        r = bos.list_multipart_uploads(VIA[backend], max_uploads=page_size, key_marker=marker, delimiter="/")
        entries = [("U", text(u.key), text(u.upload_id)) for u in r.uploads]
        entries += [("P", text(p.prefix)) for p in (r.common_prefixes or [])]
        entries.sort(key=lambda e: e[1].encode())
        got.extend(entries)
        if not r.is_truncated:
            break
        marker = text(r.next_key_marker)
    if page_size >= 3:
        assert got == want
    else:
        # A page smaller than key "b"'s three uploads splits it; keyMarker alone then skips the rest.
        assert [e for e in got if e[1] != "b"] == [e for e in want if e[1] != "b"]


@pytest.mark.parametrize("limit", [1, 2, 3, 7, 1000])
def test_qumulo_caller_start_after(front, created, backend, limit):
    rc = front.qumulo()
    got, token = [], None
    for _ in range(500):
        page = rc.s3.list_uploads(VIA[backend], limit=limit, start_after=token)
        got.extend((u.key, u.id) for u in page.uploads)
        token = page.paging.next
        if token is None:
            break
    assert got == canonical(created)


def test_qq_caller(front, created, backend, tmp_path):
    assert front.qq("login", "-u", "tester", "-p", PASSWORD, xdg=tmp_path).returncode == 0
    r = front.qq("s3_list_uploads", "--bucket", VIA[backend], xdg=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [(u["key"], u["id"]) for u in json.loads(r.stdout)["uploads"]] == canonical(created)


def test_a_missing_remote_bucket_is_missing_in_every_dialect(front, backend):
    if backend == "s3" and not LOCALSTACK:
        pytest.skip("DRAGOMAN_TEST_LOCALSTACK is not set")
    from baidubce.exception import BceHttpClientError
    from botocore.exceptions import ClientError
    from qumulo.lib.request import RequestError

    bucket = f"missing-via-{backend}"
    with pytest.raises(ClientError) as e:
        front.client().list_multipart_uploads(Bucket=bucket)
    assert e.value.response["Error"]["Code"] == "NoSuchBucket"
    assert e.value.response["Error"]["BucketName"] == bucket
    with pytest.raises(BceHttpClientError) as e:
        front.bos().list_multipart_uploads(bucket)
    assert (e.value.last_error.status_code, text(e.value.last_error.code)) == (404, "NoSuchBucket")
    with pytest.raises(RequestError) as e:
        front.qumulo().s3.list_uploads(bucket)
    assert e.value.status_code == 404


def test_head_bucket_and_list_buckets_reach_every_backend(front, created, backend):
    """boto3's head_bucket (and its bucket_exists waiter) works on every backend kind, and a
    bucket listing shows buckets that exist, never a route's literal name that does not."""
    s3 = front.client()
    assert s3.head_bucket(Bucket=VIA[backend])["ResponseMetadata"]["HTTPStatusCode"] == 200
    s3.get_waiter("bucket_exists").wait(Bucket=VIA[backend], WaiterConfig={"MaxAttempts": 1})
    if backend != "embedded":
        with pytest.raises(ClientError) as e:
            s3.head_bucket(Bucket=f"missing-via-{backend}")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    names = [b["Name"] for b in s3.list_buckets()["Buckets"]]
    assert VIA[backend] in names
    assert not any(n.startswith("missing-via-") for n in names), names
    bos_names = [b.name for b in front.bos().list_buckets().buckets]
    assert VIA[backend] in [n.decode() if isinstance(n, bytes) else n for n in bos_names]
