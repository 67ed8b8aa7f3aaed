"""Create, abort, buckets, restarts, addressing styles, presigned URLs, bucket permissions."""

import time

import pytest
import requests
from botocore.config import Config
from botocore.exceptions import ClientError

from conftest import LIMITED_KEY, LIMITED_SECRET, Dragoman
from s3util import error_of


def code_of(exc: ClientError):
    return exc.response["Error"]["Code"], exc.response["ResponseMetadata"]["HTTPStatusCode"]


def keys_of(s3, bucket):
    return [(u["Key"], u["UploadId"]) for u in s3.list_multipart_uploads(Bucket=bucket).get("Uploads", [])]


def test_abort_removes_the_upload_and_a_second_abort_is_no_such_upload(s3):
    s3.create_bucket(Bucket="abort")
    keep = s3.create_multipart_upload(Bucket="abort", Key="k")["UploadId"]
    gone = s3.create_multipart_upload(Bucket="abort", Key="k")["UploadId"]
    r = s3.abort_multipart_upload(Bucket="abort", Key="k", UploadId=gone)
    assert r["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert keys_of(s3, "abort") == [("k", keep)]
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket="abort", Key="k", UploadId=gone)
    assert code_of(e.value) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as e:
        s3.abort_multipart_upload(Bucket="abort", Key="other-key", UploadId=keep)
    assert code_of(e.value) == ("NoSuchUpload", 404)
    assert keys_of(s3, "abort") == [("k", keep)]


def test_paging_survives_an_abort_of_the_marker_upload(s3):
    s3.create_bucket(Bucket="abort-between-pages")
    made = [s3.create_multipart_upload(Bucket="abort-between-pages", Key=k)["UploadId"]
            for k in ["a", "a", "b", "c"]]
    first = s3.list_multipart_uploads(Bucket="abort-between-pages", MaxUploads=2)
    assert first["NextUploadIdMarker"] == made[1]
    s3.abort_multipart_upload(Bucket="abort-between-pages", Key="a", UploadId=made[1])
    rest = s3.list_multipart_uploads(Bucket="abort-between-pages", KeyMarker=first["NextKeyMarker"],
                                     UploadIdMarker=first["NextUploadIdMarker"])
    assert [u["UploadId"] for u in rest["Uploads"]] == made[2:]


