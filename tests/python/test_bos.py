"""The BOS dialect driven by the official bce-python-sdk, path style and virtual-hosted."""

import datetime
import re

import pytest
from baidubce.exception import BceHttpClientError

from conftest import ACCESS_KEY, LIMITED_KEY, LIMITED_SECRET
from s3util import canonical, expected_entries

BUCKET = "bos-listing"
KEYS = (
    ["a/1", "a/2", "a/2", "a/b/c", "a/b/d", "a/b/d", "a b", "a b/c", "a", "a-"]
    + ["b", "b", "b", "c/ü/x", "c/ü/y", "c/z", "d e f", "日本/語", "日本/語", "ü", "z", "z/", "z//"]
    + [f"logs/2026/{i:02}.bin" for i in range(8)]
    + [f"data/x {i}" for i in range(4)]
    + ["plus+key", "k=1&x", "目录/a~b*c!", "目录/子目录/文件 1.bin", "emoji 😀/x", "x"]
)
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def text(v):
    return v.decode() if isinstance(v, bytes) else v


@pytest.fixture(scope="module")
def bos(gateway):
    return gateway.bos()


@pytest.fixture(scope="module")
def created(bos):
    bos.create_bucket(BUCKET)
    made = []
    for key in KEYS:
        r = bos.initiate_multipart_upload(BUCKET, key)
        assert (text(r.bucket), text(r.key)) == (BUCKET, key)
        made.append((key, text(r.upload_id)))
    assert len(made) >= 40
    return made


def with_page_size(client, size):
    """Makes the SDK's own list_all_multipart_uploads loop page by `size`."""
    original = client.list_multipart_uploads

    def list_multipart_uploads(bucket_name, max_uploads=None, **kw):
        return original(bucket_name, max_uploads=size, **kw)

    client.list_multipart_uploads = list_multipart_uploads
    return client


def uploads_of(entries):
    return [(e[1], e[2]) for e in entries if e[0] == "U"]


@pytest.mark.parametrize("page_size", [3, 4, 5, 7, 1000])
@pytest.mark.parametrize("prefix,delimiter", [(None, None), ("a", None), (None, "/"), ("a/", "/")])
def test_list_all_multipart_uploads_yields_every_upload(gateway, created, page_size, prefix, delimiter):
    # No key has more than 3 uploads, so pages of 3 or more never split a key.
    client = with_page_size(gateway.bos(), page_size)
    got = [(text(u.key), text(u.upload_id))
           for u in client.list_all_multipart_uploads(BUCKET, prefix=prefix, delimiter=delimiter)]
    assert got == uploads_of(expected_entries(created, prefix or "", delimiter or ""))


@pytest.mark.parametrize("page_size", [1, 2, 3, 7])
def test_manual_paging_with_key_marker(bos, created, page_size):
    """What Go and Java callers do: page with nextKeyMarker, reading uploads and prefixes."""
    want = expected_entries(created, "", "/")
    got, marker, pages = [], None, 0
    while True:
        r = bos.list_multipart_uploads(BUCKET, max_uploads=page_size, key_marker=marker, delimiter="/")
        pages += 1
        assert r.max_uploads == page_size and isinstance(r.is_truncated, bool)
        entries = [("U", text(u.key), text(u.upload_id)) for u in r.uploads]
        entries += [("P", text(p.prefix)) for p in (r.common_prefixes or [])]
        entries.sort(key=lambda e: e[1].encode())
        assert 0 < len(entries) <= page_size
        got.extend(entries)
        if not r.is_truncated:
            break
        assert text(r.next_key_marker) == entries[-1][1]
        marker = text(r.next_key_marker)
        assert pages < 200
    if page_size >= 3:
        assert got == want
    else:
        # Key "b" has 3 uploads: a page smaller than that must split it, and resuming with
        # keyMarker alone then skips the rest of "b". Everything else is listed exactly once.
        assert len(got) == len(set(got))
        assert [e for e in got if e[1] != "b"] == [e for e in want if e[1] != "b"]


def test_one_page_shape(bos, created):
    r = bos.list_multipart_uploads(BUCKET)
    assert (text(r.bucket), r.key_marker, r.prefix, r.max_uploads, r.is_truncated) == (BUCKET, "", "", 1000, False)
    assert [(text(u.key), text(u.upload_id)) for u in r.uploads] == canonical(created)
    u = r.uploads[0]
    assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$", text(u.initiated))
    assert text(u.storage_class) == "STANDARD"
    assert text(u.owner.display_name) == "tester"


