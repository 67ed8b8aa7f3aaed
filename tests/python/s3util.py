"""Helpers: raw SigV4-signed requests (for inputs boto3 refuses to send) and the expected
canonical listing, computed independently of dragoman."""

import xml.etree.ElementTree as ET
from urllib.parse import quote

import requests
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from conftest import ACCESS_KEY, REGION, SECRET_KEY


def signed(method, url, *, host=None, headers=None, body=b"", access_key=ACCESS_KEY,
           secret_key=SECRET_KEY, region=REGION):
    req = AWSRequest(method=method, url=url, data=body, headers=dict(headers or {}))
    if host:
        req.headers["Host"] = host
    S3SigV4Auth(Credentials(access_key, secret_key), "s3", region).add_auth(req)
    prepared = req.prepare()
    return requests.request(method, prepared.url, headers=dict(prepared.headers), data=body,
                            timeout=10, allow_redirects=False)


def error_of(resp):
    """(code, message, {element: text}) of an S3 <Error> document; asserts it is one."""
    assert resp.headers.get("Content-Type") == "application/xml", resp.text
    root = ET.fromstring(resp.content)
    assert root.tag == "Error", resp.text
    fields = {child.tag: child.text or "" for child in root}
    assert list(fields)[:2] == ["Code", "Message"], resp.text
    assert list(fields)[-2:] == ["RequestId", "HostId"], resp.text
    assert fields["RequestId"] == resp.headers["x-amz-request-id"]
    assert fields["HostId"] == resp.headers["x-amz-id-2"]
    return fields["Code"], fields["Message"], fields


def canonical(created):
    """Uploads as (key, upload_id) in S3's order: key bytes, then initiation (creation) order."""
    order = sorted(range(len(created)), key=lambda i: (created[i][0].encode(), i))
    return [created[i] for i in order]


def expected_entries(created, prefix="", delimiter=""):
    """The listing as entries: ("U", key, id) and ("P", common_prefix), in canonical order."""
    out, seen = [], set()
    for key, upload_id in canonical(created):
        if not key.startswith(prefix):
            continue
        rest = key[len(prefix):]
        if delimiter and delimiter in rest:
            group = prefix + rest[: rest.index(delimiter) + len(delimiter)]
            if group not in seen:
                seen.add(group)
                out.append(("P", group))
        else:
            out.append(("U", key, upload_id))
    return out


def page_entries(page):
    """A response page's uploads and common prefixes merged in key order, as entries."""
    ups = [("U", u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
    cps = [("P", p["Prefix"]) for p in page.get("CommonPrefixes", [])]
    return sorted(ups + cps, key=lambda e: e[1].encode())


def url_encode_key(key):
    """encoding-type=url as AWS applies it: Java URLEncoder with '/' kept."""
    return quote(key, safe="/-_.*").replace("%20", "+")
