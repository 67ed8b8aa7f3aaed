"""Every error a caller can provoke comes back as an S3 error document with request ids, never
a panic, a hang or a dropped connection."""

import datetime
import socket

import pytest
import requests
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY
from s3util import error_of, signed


@pytest.fixture(scope="module")
def bucket(s3):
    s3.create_bucket(Bucket="errors")
    s3.create_multipart_upload(Bucket="errors", Key="k")
    s3.create_multipart_upload(Bucket="errors", Key="other")
    return "errors"


def get(gateway, path, **kw):
    return signed("GET", gateway.endpoint + path, **kw)


def test_missing_bucket(gateway, s3):
    with pytest.raises(ClientError) as e:
        s3.list_multipart_uploads(Bucket="no-such-bucket")
    err = e.value.response
    assert err["Error"]["Code"] == "NoSuchBucket"
    assert err["Error"]["BucketName"] == "no-such-bucket"
    assert err["ResponseMetadata"]["HTTPStatusCode"] == 404
    assert len(err["ResponseMetadata"]["RequestId"]) == 16
    code, message, fields = error_of(get(gateway, "/no-such-bucket?uploads"))
    assert (code, message) == ("NoSuchBucket", "The specified bucket does not exist")
    assert list(fields) == ["Code", "Message", "BucketName", "RequestId", "HostId"]


@pytest.mark.parametrize("value,message", [
    ("-1", "Argument max-uploads must be an integer between 0 and 2147483647"),
    ("abc", "Provided max-uploads not an integer or within integer range"),
    ("2147483648", "Provided max-uploads not an integer or within integer range"),
    ("99999999999999999999999", "Provided max-uploads not an integer or within integer range"),
    ("%205", "Provided max-uploads not an integer or within integer range"),
])
def test_bad_max_uploads(gateway, bucket, value, message):
    r = get(gateway, f"/{bucket}?uploads&max-uploads={value}")
    code, msg, fields = error_of(r)
    assert (r.status_code, code, msg) == (400, "InvalidArgument", message)
    assert fields["ArgumentName"] == "max-uploads"


def test_bad_encoding_type(gateway, bucket):
    r = get(gateway, f"/{bucket}?uploads&encoding-type=bogus")
    code, msg, fields = error_of(r)
    assert (r.status_code, code, msg) == (400, "InvalidArgument", "Invalid Encoding Method specified in Request")
    assert (fields["ArgumentName"], fields["ArgumentValue"]) == ("encoding-type", "bogus")


def test_unknown_upload_id_marker(gateway, s3, bucket):
    with pytest.raises(ClientError) as e:
        s3.list_multipart_uploads(Bucket=bucket, KeyMarker="k", UploadIdMarker="not-an-upload")
    err = e.value.response["Error"]
    assert (err["Code"], err["Message"]) == ("InvalidArgument", "Invalid uploadId marker")
    assert (err["ArgumentName"], err["ArgumentValue"]) == ("upload-id-marker", "not-an-upload")
    other = s3.list_multipart_uploads(Bucket=bucket, Prefix="other")["Uploads"][0]["UploadId"]
    with pytest.raises(ClientError) as e:
        s3.list_multipart_uploads(Bucket=bucket, KeyMarker="k", UploadIdMarker=other)
    assert e.value.response["Error"]["Code"] == "InvalidArgument"


def test_invalid_utf8_in_the_query(gateway, bucket):
    r = get(gateway, f"/{bucket}?uploads&prefix=%FF%FE")
    code, _, _ = error_of(r)
    assert (r.status_code, code) == (400, "InvalidURI")


def test_wrong_secret(gateway):
    bad = gateway.client(secret_key="not-the-secret")
    with pytest.raises(ClientError) as e:
        bad.list_multipart_uploads(Bucket="errors")
    assert e.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_unknown_access_key(gateway):
    bad = gateway.client(access_key="AKIAUNKNOWN000000000")
    with pytest.raises(ClientError) as e:
        bad.list_multipart_uploads(Bucket="errors")
    assert e.value.response["Error"]["Code"] == "InvalidAccessKeyId"
    assert e.value.response["Error"]["AWSAccessKeyId"] == "AKIAUNKNOWN000000000"


