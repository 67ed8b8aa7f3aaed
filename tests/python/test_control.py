"""Control operations in every direction: buckets, and creating and aborting uploads, from
each caller dialect to each backend kind whose API has them; then the listings from the
other dialects agree. Where a backend's API lacks an operation (Qumulo's REST API creates no
uploads), the caller gets its dialect's 501 naming the backend kind and the reason."""

import os

import pytest
from baidubce.exception import BceHttpClientError
from botocore.exceptions import ClientError

from conftest import LOCALSTACK, Dragoman, remote_backends
from test_bos import text

BACKENDS = ["embedded", "bos", "q", "s3"]


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    gw = Dragoman(tmp_path_factory.mktemp("control-remote")).start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()


@pytest.fixture(scope="module")
def front(tmp_path_factory, remote):
    extra = remote_backends(remote, "ctl")
    gw = Dragoman(tmp_path_factory.mktemp("control-front"), extra).start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()


def need(backend):
    if backend == "s3" and not LOCALSTACK:
        pytest.skip("DRAGOMAN_TEST_LOCALSTACK is not set (scripts/test starts LocalStack)")


def s3_ids(front, bucket):
    return sorted(u["UploadId"] for u in front.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def bos_ids(front, bucket):
    return sorted(text(u.upload_id) for u in front.bos().list_all_multipart_uploads(bucket))


def qumulo_ids(front, bucket):
    return sorted(u.id for u in front.qumulo().s3.list_uploads(bucket, limit=1000).uploads)


@pytest.mark.parametrize("backend", BACKENDS)
def test_buckets_created_and_deleted_through_the_gateway(front, remote, backend):
    need(backend)
    bucket = f"ctl-{backend}-bucket"
    s3 = front.client()
    if backend == "q":
        # The cluster's buckets are made on the cluster; the gateway's answer says so.
        with pytest.raises(ClientError) as e:
            s3.create_bucket(Bucket=bucket)
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
        assert "qumulo" in e.value.response["Error"]["Message"]
        return
    s3.create_bucket(Bucket=bucket)
    assert s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 200
    assert bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.delete_bucket(Bucket=bucket)
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket=bucket)
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 404
    # BOS callers too.
    front.bos().create_bucket(bucket)
    assert front.bos().does_bucket_exist(bucket)
    front.bos().delete_bucket(bucket)


@pytest.mark.parametrize("backend", BACKENDS)
def test_uploads_created_and_aborted_from_every_dialect_show_everywhere(front, remote, backend):
    need(backend)
    bucket = f"ctl-{backend}-uploads"
    if backend == "q":
        remote.client().create_bucket(Bucket=bucket)
    else:
        front.client().create_bucket(Bucket=bucket)
    s3, bos = front.client(), front.bos()
    if backend == "q":
        with pytest.raises(ClientError) as e:
            s3.create_multipart_upload(Bucket=bucket, Key="k")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 501
        assert "qumulo" in e.value.response["Error"]["Message"]
        with pytest.raises(BceHttpClientError) as b:
            bos.initiate_multipart_upload(bucket, "k")
        assert b.value.last_error.status_code == 501
        # Made on the cluster, aborted through the gateway below.
        direct = remote.client()
        by_s3 = direct.create_multipart_upload(Bucket=bucket, Key="dir/by-s3")["UploadId"]
        by_bos = direct.create_multipart_upload(Bucket=bucket, Key="dir/by-bos")["UploadId"]
    else:
        by_s3 = s3.create_multipart_upload(Bucket=bucket, Key="dir/by-s3", StorageClass="STANDARD_IA")["UploadId"]
        by_bos = text(bos.initiate_multipart_upload(bucket, "dir/by-bos").upload_id)
    third = (remote.client() if backend == "q" else s3).create_multipart_upload(Bucket=bucket, Key="third")["UploadId"]
    every = sorted([by_s3, by_bos, third])
    assert s3_ids(front, bucket) == every
    assert bos_ids(front, bucket) == every
    assert qumulo_ids(front, bucket) == every
    # Abort one from each dialect: S3 by key and id, BOS by key and id, Qumulo by id alone.
    s3.abort_multipart_upload(Bucket=bucket, Key="dir/by-bos", UploadId=by_bos)
    bos.abort_multipart_upload(bucket, "dir/by-s3", by_s3)
    front.qumulo().s3.abort_upload(bucket, third)
    assert s3_ids(front, bucket) == []
    assert bos_ids(front, bucket) == []
    assert qumulo_ids(front, bucket) == []
    # Gone is gone, in each dialect's terms.
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket=bucket, Key="dir/by-bos", UploadId=by_bos)
    assert e.value.response["Error"]["Code"] == "NoSuchUpload"
