"""ListMultipartUploads through boto3's paginator and the AWS CLI, against the canonical order."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import ACCESS_KEY, REGION, SECRET_KEY
from s3util import canonical, expected_entries, page_entries, url_encode_key

BUCKET = "listing"

# Shared prefixes, nested prefixes, repeated keys, spaces and non-ASCII, in creation order.
KEYS = (
    ["a/1", "a/2", "a/2", "a/b/c", "a/b/d", "a/b/d", "a b", "a b/c", "a", "a-"]
    + ["b", "b", "b", "c/ü/x", "c/ü/y", "c/z", "d e f", "日本/語", "日本/語", "ü", "z", "z/", "z//"]
    + [f"logs/2026/{i:02}.bin" for i in range(8)]
    + [f"data/x {i}" for i in range(4)]
    + ["space at end ", "tab\tkey", "percent%20key", "plus+key", "q?=&key"]
)


@pytest.fixture(scope="module")
def created(s3):
    s3.create_bucket(Bucket=BUCKET)
    made = []
    for key in KEYS:
        r = s3.create_multipart_upload(Bucket=BUCKET, Key=key)
        assert r["Key"] == key
        made.append((key, r["UploadId"]))
    assert len(made) >= 40
    return made


def paginate(s3, page_size, prefix="", delimiter=""):
    kwargs = {"Bucket": BUCKET, "PaginationConfig": {"PageSize": page_size}}
    if prefix:
        kwargs["Prefix"] = prefix
    if delimiter:
        kwargs["Delimiter"] = delimiter
    entries, pages = [], 0
    for page in s3.get_paginator("list_multipart_uploads").paginate(**kwargs):
        pages += 1
        got = page_entries(page)
        assert len(got) <= page_size
        assert page["MaxUploads"] == page_size
        entries.extend(got)
        assert pages < 500, "the paginator does not terminate"
    return entries, pages


VARIANTS = [("", ""), ("a", ""), ("", "/"), ("a/", "/"), ("日本", "/"), ("c/", "/")]


@pytest.mark.parametrize("page_size", range(1, 13))
@pytest.mark.parametrize("prefix,delimiter", VARIANTS)
def test_paginator_returns_the_canonical_listing(s3, created, page_size, prefix, delimiter):
    want = expected_entries(created, prefix, delimiter)
    got, pages = paginate(s3, page_size, prefix, delimiter)
    assert got == want
    assert len(set(got)) == len(got), "duplicates"
    assert pages == max(1, -(-len(want) // page_size))


def test_one_page_holds_everything_in_order(s3, created):
    page = s3.list_multipart_uploads(Bucket=BUCKET)
    assert page["IsTruncated"] is False
    assert page["MaxUploads"] == 1000
    assert [(u["Key"], u["UploadId"]) for u in page["Uploads"]] == canonical(created)
    last_key, last_id = canonical(created)[-1]
    # AWS names the last upload even on an untruncated page.
    assert (page["NextKeyMarker"], page["NextUploadIdMarker"]) == (last_key, last_id)
    u = page["Uploads"][0]
    assert u["StorageClass"] == "STANDARD"
    assert u["Initiator"]["DisplayName"] == "tester"
    assert u["Initiated"].tzinfo is not None


def test_markers_resume_inside_a_key(s3, created):
    same = [u for u in canonical(created) if u[0] == "b"]
    assert len(same) == 3
    page = s3.list_multipart_uploads(Bucket=BUCKET, KeyMarker="b", UploadIdMarker=same[0][1])
    keys = [(u["Key"], u["UploadId"]) for u in page["Uploads"]]
    assert keys[:2] == same[1:]
    assert page["KeyMarker"] == "b" and page["UploadIdMarker"] == same[0][1]
    # key-marker alone skips every upload of that key.
    page = s3.list_multipart_uploads(Bucket=BUCKET, KeyMarker="b")
    assert all(u["Key"].encode() > b"b" for u in page["Uploads"])
    # upload-id-marker without key-marker is ignored and echoed empty.
    page = s3.list_multipart_uploads(Bucket=BUCKET, UploadIdMarker=same[0][1])
    assert page["UploadIdMarker"] == ""
    assert len(page["Uploads"]) == len(created)


def test_key_marker_equal_to_a_common_prefix_skips_the_group(s3, created):
    page = s3.list_multipart_uploads(Bucket=BUCKET, Delimiter="/", KeyMarker="a/")
    assert "a/" not in [p["Prefix"] for p in page.get("CommonPrefixes", [])]
    assert all(u["Key"].encode() > b"a/" for u in page.get("Uploads", []))


def test_truncated_page_ending_in_a_prefix_names_it(s3, created):
    want = expected_entries(created, "", "/")
    assert [e[1] for e in want[:3]] == ["a", "a b", "a b/"]
    page = s3.list_multipart_uploads(Bucket=BUCKET, Delimiter="/", MaxUploads=3)
    assert page["IsTruncated"] is True
    assert page["CommonPrefixes"] == [{"Prefix": "a b/"}]
    # AWS leaves both markers empty here, which stalls paginators; dragoman names the prefix.
    assert page["NextKeyMarker"] == "a b/"
    assert page["NextUploadIdMarker"] == ""
    following = s3.list_multipart_uploads(Bucket=BUCKET, Delimiter="/", MaxUploads=1,
                                          KeyMarker=page["NextKeyMarker"])
    assert page_entries(following) == want[3:4]


def test_max_uploads_zero_and_above_the_cap(s3, created):
    zero = s3.list_multipart_uploads(Bucket=BUCKET, MaxUploads=0)
    assert zero.get("Uploads", []) == [] and zero["IsTruncated"] is False
    big = s3.list_multipart_uploads(Bucket=BUCKET, MaxUploads=5000)
    assert big["MaxUploads"] == 1000
    assert len(big["Uploads"]) == len(created)


def test_encoding_type_url_encodes_keys_and_prefixes(s3, created):
    page = s3.list_multipart_uploads(Bucket=BUCKET, EncodingType="url", Prefix="日本", Delimiter="/")
    assert page["EncodingType"] == "url"
    assert page["Prefix"] == url_encode_key("日本")
    assert page["CommonPrefixes"] == [{"Prefix": url_encode_key("日本/")}]
    page = s3.list_multipart_uploads(Bucket=BUCKET, EncodingType="url")
    assert [u["Key"] for u in page["Uploads"]] == [url_encode_key(k) for k, _ in canonical(created)]
    assert url_encode_key("a b") in [u["Key"] for u in page["Uploads"]]


def aws_cli(gateway, *args):
    env = dict(os.environ, AWS_ACCESS_KEY_ID=ACCESS_KEY, AWS_SECRET_ACCESS_KEY=SECRET_KEY,
               AWS_DEFAULT_REGION=REGION, AWS_CONFIG_FILE="/dev/null",
               AWS_SHARED_CREDENTIALS_FILE="/dev/null")
    aws = Path(sys.executable).parent / "aws"
    return subprocess.run([str(aws), "--endpoint-url", gateway.endpoint, "--output", "json", *args],
                          capture_output=True, text=True, env=env, timeout=60)


@pytest.mark.parametrize("page_size", [1, 4, 1000])
def test_aws_cli_lists_every_upload(gateway, created, page_size):
    r = aws_cli(gateway, "s3api", "list-multipart-uploads", "--bucket", BUCKET,
                "--page-size", str(page_size))
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert [(u["Key"], u["UploadId"]) for u in out["Uploads"]] == canonical(created)


def test_aws_cli_delimiter_pages(gateway, created):
    r = aws_cli(gateway, "s3api", "list-multipart-uploads", "--bucket", BUCKET, "--delimiter", "/",
                "--page-size", "2")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    want = expected_entries(created, "", "/")
    assert [p["Prefix"] for p in out["CommonPrefixes"]] == [e[1] for e in want if e[0] == "P"]
    assert [(u["Key"], u["UploadId"]) for u in out["Uploads"]] == [e[1:] for e in want if e[0] == "U"]


def test_aws_cli_reports_errors(gateway):
    r = aws_cli(gateway, "s3api", "list-multipart-uploads", "--bucket", "no-such-bucket")
    assert r.returncode != 0
    assert "NoSuchBucket" in r.stderr
