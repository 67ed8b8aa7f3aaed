"""Attacks on the running gateway, each a regression test for a hole that was open: requests
forged to reach other hosts or other resources, signatures that should not verify, keys that
would break every later listing."""

import hashlib
import socket
import threading
import time
import xml.dom.minidom

import pytest
import requests
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.exceptions import ClientError

from conftest import ACCESS_KEY, ACCESS_TOKEN, PASSWORD, REGION, SECRET_KEY, Dragoman


def s3_signed(method, url, body=b"", headers=None):
    """A request signed with SigV4 exactly as written, path bytes included (boto3 would refuse
    or re-encode the names these tests need)."""
    headers = dict(headers or {}, **{"x-amz-content-sha256": hashlib.sha256(body).hexdigest()})
    req = AWSRequest(method=method, url=url, data=body, headers=headers)
    SigV4Auth(Credentials(ACCESS_KEY, SECRET_KEY), "s3", REGION).add_auth(req)
    return requests.request(method, url, headers=dict(req.headers.items()), data=body, timeout=10)


class Canary:
    """A listener that records whether anything connected to it."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.hits = 0
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.hits += 1
            conn.close()


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    gw = Dragoman(tmp_path_factory.mktemp("hardening-remote")).start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()


@pytest.fixture(scope="module")
def front(tmp_path_factory, remote):
    extra = f"""
[backends.archive]
kind = "s3"
endpoint = "http://127.0.0.1:{remote.port}"
addressing = "virtual"
access_key = "{ACCESS_KEY}"
secret_key = "{SECRET_KEY}"

[backends.cluster]
kind = "qumulo"
endpoint = "https://127.0.0.1:{remote.port}"
username = "tester"
password = "{PASSWORD}"
ca_file = "{remote.data}/tls/self-signed.pem"

[backends.untrusted]
kind = "qumulo"
endpoint = "https://127.0.0.1:{remote.port}"
username = "tester"
password = "{PASSWORD}"

[[routes]]
buckets = "archive-*"
backend = "archive"

[[routes]]
buckets = "untrusted-*"
backend = "untrusted"

[[routes]]
buckets = "scratch"
backend = "cluster"