def test_pages_end_at_key_boundaries(bos, created):
    # a, a b, a b/c, a-, a/1, a/2, a/2 ...: a page of 6 would split "a/2"; it stops before it.
    r = bos.list_multipart_uploads(BUCKET, max_uploads=6)
    keys = [text(u.key) for u in r.uploads]
    assert keys == ["a", "a b", "a b/c", "a-", "a/1"]
    assert r.is_truncated and text(r.next_key_marker) == "a/1"


def test_virtual_hosted_style(gateway, created):
    client = gateway.bos(virtual_hosted=True)
    r = client.list_multipart_uploads(BUCKET, max_uploads=2, prefix="c/")
    assert [text(u.key) for u in r.uploads] == ["c/z", "c/ü/x"]
    got = [(text(u.key), text(u.upload_id)) for u in with_page_size(client, 4).list_all_multipart_uploads(BUCKET)]
    assert got == canonical(created)


def test_unicode_and_reserved_characters_round_trip(bos, created):
    for prefix in ["目录/a~b*c!", "k=1&x", "plus+key", "d e f"]:
        r = bos.list_multipart_uploads(BUCKET, prefix=prefix)
        assert [text(u.key) for u in r.uploads] == [prefix]


def test_abort(bos, created):
    bos.create_bucket("bos-abort")
    keep = text(bos.initiate_multipart_upload("bos-abort", "dir/my obj.bin").upload_id)
    gone = text(bos.initiate_multipart_upload("bos-abort", "dir/my obj.bin").upload_id)
    bos.abort_multipart_upload("bos-abort", "dir/my obj.bin", gone)
    assert [text(u.upload_id) for u in bos.list_multipart_uploads("bos-abort").uploads] == [keep]
    with pytest.raises(BceHttpClientError) as e:
        bos.abort_multipart_upload("bos-abort", "dir/my obj.bin", gone)
    assert (e.value.last_error.status_code, e.value.last_error.code) == (404, "NoSuchUpload")


def test_s3_and_bos_see_the_same_uploads(gateway, s3, bos, created):
    page = s3.list_multipart_uploads(Bucket=BUCKET)
    assert [(u["Key"], u["UploadId"]) for u in page["Uploads"]] == canonical(created)


def server_error(exc):
    err = exc.value.last_error
    return err.status_code, text(err.code), text(err.request_id)


def test_missing_bucket(bos):
    with pytest.raises(BceHttpClientError) as e:
        bos.list_multipart_uploads("no-such-bucket")
    status, code, request_id = server_error(e)
    assert (status, code) == (404, "NoSuchBucket")
    assert UUID.match(request_id), request_id


def test_bad_signature(gateway, created):
    with pytest.raises(BceHttpClientError) as e:
        gateway.bos(secret_key="not-the-secret").list_multipart_uploads(BUCKET)
    assert server_error(e)[:2] == (400, "SignatureDoesNotMatch")


def test_unknown_access_key(gateway, created):
    with pytest.raises(BceHttpClientError) as e:
        gateway.bos(access_key="unknownkey").list_multipart_uploads(BUCKET)
    assert server_error(e)[:2] == (403, "InvalidAccessKeyId")


def test_expired_signature(gateway, created, monkeypatch):
    import baidubce.utils

    real = baidubce.utils.get_canonical_time
    hour_ago = int((datetime.datetime.now(datetime.UTC) - datetime.timedelta(hours=1)).timestamp())
    monkeypatch.setattr(baidubce.utils, "get_canonical_time", lambda timestamp=0: real(timestamp or hour_ago))
    with pytest.raises(BceHttpClientError) as e:
        gateway.bos().list_multipart_uploads(BUCKET)
    assert server_error(e)[:2] == (400, "RequestExpired")


@pytest.mark.parametrize("value", [-1, "abc", "1.5"])
def test_bad_max_uploads(bos, created, value):
    with pytest.raises(BceHttpClientError) as e:
        bos.list_multipart_uploads(BUCKET, max_uploads=value)
    assert server_error(e)[:2] == (400, "InvalidArgument")


def test_bucket_patterns_apply_to_bos_callers(gateway, created):
    with pytest.raises(BceHttpClientError) as e:
        gateway.bos(access_key=LIMITED_KEY, secret_key=LIMITED_SECRET).list_multipart_uploads(BUCKET)
    assert server_error(e)[:2] == (403, "AccessDenied")


def test_bos_errors_are_json_with_all_three_keys(gateway):
    import requests

    r = requests.get(f"{gateway.endpoint}/{BUCKET}?uploads=",
                     headers={"Authorization": f"bce-auth-v1/{ACCESS_KEY}/garbage", "x-bce-date": "x"}, timeout=10)
    assert r.status_code == 400
    assert r.headers["Server"] == "BceBos" and UUID.match(r.headers["x-bce-request-id"])
    assert set(r.json()) == {"code", "message", "requestId"}
    assert r.json()["code"] == "InvalidHTTPAuthHeader"
