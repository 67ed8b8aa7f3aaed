"""Writes the fuzz targets' seed corpora (fuzz/seeds/<target>/): requests signed as the
official clients sign them, for the fuzz targets' fixed caller and clock, and pages in each
backend's documented shape. Run with the test venv: .venv/bin/python fuzz/make_seeds.py"""

import datetime
import hashlib
import json
from pathlib import Path

import botocore.auth
from botocore.auth import S3SigV4Auth, S3SigV4QueryAuth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

ROOT = Path(__file__).resolve().parent / "seeds"
AK, SK, TOKEN = "FUZZACCESSKEY0000001", "fuzz-secret-key-0000000000000001", "access-v1:fuzz-static-token-0001"
NOW = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)


class FrozenDatetime(datetime.datetime):
    @classmethod
    def utcnow(cls):
        return NOW.replace(tzinfo=None)

    @classmethod
    def now(cls, tz=None):
        return NOW if tz else NOW.replace(tzinfo=None)


botocore.auth.datetime.datetime = FrozenDatetime


def write(target, name, data):
    d = ROOT / target
    d.mkdir(parents=True, exist_ok=True)
    (d / name).write_bytes(data if isinstance(data, bytes) else data.encode())


def as_request(method, url, headers, body=b""):
    path = url.split("://", 1)[1]
    path = path[path.index("/"):]
    head = f"{method} {path}\n" + "".join(f"{k}: {v}\n" for k, v in headers.items())
    return head.encode() + b"\n" + body


def s3(method, path, body=b"", presign=False):
    url = "http://127.0.0.1:9000" + path
    signed = {} if presign else {"x-amz-content-sha256": hashlib.sha256(body).hexdigest()}
    req = AWSRequest(method=method, url=url, data=body, headers=signed)
    creds = Credentials(AK, SK)
    if presign:
        S3SigV4QueryAuth(creds, "s3", "us-east-1", expires=900).add_auth(req)
        url = req.url
        headers = {"host": "127.0.0.1:9000"}
    else:
        S3SigV4Auth(creds, "s3", "us-east-1").add_auth(req)
        headers = dict(req.headers.items())
        headers["host"] = "127.0.0.1:9000"
    return as_request(method, url, headers, body)


write("s3_request", "list", s3("GET", "/bucket?uploads&prefix=a%2F&delimiter=%2F&max-uploads=2"))
write("s3_request", "list-markers", s3("GET", "/bucket?uploads&key-marker=a%2Fb&upload-id-marker=x~t00000000000000ff"))
write("s3_request", "create", s3("POST", "/bucket/dir/key%20%C3%BC?uploads"))
write("s3_request", "abort", s3("DELETE", "/bucket/key?uploadId=0000000000000001aaaaaaaaaaaaaaaa"))
write("s3_request", "presigned", s3("GET", "/bucket?uploads", presign=True))
write("s3_request", "buckets", s3("GET", "/"))
write("s3_request", "virtual", b"GET /?uploads\nhost: bucket.s3.localhost\nx-amz-date: 20260101T000000Z\n\n")


def bos(method, path, params):
    from baidubce.auth import bce_v1_signer
    from baidubce.auth.bce_credentials import BceCredentials

    ts = int(NOW.timestamp())
    date = NOW.strftime("%Y-%m-%dT%H:%M:%SZ")
    headers = {b"host": b"127.0.0.1:9000", b"x-bce-date": date.encode()}
    auth = bce_v1_signer.sign(BceCredentials(AK, SK), method.encode(), path.encode(), headers,
                              {k.encode(): v.encode() for k, v in params.items()}, timestamp=ts)
    query = "&".join(f"{k}={v}" if v else k for k, v in params.items())
    hs = {"host": "127.0.0.1:9000", "x-bce-date": date, "authorization": auth.decode()}
    return as_request(method, "http://h" + path + ("?" + query if query else ""), hs)


write("bos_request", "list", bos("GET", "/bucket", {"uploads": "", "maxUploads": "2", "keyMarker": "a"}))
write("bos_request", "create", bos("POST", "/bucket/key", {"uploads": ""}))
write("bos_request", "abort", bos("DELETE", "/bucket/key", {"uploadId": "u1"}))
write("bos_request", "legacy", bos("GET", "/v1/bucket", {"uploads": ""}))
write("bos_request", "buckets", bos("GET", "/", {}))