def test_wrong_region(gateway):
    r = get(gateway, "/errors?uploads", region="eu-west-1")
    code, _, fields = error_of(r)
    assert (r.status_code, code, fields["Region"]) == (400, "AuthorizationHeaderMalformed", "us-east-1")


def test_clock_skew(gateway, monkeypatch):
    import botocore.auth

    real = datetime.datetime

    class Skewed(real):
        @classmethod
        def utcnow(cls):
            return real.now(datetime.UTC).replace(tzinfo=None) - datetime.timedelta(minutes=20)

        @classmethod
        def now(cls, tz=None):
            return real.now(tz) - datetime.timedelta(minutes=20)

    monkeypatch.setattr(botocore.auth.datetime, "datetime", Skewed)
    r = get(gateway, "/errors?uploads")
    monkeypatch.undo()
    code, _, fields = error_of(r)
    assert (r.status_code, code) == (403, "RequestTimeTooSkewed")
    assert fields["MaxAllowedSkewMilliseconds"] == "900000"


@pytest.mark.parametrize("header", [
    "garbage",
    "AWS4-HMAC-SHA256",
    "AWS4-HMAC-SHA256 Credential=x, SignedHeaders=host, Signature=y",
    "AWS4-HMAC-SHA256 Credential=" + ACCESS_KEY + "/20260102/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=00",
    "AWS " + ACCESS_KEY + ":c2lnbmF0dXJl",
])
def test_garbage_authorization(gateway, header):
    r = requests.get(gateway.endpoint + "/errors?uploads", headers={"Authorization": header}, timeout=10)
    code, _, _ = error_of(r)
    assert 400 <= r.status_code < 500
    assert code in {"AuthorizationHeaderMalformed", "InvalidRequest", "AccessDenied"}


def test_sigv2_presigned_urls_are_named_as_unsupported(gateway):
    r = requests.get(gateway.endpoint + "/errors?uploads&AWSAccessKeyId=AK&Signature=x&Expires=9999999999",
                     timeout=10)
    code, message, _ = error_of(r)
    assert (r.status_code, code) == (400, "InvalidRequest")
    assert "AWS4-HMAC-SHA256" in message


def test_anonymous_requests_are_refused(gateway):
    r = requests.get(gateway.endpoint + "/errors?uploads", timeout=10)
    code, _, _ = error_of(r)
    assert (r.status_code, code) == (403, "AccessDenied")


def test_oversized_headers(gateway):
    r = get(gateway, "/errors?uploads", headers={"x-filler": "a" * 20000})
    code, _, _ = error_of(r)
    assert (r.status_code, code) == (400, "RequestHeaderSectionTooLarge")


def test_unsupported_operations_say_so(gateway, bucket):
    r = get(gateway, f"/{bucket}")
    code, _, _ = error_of(r)
    assert (r.status_code, code) == (501, "NotImplemented")
    r = signed("PATCH", gateway.endpoint + f"/{bucket}")
    code, _, _ = error_of(r)
    assert (r.status_code, code) == (405, "MethodNotAllowed")


def test_success_responses_carry_request_ids(gateway, bucket):
    r = get(gateway, f"/{bucket}?uploads")
    assert r.status_code == 200
    assert len(r.headers["x-amz-request-id"]) == 16
    assert r.headers["x-amz-id-2"]


def test_malformed_http_gets_an_answer_not_a_hang(gateway):
    with socket.create_connection(("127.0.0.1", gateway.port), timeout=5) as s:
        s.sendall(b"GET /errors?uploads HTTP/1.1\r\nHost: x\r\nBad Header Line\r\n\r\n")
        reply = s.recv(4096)
    assert reply.startswith(b"HTTP/1.1 400")
    # The gateway is still serving.
    assert get(gateway, "/errors?uploads").status_code == 200
