"""The Qumulo dialect driven by the official qumulo-api SDK and its `qq` CLI, over TLS."""

import json

import pytest
from qumulo.lib.request import RequestError

from conftest import ACCESS_TOKEN, LIMITED_PASSWORD, QUMULO_PAGE
from s3util import canonical

BUCKET = "qumulo-listing"
KEYS = (
    ["a/1", "a/2", "a/2", "a/b/c", "a b", "a", "b", "b", "b", "c/ü/x", "c/z", "d e f", "日本/語", "日本/語", "ü", "z"]
    + [f"logs/2026/{i:02}.bin" for i in range(16)]
    + [f"data/x {i}" for i in range(8)]
    + ["plus+key", "k=1&x", "q?=&key"]
)


@pytest.fixture(scope="module")
def created(s3):
    s3.create_bucket(Bucket=BUCKET)
    made = [(k, s3.create_multipart_upload(Bucket=BUCKET, Key=k)["UploadId"]) for k in KEYS]
    assert len(made) >= 40
    return made


@pytest.fixture(scope="module")
def rc(gateway):
    return gateway.qumulo()


def test_qq_login_and_list_follow_every_page(gateway, created, tmp_path):
    login = gateway.qq("login", "-u", "tester", "-p", "tester-password-0001", xdg=tmp_path)
    assert login.returncode == 0, login.stderr
    listed = gateway.qq("--debug", "s3_list_uploads", "--bucket", BUCKET, xdg=tmp_path)
    assert listed.returncode == 0, listed.stderr
    out = json.loads(listed.stdout)
    assert [(u["key"], u["id"]) for u in out["uploads"]] == canonical(created)
    pages = listed.stderr.count(f"/v1/s3/buckets/{BUCKET}/uploads/")
    assert pages >= -(-len(created) // QUMULO_PAGE), listed.stderr[-2000:]


def test_list_uploads_with_limit_and_start_after(rc, created):
    got, token, pages = [], None, 0
    while True:
        page = rc.s3.list_uploads(BUCKET, limit=5, start_after=token)
        assert len(page.uploads) <= 5
        got.extend((u.key, u.id) for u in page.uploads)
        pages += 1
        token = page.paging.next
        if token is None:
            break
        assert pages < 100
    assert got == canonical(created)
    assert pages == -(-len(created) // 5)


def test_upload_fields_are_all_there_with_qumulo_types(rc, created):
    u = rc.s3.list_uploads(BUCKET, limit=1).uploads[0]
    assert (u.key, u.id) == canonical(created)[0]
    assert u.bucket == BUCKET
    assert set(u.initiator) == {"domain", "auth_id", "uid", "gid", "sid", "name"}
    assert u.initiator["name"] == "tester" and u.initiator["auth_id"] is None
    assert u.initiated.endswith("Z") and len(u.initiated.split(".")[1]) == 10
    assert (u.total_blocks, u.datablocks, u.metablocks) == ("0", "0", "0")
    assert (u.completing, u.system_initiated) == (False, False)
    assert u.last_modified == u.initiated


def test_static_access_token(gateway, created):
    rc = gateway.qumulo(token=ACCESS_TOKEN)
    assert [(u.key, u.id) for u in rc.s3.list_uploads(BUCKET, limit=1000).uploads] == canonical(created)


def test_bucket_list(rc, created):
    names = [b.name for b in rc.s3.list_buckets().buckets]
    assert BUCKET in names


def test_qq_abort(gateway, s3, tmp_path):
    s3.create_bucket(Bucket="qumulo-abort")
    keep = s3.create_multipart_upload(Bucket="qumulo-abort", Key="k")["UploadId"]
    gone = s3.create_multipart_upload(Bucket="qumulo-abort", Key="k")["UploadId"]
    assert gateway.qq("login", "-u", "tester", "-p", "tester-password-0001", xdg=tmp_path).returncode == 0
    r = gateway.qq("s3_abort_upload", "--bucket", "qumulo-abort", "--upload-id", gone, xdg=tmp_path)
    assert r.returncode == 0, r.stderr
    assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="qumulo-abort")["Uploads"]] == [keep]
    again = gateway.qq("s3_abort_upload", "--bucket", "qumulo-abort", "--upload-id", gone, xdg=tmp_path)
    assert again.returncode != 0 and "Error 404" in again.stderr