q = {"host": "127.0.0.1:9000", "authorization": "Bearer " + TOKEN}
write("qumulo_request", "list", as_request("GET", "https://h/v1/s3/buckets/bucket/uploads/?limit=3", q))
write("qumulo_request", "list-after", as_request("GET", "https://h/v1/s3/buckets/bucket/uploads/?after=v1.abc.def", q))
write("qumulo_request", "abort", as_request("DELETE", "https://h/v1/s3/buckets/bucket/uploads/0000000000000001aaaaaaaaaaaaaaaa", q))
write("qumulo_request", "buckets", as_request("GET", "https://h/v1/s3/buckets/", q))
write("qumulo_request", "login", as_request("POST", "https://h/v1/session/login", {"host": "h", "content-type": "application/json"},
                                            json.dumps({"username": "fuzz", "password": SK}).encode()))

upload_xml = ("<Upload><Key>a/1 &amp; ü</Key><UploadId>U1</UploadId><Initiator><ID>i</ID><DisplayName>alice</DisplayName></Initiator>"
              "<Owner><ID>o</ID><DisplayName>owner</DisplayName></Owner><StorageClass>STANDARD</StorageClass>"
              "<Initiated>2026-01-02T03:04:05.000Z</Initiated></Upload>")
write("s3_page", "list", '<?xml version="1.0" encoding="UTF-8"?>\n<ListMultipartUploadsResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
      "<Bucket>b</Bucket><KeyMarker></KeyMarker><UploadIdMarker></UploadIdMarker><NextKeyMarker>a/1</NextKeyMarker>"
      "<NextUploadIdMarker>U1</NextUploadIdMarker><MaxUploads>2</MaxUploads><IsTruncated>true</IsTruncated>"
      + upload_xml + "<CommonPrefixes><Prefix>c/</Prefix></CommonPrefixes></ListMultipartUploadsResult>")
write("s3_page", "buckets", "<ListAllMyBucketsResult><Owner><ID>o</ID></Owner><Buckets><Bucket><Name>a</Name>"
      "<CreationDate>2019-12-11T23:32:47.000Z</CreationDate></Bucket></Buckets></ListAllMyBucketsResult>")
write("s3_page", "error", "<Error><Code>InvalidArgument</Code><Message>Invalid uploadId marker</Message>"
      "<ArgumentName>upload-id-marker</ArgumentName><ArgumentValue>x</ArgumentValue></Error>")

write("bos_page", "list", json.dumps({
    "bucket": "b", "keyMarker": "", "nextKeyMarker": "a/1", "nextUploadIdMarker": "u1", "maxUploads": 2, "isTruncated": True,
    "prefix": "", "delimiter": "/", "commonPrefixes": [{"prefix": "c/"}],
    "uploads": [{"key": "a/1", "uploadId": "u1", "owner": {"id": "o", "displayName": "alice"},
                 "initiated": "2024-05-06T07:08:09Z", "storageClass": "COLD"}]}))
write("bos_page", "buckets", json.dumps({"owner": {"id": "o", "displayName": "d"},
                                         "buckets": [{"name": "a", "location": "bj", "creationDate": "2014-08-13T11:24:00Z"}]}))
write("bos_page", "error", json.dumps({"code": "NoSuchUpload", "message": "m", "requestId": "r"}))

identity = {"uid": None, "gid": None, "sid": None, "auth_id": "500", "domain": "LOCAL", "name": "admin"}
write("qumulo_page", "page", json.dumps({
    "uploads": [{"bucket": "b", "key": "k", "id": "7", "initiator": identity, "initiated": "2026-01-02T03:04:05.123456789Z",
                 "last_modified": "2026-01-02T03:04:05.123456789Z", "blocks": "12", "is_completing": False,
                 "is_system_initiated": False, "storage_class": None, "checksum_algorithm": None}],
    "paging": {"next": "/v1/s3/buckets/b/uploads/?after=abc%3D&limit=1"}}))
write("qumulo_page", "buckets", json.dumps({"buckets": [{"name": "a", "creation_time": "2026-01-02T03:04:05.123456789Z", "path": "/a"}]}))
write("qumulo_page", "login", json.dumps({"bearer_token": "1:abc"}))
write("qumulo_page", "error", json.dumps({"module": "qfsd", "error_class": "s3_no_such_upload_error", "description": "gone"}))

write("uri", "query", "uploads&prefix=a%2Fb+c&key-marker=%E2%82%AC&max-uploads=7")
write("uri", "marker", "2~abc.DEF_xyz-1~t00000000000000ff")
write("uri", "percent", "%zz%4%C3%28%%2F")
print("seeds written under", ROOT)
