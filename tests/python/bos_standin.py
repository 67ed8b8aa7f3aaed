"""A small BOS object service for tests: no live BOS exists here. It keeps buckets, objects and
multipart uploads in memory and verifies bce-auth-v1 on every request, written from Baidu's
BOS API reference ("Authentication mechanism", "Object operations", "Multipart upload") and
checked against bce-python-sdk, whose requests it must accept and whose parser must read its
answers. Path-style addressing only (`/<bucket>/<key>`), as dragoman's BOS backend sends by
default.

It answers what dragoman forwards (objects, parts, copies) and what dragoman's BOS client
translates to (buckets, initiate, abort, list uploads), so a test can run a whole workload."""

import base64
import hashlib
import hmac
import json
import threading
import time
import uuid
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, quote, unquote, urlsplit


def uri_encode(s, keep_slash=False):
    return quote(s, safe="-_.~" + ("/" if keep_slash else ""))


def canonical_request(method, path, query, headers, signed):
    """bce-auth-v1's canonical request: method, path, sorted query without `authorization`,
    the signed headers (or the default set) with percent-encoded values."""
    uri = uri_encode(unquote(path) or "/", keep_slash=True)
    pairs = sorted(f"{uri_encode(k)}={uri_encode(v)}" for k, v in query if k.lower() != "authorization")
    lower = {k.lower(): v.strip() for k, v in headers.items()}
    if signed:
        names = signed
    else:
        names = [k for k in lower if k in ("host", "content-length", "content-type", "content-md5")
                 or k.startswith("x-bce-")]
    entries = sorted(f"{uri_encode(n)}:{uri_encode(lower[n])}" for n in names if lower.get(n, "") != "")
    return "\n".join([method, uri, "&".join(pairs), "\n".join(entries)])


def sign(ak, sk, method, path, query, headers, timestamp, expiration=1800, signed=()):
    prefix = f"bce-auth-v1/{ak}/{timestamp}/{expiration}"
    key = hmac.new(sk.encode(), prefix.encode(), hashlib.sha256).hexdigest()
    sig = hmac.new(key.encode(), canonical_request(method, path, query, headers, list(signed)).encode(),
                   hashlib.sha256).hexdigest()
    return f"{prefix}/{';'.join(signed)}/{sig}"


class BosError(Exception):
    def __init__(self, status, code, message):
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


