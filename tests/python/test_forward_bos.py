"""dragoman as a drop-in BOS endpoint: the official bce-python-sdk puts, gets, lists, copies
and deletes objects and runs a multipart upload through dragoman to a BOS backend (the
stand-in of bos_standin.py, which verifies bce-auth-v1 on every request)."""

import hashlib
import io
import os

import pytest
from baidubce.exception import BceHttpClientError

from bos_standin import BosStandIn, sign
from conftest import Dragoman

BACKEND_AK, BACKEND_SK = "standin-backend-key", "standin-backend-secret"
BUCKETS = {"bfwd-plain": "bfwd-plain", "bfwd-rn-data": "renamed-bfwd-rn-data"}


def test_the_standin_signs_as_the_bos_reference_does():
    """Baidu's published example and the vectors computed with the SDK's signer."""
    headers = {"Host": "bj.bcebos.com", "Content-Type": "text/plain", "Content-Length": "8",
               "Content-MD5": "NFzcPqhviddjRNnSOGo4rw==", "x-bce-date": "2015-04-27T08:23:49Z"}
    auth = sign("a" * 32, "b" * 32, "PUT", "/v1/test/myfolder/readme.txt",
                [("partNumber", "9"), ("uploadId", "a44cc9bab11cbd156984767aad637851")], headers,
                "2015-04-27T08:23:49Z")
    assert auth.endswith("//d74a04362e6a848f5b39b15421cb449427f419c95a480fd6b8cf9fc783e2999e")
    query = [("uploads", ""), ("prefix", "photos/2024/"), ("delimiter", "/"),
             ("keyMarker", "photos/2024/a b.jpg"), ("maxUploads", "100")]
    headers = {"Host": "mybucket.bj.bcebos.com", "Content-Length": "0", "x-bce-date": "2015-04-27T08:23:49Z"}
    auth = sign("a" * 32, "b" * 32, "GET", "/", query, headers, "2015-04-27T08:23:49Z",
                signed=("host", "x-bce-date"))
    assert auth.endswith("/host;x-bce-date/1b6890fd3af5ff7e2027c7cc39826e122dd647db14a0c4369b211dec611759b1")


@pytest.fixture(scope="module")
def standin():
    with BosStandIn(BACKEND_AK, BACKEND_SK) as s:
        yield s


@pytest.fixture(scope="module")
def front(tmp_path_factory, standin):
    extra = f"""
[backends.bos-objects]
kind = "bos"
endpoint = "{standin.endpoint}"
access_key = "{BACKEND_AK}"
secret_key = "{BACKEND_SK}"

[[routes]]
buckets = "bfwd-rn-*"
backend = "bos-objects"
rename = "renamed-{{bucket}}"

[[routes]]
buckets = "bfwd-*"
backend = "bos-objects"
"""
    gw = Dragoman(tmp_path_factory.mktemp("forward-bos"), extra).start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()


@pytest.fixture(scope="module")
def bos(front):
    return front.bos()


@pytest.fixture(scope="module", params=sorted(BUCKETS))
def bucket(request, bos, standin):
    if BUCKETS[request.param] not in standin.store.buckets:
        bos.create_bucket(request.param)
    return request.param


def direct_sdk(standin):
    """The SDK straight at the stand-in: the stand-in must take what the SDK sends."""
    from baidubce.auth.bce_credentials import BceCredentials
    from baidubce.bce_client_configuration import BceClientConfiguration
    from baidubce.retry.retry_policy import NoRetryPolicy
    from baidubce.services.bos.bos_client import BosClient
    return BosClient(BceClientConfiguration(credentials=BceCredentials(BACKEND_AK, BACKEND_SK),
                                            endpoint=standin.endpoint, retry_policy=NoRetryPolicy()))


def test_the_standin_takes_the_sdk_directly(standin):
    sdk = direct_sdk(standin)
    sdk.create_bucket("standin-check")
    sdk.put_object_from_string("standin-check", "k", "hello")
    assert sdk.get_object_as_string("standin-check", "k") == b"hello"
    sdk.delete_object("standin-check", "k")
    sdk.delete_bucket("standin-check")
    wrong = direct_sdk(standin)
    wrong.config.credentials.secret_access_key = b"wrong"
    with pytest.raises(BceHttpClientError) as e:
        wrong.list_buckets()
    assert e.value.last_error.status_code == 403