def status_of(call):
    with pytest.raises(RequestError) as e:
        call()
    return e.value.status_code, e.value.error_class


def test_unknown_bucket_is_404(rc):
    assert status_of(lambda: rc.s3.list_uploads("no-such-bucket"))[0] == 404


def test_no_login_is_401(gateway, created):
    anonymous = gateway.qumulo(username=None)
    assert status_of(lambda: anonymous.s3.list_uploads(BUCKET))[0] == 401


def test_bad_tokens_are_401(gateway, created):
    for token in ["1:ATwAAABFAKEfakeFAKEfakeBearerToken==", "access-v1:not-configured-token", "v1.eyJ9.AAAA"]:
        assert status_of(lambda: gateway.qumulo(token=token).s3.list_uploads(BUCKET))[0] == 401


def test_bad_password_is_401(gateway):
    assert status_of(lambda: gateway.qumulo(password="wrong-password"))[0] == 401


def test_forged_or_foreign_after_is_400(rc, created):
    token = rc.s3.list_uploads(BUCKET, limit=2).paging.next
    assert token
    head, mac = token.rsplit(".", 1)
    forged = head + "." + ("A" if mac[0] != "A" else "B") + mac[1:]
    for bad in [forged, "0000000000000002", "v2.x.y", "not a token"]:
        assert status_of(lambda: rc.s3.list_uploads(BUCKET, start_after=bad))[0] == 400
    # A token of one bucket does not resume another.
    assert status_of(lambda: rc.s3.list_uploads("qumulo-abort", start_after=token))[0] in (400, 404)


def test_bad_limit_is_400(rc, created):
    for limit in [0, -1]:
        assert status_of(lambda: rc.s3.list_uploads(BUCKET, limit=limit))[0] == 400


def test_bucket_patterns_give_403(gateway, created):
    limited = gateway.qumulo(username="limited", password=LIMITED_PASSWORD)
    assert status_of(lambda: limited.s3.list_uploads(BUCKET))[0] == 403


def test_next_is_a_relative_uri_repeating_the_endpoint(gateway, created):
    import requests

    rc = gateway.qumulo()
    bearer = rc.conninfo.credentials.bearer_token
    r = requests.get(f"https://127.0.0.1:{gateway.port}/v1/s3/buckets/{BUCKET}/uploads/?limit=3",
                     headers={"Authorization": f"Bearer {bearer}"}, verify=str(gateway.data / "tls" / "self-signed.pem"),
                     timeout=10)
    assert r.status_code == 200 and "etag" not in {k.lower() for k in r.headers}
    nxt = r.json()["paging"]["next"]
    assert nxt.startswith(f"/v1/s3/buckets/{BUCKET}/uploads/?after=") and nxt.endswith("&limit=3")
    # Following it verbatim (the SDK's generic PagingIterator does) gives the next page.
    r2 = requests.get(f"https://127.0.0.1:{gateway.port}{nxt}", headers={"Authorization": f"Bearer {bearer}"},
                      verify=str(gateway.data / "tls" / "self-signed.pem"), timeout=10)
    assert r2.status_code == 200 and len(r2.json()["uploads"]) == 3
    last = r2
    while last.json()["paging"]["next"] is not None:
        last = requests.get(f"https://127.0.0.1:{gateway.port}{last.json()['paging']['next']}",
                            headers={"Authorization": f"Bearer {bearer}"},
                            verify=str(gateway.data / "tls" / "self-signed.pem"), timeout=10)
    assert last.json()["paging"] == {"next": None}