def now_iso():
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Store:
    def __init__(self):
        self.lock = threading.Lock()
        self.buckets = {}   # name -> {key: object}
        self.uploads = {}   # upload id -> {"bucket", "key", "parts": {n: bytes}, "initiated"}
        self.requests = []  # (method, path, signed by access key) of every verified request


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "bos-standin"

    def log_message(self, *args):
        pass

    # --- plumbing ---

    def _reply(self, status, body=b"", headers=None):
        self.send_response(status)
        self.send_header("x-bce-request-id", str(uuid.uuid4()))
        for k, v in (headers or {}).items():
            self.send_header(k, v)
        if "Content-Length" not in (headers or {}):
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def _json(self, status, doc, headers=None):
        h = {"Content-Type": "application/json; charset=utf-8"}
        h.update(headers or {})
        self._reply(status, json.dumps(doc).encode(), h)

    def _error(self, e):
        self._json(e.status, {"code": e.code, "message": e.message, "requestId": str(uuid.uuid4())})

    def _body(self):
        n = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(n) if n else b""

    def _verify(self, path, query):
        auth = self.headers.get("Authorization") or dict(query).get("authorization")
        if not auth:
            raise BosError(403, "AccessDenied", "Anonymous access is not allowed")
        parts = auth.split("/")
        if len(parts) != 6 or parts[0] != "bce-auth-v1":
            raise BosError(400, "InvalidAuthorization", "malformed authorization")
        _, ak, ts, exp, signed, sig = parts
        if ak != self.server.access_key:
            raise BosError(403, "InvalidAccessKeyId", "unknown access key")
        t = datetime.strptime(ts, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()
        if not (t - 900 <= time.time() <= t + int(exp)):
            raise BosError(400, "RequestExpired", "request expired")
        signed_list = [s for s in signed.split(";") if s]
        expected = sign(ak, self.server.secret_key, self.command, path, query, dict(self.headers.items()),
                        ts, int(exp), signed_list)
        if not hmac.compare_digest(expected.rsplit("/", 1)[1], sig):
            raise BosError(403, "SignatureDoesNotMatch", "signature mismatch")
        self.server.store.requests.append((self.command, path, ak))

    def _route(self):
        split = urlsplit(self.path)
        query = parse_qsl(split.query, keep_blank_values=True)
        self._verify(split.path, query)
        q = dict(query)
        names = unquote(split.path).lstrip("/").split("/", 1)
        bucket = names[0] or None
        key = names[1] if len(names) > 1 and names[1] else None
        return bucket, key, q

    def _handle(self):
        try:
            bucket, key, q = self._route()
            getattr(self, f"_{self.command.lower()}")(bucket, key, q)
        except BosError as e:
            self._error(e)

    do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _handle

    def _objects(self, bucket):
        objs = self.server.store.buckets.get(bucket)
        if objs is None:
            raise BosError(404, "NoSuchBucket", "The specified bucket does not exist")
        return objs

    def _object(self, bucket, key):
        obj = self._objects(bucket).get(key)
        if obj is None:
            raise BosError(404, "NoSuchKey", "The specified key does not exist")
        return obj

    # --- operations ---

    def _put(self, bucket, key, q):
        store = self.server.store
        if key is None:
            with store.lock:
                if bucket in store.buckets:
                    raise BosError(409, "BucketAlreadyExists", "bucket exists")
                store.buckets[bucket] = {}
            return self._reply(200)
        body = self._body()
        md5 = self.headers.get("Content-MD5")
        if md5 and base64.b64encode(hashlib.md5(body).digest()).decode() != md5:
            raise BosError(400, "BadDigest", "Content-MD5 does not match the body")
        sha = self.headers.get("x-bce-content-sha256")
        if sha and hashlib.sha256(body).hexdigest() != sha:
            raise BosError(400, "BadDigest", "x-bce-content-sha256 does not match the body")
        if "uploadId" in q:
            up = store.uploads.get(q["uploadId"])
            if up is None or (up["bucket"], up["key"]) != (bucket, key):
                raise BosError(404, "NoSuchUpload", "no such upload")
            up["parts"][int(q["partNumber"])] = body
            return self._reply(200, headers={"ETag": hashlib.md5(body).hexdigest()})
        source = self.headers.get("x-bce-copy-source")
        if source:
            src_bucket, src_key = unquote(source).lstrip("/").split("/", 1)
            src = self._object(src_bucket, src_key)
            body, meta, ctype = src["data"], dict(src["meta"]), src["type"]
        else:
            meta = {k: v for k, v in self.headers.items() if k.lower().startswith("x-bce-meta-")}
            ctype = self.headers.get("Content-Type", "application/octet-stream")
        objs = self._objects(bucket)
        etag = hashlib.md5(body).hexdigest()
        objs[key] = {"data": body, "meta": meta, "type": ctype, "etag": etag, "modified": now_iso()}
        if source:
            return self._json(200, {"eTag": etag, "lastModified": objs[key]["modified"]})
        self._reply(200, headers={"ETag": etag})

    def _get(self, bucket, key, q):
        store = self.server.store
        if bucket is None:
            return self._json(200, {"owner": {"id": "owner", "displayName": "owner"}, "buckets": [
                {"name": b, "location": "bj", "creationDate": now_iso()} for b in sorted(store.buckets)]})
        if key is None and "uploads" in q:
            return self._list_uploads(bucket, q)
        if key is None:
            return self._list_objects(bucket, q)
        if "uploadId" in q:
            up = store.uploads.get(q["uploadId"])
            if up is None:
                raise BosError(404, "NoSuchUpload", "no such upload")
            parts = [{"partNumber": n, "lastModified": up["initiated"], "eTag": hashlib.md5(p).hexdigest(),
                      "size": len(p)} for n, p in sorted(up["parts"].items())]
            return self._json(200, {"bucket": bucket, "key": key, "uploadId": q["uploadId"],
                                    "initiated": up["initiated"], "owner": {"id": "o", "displayName": "o"},
                                    "storageClass": "STANDARD", "partNumberMarker": 0,
                                    "nextPartNumberMarker": len(parts), "maxParts": 1000,
                                    "isTruncated": False, "parts": parts})
        obj = self._object(bucket, key)
        headers = {"Content-Type": obj["type"], "ETag": obj["etag"], **obj["meta"]}
        data = obj["data"]
        rng = self.headers.get("Range")
        if rng and rng.startswith("bytes="):
            lo, hi = rng[6:].split("-")
            lo, hi = int(lo), min(int(hi) if hi else len(data) - 1, len(data) - 1)
            headers["Content-Range"] = f"bytes {lo}-{hi}/{len(data)}"
            return self._reply(206, data[lo:hi + 1], headers)
        self._reply(200, data, headers)

    def _head(self, bucket, key, q):
        if key is None:
            self._objects(bucket)
            return self._reply(200)
        obj = self._object(bucket, key)
        self._reply(200, headers={"Content-Type": obj["type"], "ETag": obj["etag"],
                                  "Content-Length": str(len(obj["data"])), **obj["meta"]})

    def _delete(self, bucket, key, q):
        store = self.server.store
        if key is None:
            with store.lock:
                if self._objects(bucket):
                    raise BosError(409, "BucketNotEmpty", "bucket not empty")
                del store.buckets[bucket]
            return self._reply(204)
        if "uploadId" in q:
            if store.uploads.pop(q["uploadId"], None) is None:
                raise BosError(404, "NoSuchUpload", "no such upload")
            return self._reply(204)
        self._object(bucket, key)
        del self._objects(bucket)[key]
        self._reply(204)

    def _post(self, bucket, key, q):
        store = self.server.store
        body = self._body()
        if "uploads" in q:
            self._objects(bucket)
            upload_id = uuid.uuid4().hex
            store.uploads[upload_id] = {"bucket": bucket, "key": key, "parts": {}, "initiated": now_iso()}
            return self._json(200, {"bucket": bucket, "key": key, "uploadId": upload_id})
        if "uploadId" in q:
            up = store.uploads.get(q["uploadId"])
            if up is None:
                raise BosError(404, "NoSuchUpload", "no such upload")
            listed = json.loads(body)["parts"]
            try:
                data = b"".join(up["parts"][p["partNumber"]] for p in listed)
            except KeyError:
                raise BosError(400, "InvalidPart", "a listed part was not uploaded")
            del store.uploads[q["uploadId"]]
            etag = hashlib.md5(data).hexdigest()
            self._objects(bucket)[key] = {"data": data, "meta": {}, "type": "application/octet-stream",
                                          "etag": etag, "modified": now_iso()}
            return self._json(200, {"location": f"http://bj.bcebos.com/{bucket}/{key}", "bucket": bucket,
                                    "key": key, "eTag": etag})
        raise BosError(400, "InvalidRequest", "unsupported POST")

    def _list_objects(self, bucket, q):
        objs = self._objects(bucket)
        prefix, marker = q.get("prefix", ""), q.get("marker", "")
        delimiter, max_keys = q.get("delimiter", ""), int(q.get("maxKeys", 1000))
        contents, prefixes, truncated, last = [], [], False, ""
        for k in sorted(objs):
            if not k.startswith(prefix) or k <= marker:
                continue
            rest = k[len(prefix):]
            if delimiter and delimiter in rest:
                p = prefix + rest[:rest.index(delimiter) + len(delimiter)]
                if p in prefixes or p <= marker:
                    continue
                entry = ("P", p)
            else:
                entry = ("K", k)
            if len(contents) + len(prefixes) == max_keys:
                truncated = True
                break
            if entry[0] == "P":
                prefixes.append(entry[1])
            else:
                o = objs[k]
                contents.append({"key": k, "lastModified": o["modified"], "eTag": o["etag"],
                                 "size": len(o["data"]), "storageClass": "STANDARD",
                                 "owner": {"id": "o", "displayName": "o"}})
            last = entry[1]
        doc = {"name": bucket, "prefix": prefix, "delimiter": delimiter, "marker": marker,
               "maxKeys": max_keys, "isTruncated": truncated, "contents": contents,
               "commonPrefixes": [{"prefix": p} for p in prefixes]}
        if truncated:
            doc["nextMarker"] = last
        self._json(200, doc)

    def _list_uploads(self, bucket, q):
        self._objects(bucket)
        ups = sorted(((u["key"], u["initiated"], i) for i, u in self.server.store.uploads.items()
                      if u["bucket"] == bucket and u["key"].startswith(q.get("prefix", ""))))
        marker = q.get("keyMarker", "")
        ups = [u for u in ups if u[0] > marker]
        self._json(200, {"bucket": bucket, "keyMarker": marker, "nextKeyMarker": "", "maxUploads": 1000,
                         "prefix": q.get("prefix", ""), "isTruncated": False, "commonPrefixes": [],
                         "uploads": [{"key": k, "uploadId": i, "initiated": t, "storageClass": "STANDARD",
                                      "owner": {"id": "o", "displayName": "o"}} for k, t, i in ups]})


class BosStandIn:
    """The stand-in on a free port of 127.0.0.1, for the credentials it accepts."""

    def __init__(self, access_key, secret_key):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.server.access_key, self.server.secret_key = access_key, secret_key
        self.server.store = Store()
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def endpoint(self):
        return f"http://127.0.0.1:{self.server.server_port}"

    @property
    def store(self):
        return self.server.store

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()