def test_objects_put_get_list_copy_delete(bos, bucket, standin):
    data = os.urandom(2 * 1024 * 1024 + 3)
    bos.put_object_from_string(bucket, "docs/a.bin", data,
                               user_metadata={"colour": "blue"})
    stored = standin.store.buckets[BUCKETS[bucket]]["docs/a.bin"]
    assert stored["data"] == data, "the body reached the backend intact"
    assert bos.get_object_as_string(bucket, "docs/a.bin") == data
    meta = bos.get_object_meta_data(bucket, "docs/a.bin")
    assert int(meta.metadata.content_length) == len(data)
    assert meta.metadata.bce_meta_colour == "blue"
    part = bos.get_object_as_string(bucket, "docs/a.bin", range=[10, 19])
    assert part == data[10:20]

    for i in range(5):
        bos.put_object_from_string(bucket, f"list/{i}", f"v{i}")
    keys, marker = [], None
    while True:
        page = bos.list_objects(bucket, prefix="list/", max_keys=2, marker=marker)
        assert page.name == bucket, "the caller's bucket name, never the backend's"
        keys += [o.key for o in page.contents]
        if not page.is_truncated:
            break
        marker = page.next_marker
    assert keys == [f"list/{i}" for i in range(5)]

    bos.copy_object(bucket, "docs/a.bin", bucket, "docs/copy.bin")
    assert standin.store.buckets[BUCKETS[bucket]]["docs/copy.bin"]["data"] == data

    for key in ["docs/a.bin", "docs/copy.bin"] + [f"list/{i}" for i in range(5)]:
        bos.delete_object(bucket, key)
    assert not standin.store.buckets[BUCKETS[bucket]]

    with pytest.raises(BceHttpClientError) as e:
        bos.get_object_as_string(bucket, "docs/a.bin")
    assert (e.value.last_error.status_code, e.value.last_error.code) == (404, "NoSuchKey")


def test_multipart_upload_through_dragoman(bos, bucket, standin):
    key = "mpu/big.bin"
    upload_id = bos.initiate_multipart_upload(bucket, key).upload_id
    listed = [u.upload_id for u in bos.list_multipart_uploads(bucket).uploads]
    assert upload_id in listed
    parts = [os.urandom(1024 * 1024), os.urandom(1024 * 1024), b"tail"]
    etags = []
    for n, body in enumerate(parts, start=1):
        resp = bos.upload_part(bucket, key, upload_id, n, len(body), io.BytesIO(body))
        etags.append({"partNumber": n, "eTag": resp.metadata.etag})
    got = bos.list_parts(bucket, key, upload_id)
    assert [p.part_number for p in got.parts] == [1, 2, 3]
    assert got.bucket == bucket
    done = bos.complete_multipart_upload(bucket, key, upload_id, etags)
    assert done.bucket == bucket
    assert f"/{bucket}/" in done.location or BUCKETS[bucket] == bucket
    assert standin.store.buckets[BUCKETS[bucket]][key]["data"] == b"".join(parts)
    assert hashlib.md5(b"".join(parts)).hexdigest() == done.etag.strip('"')

    other = bos.initiate_multipart_upload(bucket, "mpu/abandoned").upload_id
    bos.abort_multipart_upload(bucket, "mpu/abandoned", other)
    assert other not in standin.store.uploads
    bos.delete_object(bucket, key)


def test_every_backend_request_is_signed_by_dragoman(bos, bucket, standin):
    before = len(standin.store.requests)
    bos.put_object_from_string(bucket, "signed", "x")
    bos.delete_object(bucket, "signed")
    seen = standin.store.requests[before:]
    assert seen and all(ak == BACKEND_AK for _, _, ak in seen)


def test_a_wrong_signature_never_reaches_the_backend(front, bucket, standin):
    wrong = front.bos(secret_key="not-the-secret")
    before = len(standin.store.requests)
    with pytest.raises(BceHttpClientError):
        wrong.put_object_from_string(bucket, "never", "x")
    assert len(standin.store.requests) == before
    assert "never" not in standin.store.buckets[BUCKETS[bucket]]


def test_bos_objects_on_an_s3_backend_are_501(front):
    """Object operations across dialects are not translated: a clear 501 in BOS's terms."""
    bos = front.bos()
    bos.create_bucket("local-bos-bucket")
    with pytest.raises(BceHttpClientError) as e:
        bos.put_object_from_string("local-bos-bucket", "k", "x")
    assert e.value.last_error.status_code == 501
    assert "embedded" in str(e.value.last_error)