def test_bucket_lifecycle(s3):
    s3.create_bucket(Bucket="lifecycle")
    assert s3.head_bucket(Bucket="lifecycle")["ResponseMetadata"]["HTTPStatusCode"] == 200
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="lifecycle")
    assert code_of(e.value) == ("BucketAlreadyOwnedByYou", 409)
    upload = s3.create_multipart_upload(Bucket="lifecycle", Key="x")["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.delete_bucket(Bucket="lifecycle")
    assert code_of(e.value) == ("BucketNotEmpty", 409)
    s3.abort_multipart_upload(Bucket="lifecycle", Key="x", UploadId=upload)
    s3.delete_bucket(Bucket="lifecycle")
    with pytest.raises(ClientError) as e:
        s3.head_bucket(Bucket="lifecycle")
    assert code_of(e.value) == ("404", 404)
    assert "lifecycle" not in [b["Name"] for b in s3.list_buckets()["Buckets"]]


def test_invalid_bucket_name_is_refused(s3):
    with pytest.raises(ClientError) as e:
        s3.create_bucket(Bucket="no_underscores")
    assert code_of(e.value) == ("InvalidBucketName", 400)


def test_bucket_patterns_limit_a_principal(gateway, s3):
    s3.create_bucket(Bucket="team-a-logs")
    s3.create_bucket(Bucket="team-b-logs")
    limited = gateway.client(access_key=LIMITED_KEY, secret_key=LIMITED_SECRET)
    limited.create_multipart_upload(Bucket="team-a-logs", Key="mine")
    with pytest.raises(ClientError) as e:
        limited.list_multipart_uploads(Bucket="team-b-logs")
    assert code_of(e.value) == ("AccessDenied", 403)
    names = [b["Name"] for b in limited.list_buckets()["Buckets"]]
    assert "team-a-logs" in names and "team-b-logs" not in names
    owner = s3.list_multipart_uploads(Bucket="team-a-logs")["Uploads"][0]["Initiator"]
    assert owner["DisplayName"] == "limited"


def test_virtual_hosted_addressing(gateway, s3):
    s3.create_bucket(Bucket="vhost")
    uid = s3.create_multipart_upload(Bucket="vhost", Key="dir/v k")["UploadId"]
    # botocore sends `GET http://vhost.s3.localhost:PORT/?uploads` through the gateway as a proxy,
    # with Host: vhost.s3.localhost:PORT, signed for that host.
    vclient = gateway.client(s3={"addressing_style": "virtual"},
                             proxies={"http": f"http://127.0.0.1:{gateway.port}"})
    vclient._endpoint.host = f"http://s3.localhost:{gateway.port}"
    page = vclient.list_multipart_uploads(Bucket="vhost")
    assert [(u["Key"], u["UploadId"]) for u in page["Uploads"]] == [("dir/v k", uid)]
    with pytest.raises(ClientError) as e:
        vclient.list_multipart_uploads(Bucket="vhost-missing")
    assert code_of(e.value) == ("NoSuchBucket", 404)


def test_presigned_urls_work_until_they_expire(s3):
    s3.create_bucket(Bucket="presign")
    uid = s3.create_multipart_upload(Bucket="presign", Key="p")["UploadId"]
    url = s3.generate_presigned_url("list_multipart_uploads", Params={"Bucket": "presign"},
                                    ExpiresIn=60)
    r = requests.get(url, timeout=10)
    assert r.status_code == 200 and uid in r.text
    tampered = url.replace("presign?", "presign?prefix=x&")
    code, _, _ = error_of(requests.get(tampered, timeout=10))
    assert code == "SignatureDoesNotMatch"
    short = s3.generate_presigned_url("list_multipart_uploads", Params={"Bucket": "presign"},
                                      ExpiresIn=1)
    time.sleep(2.1)
    r = requests.get(short, timeout=10)
    code, message, _ = error_of(r)
    assert (r.status_code, code, message) == (403, "AccessDenied", "Request has expired")


def test_a_restart_keeps_every_upload(tmp_path):
    gw = Dragoman(tmp_path).start()
    try:
        s3 = gw.client()
        s3.create_bucket(Bucket="durable")
        made = [(k, s3.create_multipart_upload(Bucket="durable", Key=k)["UploadId"])
                for k in ["x", "y ü", "x", "z/1"]]
        before = keys_of(s3, "durable")
        assert sorted(before) == sorted(made)
        gw.restart()
        s3 = gw.client()
        assert keys_of(s3, "durable") == before
        later = s3.create_multipart_upload(Bucket="durable", Key="x")["UploadId"]
        assert [u for k, u in keys_of(s3, "durable") if k == "x"][-1] == later
    finally:
        assert gw.stop() == 0


def test_sigint_also_stops_cleanly(tmp_path):
    import signal

    gw = Dragoman(tmp_path).start()
    gw.client().create_bucket(Bucket="int")
    assert gw.stop(signal.SIGINT) == 0
    assert "embedded store closed" in gw.log.read_text()


def test_concurrent_clients_lose_nothing(gateway, s3):
    from concurrent.futures import ThreadPoolExecutor

    s3.create_bucket(Bucket="concurrent")

    def worker(n):
        client = gateway.client()
        made = [client.create_multipart_upload(Bucket="concurrent", Key=f"w{n}/{i}")["UploadId"]
                for i in range(15)]
        client.list_multipart_uploads(Bucket="concurrent", MaxUploads=5)
        return made

    with ThreadPoolExecutor(max_workers=8) as pool:
        made = [u for batch in pool.map(worker, range(8)) for u in batch]
    listed = keys_of(s3, "concurrent")
    assert sorted(u for _, u in listed) == sorted(made)
    assert [k for k, _ in listed] == sorted((k for k, _ in listed), key=str.encode)