[[routes]]
buckets = "amplified"
backend = "cluster"
"""
    gw = Dragoman(tmp_path_factory.mktemp("hardening-front"), extra).start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()


def test_a_bucket_name_cannot_choose_the_backend_host(front):
    canary = Canary()
    for name in [f"archive-x%40127.0.0.1%3A{canary.port}%3F", f"archive-x.127.0.0.1%3A{canary.port}%23",
                 "archive-X", "archive-%2e%2e", "archive-x%00", "archive_x"]:
        r = s3_signed("GET", f"{front.endpoint}/{name}?uploads")
        assert r.status_code == 400, (name, r.text)
        assert "<Code>InvalidBucketName</Code>" in r.text, r.text
        assert f"{canary.port}" not in r.text or "%3A" in r.text
    time.sleep(0.2)
    assert canary.hits == 0


def test_an_upload_id_cannot_walk_up_the_cluster_path(front, remote):
    remote.client().create_bucket(Bucket="scratch")
    headers = {"Authorization": "Bearer " + ACCESS_TOKEN}
    # (A client sends literal dot segments normalized away; encoded ones reach the gateway.)
    for upload_id in ["%2E%2E", "%2e", "%2E%2e"]:
        r = requests.delete(f"{front.https}/v1/s3/buckets/scratch/uploads/{upload_id}", headers=headers,
                            timeout=10, verify=False)
        assert r.status_code == 400, (upload_id, r.status_code, r.text)
        assert r.json()["error_class"] == "invalid_request_error"
    # The bucket the traversal pointed at is still there.
    assert remote.client().head_bucket(Bucket="scratch")["ResponseMetadata"]["HTTPStatusCode"] == 200


def test_a_key_xml_cannot_carry_is_refused_and_listings_stay_well_formed(gateway, s3):
    s3.create_bucket(Bucket="bucketa")
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket="bucketa", Key="bad\x01key")
    assert e.value.response["Error"]["Code"] == "InvalidArgument"
    s3.create_multipart_upload(Bucket="bucketa", Key="tab\tand newline\n are fine")
    r = s3_signed("GET", f"{gateway.endpoint}/bucketa?uploads")
    assert r.status_code == 200
    xml.dom.minidom.parseString(r.content)


def test_keys_longer_than_1024_bytes_are_refused(s3):
    s3.create_bucket(Bucket="long-keys")
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket="long-keys", Key="k" * 1025)
    assert e.value.response["Error"]["Code"] == "KeyTooLongError"
    with pytest.raises(ClientError) as e:
        s3.create_multipart_upload(Bucket="long-keys", Key="ü" * 513)
    assert e.value.response["Error"]["Code"] == "KeyTooLongError"
    s3.create_multipart_upload(Bucket="long-keys", Key="k" * 1024)
    assert len(s3.list_multipart_uploads(Bucket="long-keys")["Uploads"]) == 1


def bos_signed(gateway, host, headers_to_sign, expiration=1800, timestamp=None):
    from baidubce.auth import bce_v1_signer
    from baidubce.auth.bce_credentials import BceCredentials

    ts = timestamp or int(time.time())
    date = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(ts))
    headers = {b"host": host.encode(), b"x-bce-date": date.encode()}
    auth = bce_v1_signer.sign(BceCredentials(ACCESS_KEY, SECRET_KEY), b"GET", b"/", headers, {b"uploads": b""},
                              timestamp=ts, expiration_in_seconds=expiration,
                              headers_to_sign=headers_to_sign)
    return requests.get(f"{gateway.endpoint}/?uploads", timeout=10,
                        headers={"Host": host, "x-bce-date": date, "Authorization": auth.decode()})


def test_a_bos_signature_must_cover_the_host(gateway):
    gateway.bos().create_bucket("signed-host")
    host = "signed-host.bj.bcebos.com"
    assert bos_signed(gateway, host, {b"host", b"x-bce-date"}).status_code == 200
    # (The SDK signs every x-bce-* header whatever the list says, so the list names it.)
    r = bos_signed(gateway, host, {b"x-bce-date"})
    assert r.status_code in (400, 403), r.text
    assert r.json()["code"] not in ("NoSuchBucket", "SignatureDoesNotMatch"), r.text


def test_a_bos_signature_cannot_claim_a_lifetime_of_years(gateway):
    gateway.bos().create_bucket("old-signature")
    host = "old-signature.bj.bcebos.com"
    # Signed in 2001, valid for 31 years: refused, and not for its signature.
    r = bos_signed(gateway, host, {b"host", b"x-bce-date"}, expiration=10**9, timestamp=978307200)
    assert r.status_code in (400, 403), r.text
    assert r.json()["code"] != "SignatureDoesNotMatch", r.text
    assert bos_signed(gateway, host, {b"host", b"x-bce-date"}).status_code == 200


def test_a_large_body_on_an_operation_not_served_is_501_not_400(gateway, s3):
    s3.create_bucket(Bucket="big-bodies")
    r = s3_signed("PUT", f"{gateway.endpoint}/big-bodies/object", body=b"x" * (2 * 1024 * 1024))
    assert r.status_code == 501, r.text
    assert "<Code>NotImplemented</Code>" in r.text


def test_an_untrusted_backend_certificate_is_a_502_not_worth_retrying(front):
    s3 = front.client()
    with pytest.raises(ClientError) as e:
        s3.list_multipart_uploads(Bucket="untrusted-bucket")
    meta = e.value.response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == 502
    assert "retry-after" not in meta["HTTPHeaders"]
    assert "certificate" not in e.value.response["Error"]["Message"]
    assert "not trusted" in front.log.read_text()


def login(gw, username, password):
    return requests.post(f"{gw.https}/v1/session/login", json={"username": username, "password": password},
                         timeout=10, verify=False)


def test_password_guessing_is_bounded_per_name_and_address(tmp_path_factory):
    gw = Dragoman(tmp_path_factory.mktemp("guessing"), env={"DRAGOMAN_SERVER__LOGIN_MAX_FAILURES": "3",
                                                            "DRAGOMAN_SERVER__LOGIN_WINDOW_SECS": "60"}).start()
    try:
        for _ in range(3):
            r = login(gw, "tester", "wrong-password")
            assert r.status_code == 401
        # The fourth attempt is refused before the password is looked at, right or not.
        r = login(gw, "tester", PASSWORD)
        assert r.status_code == 429, r.text
        assert r.json()["error_class"] == "too_many_attempts_error"
        assert 1 <= int(r.headers["Retry-After"]) <= 60
        # The same address guessing another name is refused too.
        assert login(gw, "limited", "wrong-again").status_code == 429
    finally:
        gw.stop()



def test_qumulo_credentials_are_refused_in_the_clear(gateway):
    # A bearer token or a password over plain HTTP: refused, in Qumulo's error shape.
    r = requests.get(f"{gateway.endpoint}/v1/s3/buckets/", headers={"Authorization": "Bearer " + ACCESS_TOKEN}, timeout=10)
    assert r.status_code == 403, r.text
    assert r.json()["error_class"] == "tls_required_error"
    assert "https" in r.json()["description"]
    r = requests.post(f"{gateway.endpoint}/v1/session/login", json={"username": "tester", "password": PASSWORD}, timeout=10)
    assert r.status_code == 403 and r.json()["error_class"] == "tls_required_error"
    # The same requests over TLS are served; S3 and BOS signatures still work in the clear.
    r = requests.get(f"{gateway.https}/v1/s3/buckets/", headers={"Authorization": "Bearer " + ACCESS_TOKEN}, timeout=10, verify=False)
    assert r.status_code == 200, r.text
    gateway.client().list_buckets()
    gateway.bos().list_buckets()


def raw(port, data):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(data)
    return s


def read_all(s):
    chunks = []
    while True:
        try:
            chunk = s.recv(65536)
        except OSError:
            break
        if not chunk:
            break
        chunks.append(chunk)
    return b"".join(chunks)


@pytest.fixture(scope="module")
def tight(tmp_path_factory):
    gw = Dragoman(tmp_path_factory.mktemp("tight"), env={
        "DRAGOMAN_SERVER__MAX_CONCURRENCY": "2", "DRAGOMAN_SERVER__BODY_READ_TIMEOUT_SECS": "2",
        "DRAGOMAN_SERVER__HEADER_READ_TIMEOUT_SECS": "2", "DRAGOMAN_SERVER__MAX_CONNECTIONS": "12"}).start()
    gw.client().create_bucket(Bucket="tight")
    yield gw
    gw.stop()


def test_bodies_that_never_come_hold_no_slot_and_time_out(tight):
    announce = b"POST /tight/key?uploads HTTP/1.1\r\nHost: 127.0.0.1\r\nx-amz-date: 20260101T000000Z\r\nContent-Length: 100\r\n\r\n"
    slow = [raw(tight.port, announce) for _ in range(4)]
    time.sleep(0.3)
    # Four bodies pending, two slots: a normal caller is still served at once.
    started = time.monotonic()
    assert tight.client().list_multipart_uploads(Bucket="tight")["IsTruncated"] is False
    assert time.monotonic() - started < 1.0
    # Each slow sender gets the dialect's RequestTimeout after the body-read timeout.
    for s in slow:
        answer = read_all(s)
        assert b" 400 " in answer.split(b"\r\n", 1)[0] and b"<Code>RequestTimeout</Code>" in answer, answer[:300]
        s.close()


def test_an_idle_kept_alive_connection_is_closed(tight):
    s = raw(tight.port, b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    first = s.recv(65536)
    assert first.startswith(b"HTTP/1.1 ")
    started = time.monotonic()
    s.settimeout(10)
    rest = read_all(s)
    assert rest == b"" and time.monotonic() - started < 5, rest
    s.close()


def test_connections_beyond_the_cap_wait_for_a_free_one(tight):
    idle = [raw(tight.port, b"") for _ in range(12)]
    time.sleep(0.3)
    started = time.monotonic()
    assert tight.client().list_multipart_uploads(Bucket="tight")["IsTruncated"] is False
    waited = time.monotonic() - started
    # Served once the idle connections time out (2 s), not before and not never.
    assert 1.0 < waited < 8.0, waited
    for s in idle:
        s.close()


def qumulo_pages_served(gw):
    text = requests.get(gw.admin + "/metrics", timeout=5).text
    for line in text.splitlines():
        if line.startswith('dragoman_requests_total{dialect="qumulo",operation="list_uploads",status="200"}'):
            return int(float(line.rsplit(" ", 1)[1]))
    return 0


def test_concurrent_listings_of_a_cluster_bucket_share_one_read_and_aborts_read_nothing(front, remote):
    from concurrent.futures import ThreadPoolExecutor

    r = remote.client()
    r.create_bucket(Bucket="amplified")
    # Enough uploads (30 cluster pages) that a bucket read lasts long enough for the
    # concurrent listings to overlap.
    made = [(f"k{i % 5}", r.create_multipart_upload(Bucket="amplified", Key=f"k{i % 5}")["UploadId"]) for i in range(210)]
    before = qumulo_pages_served(remote)
    clients = [front.client() for _ in range(8)]
    with ThreadPoolExecutor(8) as pool:
        pages = list(pool.map(lambda c: c.list_multipart_uploads(Bucket="amplified"), clients))
    assert all(len(p["Uploads"]) == 210 for p in pages)
    per_read = 210 // 7  # the remote serves pages of 7
    served = qumulo_pages_served(remote) - before
    # Eight concurrent listings: at most a few bucket reads (they overlap), never eight.
    assert per_read <= served <= 3 * per_read, served
    # Aborting what was just listed, by key and id, reads nothing more from the cluster.
    before = qumulo_pages_served(remote)
    s3 = front.client()
    for key, upload_id in made[:5]:
        s3.abort_multipart_upload(Bucket="amplified", Key=key, UploadId=upload_id)
    assert qumulo_pages_served(remote) == before
    left = {u["UploadId"] for u in r.list_multipart_uploads(Bucket="amplified")["Uploads"]}
    assert left == {u for _, u in made[5:]}
