"""Aborting what was just listed, between pages, on every backend: the markers dragoman hands
out keep their place after their upload is gone, so a paginating caller (a cleanup tool)
sees every upload once, none skipped, none twice."""

import os

import boto3
import pytest
from botocore.config import Config

from conftest import LOCALSTACK, Dragoman, remote_backends
from test_bos import text

KEYS = ["a/one", "a/two", "b", "c/deep/three"]


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    gw = Dragoman(tmp_path_factory.mktemp("abort-remote")).start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()


@pytest.fixture(scope="module")
def front(tmp_path_factory, remote):
    extra = remote_backends(remote, "mark")
    gw = Dragoman(tmp_path_factory.mktemp("abort-front"), extra).start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()


def backend_client(backend, front, remote):
    """An S3 client straight to the backend that holds the bucket."""
    if backend == "s3":
        if not LOCALSTACK:
            pytest.skip("DRAGOMAN_TEST_LOCALSTACK is not set (scripts/test starts LocalStack)")
        return boto3.client("s3", endpoint_url=LOCALSTACK, aws_access_key_id="test", aws_secret_access_key="test",
                            region_name="us-east-1", config=Config(s3={"addressing_style": "path"}))
    return front.client() if backend == "embedded" else remote.client()


# Over an S3 service, uploads of one key are created within one second here: the service
# reports Initiated to the second and orders them by its own finer clock, so the marker's time
# alone cannot place a gone upload among them; the upload that followed it, which the marker
# also names, does.
@pytest.mark.parametrize("backend", ["embedded", "bos", "q", "s3"])
@pytest.mark.parametrize("page", [1, 2, 5])
def test_an_s3_caller_aborting_each_pages_last_upload_misses_nothing(front, remote, backend, page):
    bucket = f"mark-{backend}-{page}"
    direct = backend_client(backend, front, remote)
    direct.create_bucket(Bucket=bucket)
    made = {direct.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"]: k for k in KEYS for _ in range(3)}
    s3 = front.client()
    seen, markers = [], {}
    for _ in range(100):
        r = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=page, **markers)
        ups = r.get("Uploads", [])
        seen += [u["UploadId"] for u in ups]
        if not r["IsTruncated"]:
            break
        # A cleanup tool aborts what it just listed, the marker upload included.
        direct.abort_multipart_upload(Bucket=bucket, Key=ups[-1]["Key"], UploadId=ups[-1]["UploadId"])
        markers = {"KeyMarker": r["NextKeyMarker"], "UploadIdMarker": r["NextUploadIdMarker"]}
    assert sorted(seen) == sorted(made), (len(seen), len(made))


@pytest.mark.parametrize("backend", ["embedded", "bos", "q", "s3"])
def test_a_bos_caller_aborting_between_pages_misses_nothing(front, remote, backend):
    bucket = f"mark-{backend}-bos"
    direct = backend_client(backend, front, remote)
    direct.create_bucket(Bucket=bucket)
    made = {direct.create_multipart_upload(Bucket=bucket, Key=k)["UploadId"]: k for k in KEYS for _ in range(3)}
    bos = front.bos()
    seen, key_marker = [], None
    for _ in range(100):
        # The SDK's own paging: keyMarker alone (pages end at key boundaries).
        r = bos.list_multipart_uploads(bucket, max_uploads=4, key_marker=key_marker)
        ups = list(r.uploads)
        seen += [u.upload_id for u in ups]
        if not r.is_truncated:
            break
        for u in ups:
            direct.abort_multipart_upload(Bucket=bucket, Key=text(u.key), UploadId=text(u.upload_id))
        key_marker = r.next_key_marker
    assert sorted(text(s) for s in seen) == sorted(made)
