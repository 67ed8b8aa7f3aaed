"""Replicas are interchangeable: two dragomans sharing `qumulo.token_key` behind haproxy in
round-robin, each page of a listing landing on the other replica, list exactly as one gateway
does; and a rolling restart under load fails no request."""

import os
import shutil
import signal
import socket
import subprocess
import threading
import time
from pathlib import Path

import pytest
import requests

from conftest import LOCALSTACK, PASSWORD, Dragoman, remote_backends

assert shutil.which("haproxy"), "needs haproxy (Debian package; scripts/test installs it)"

TOKEN_KEY = "replicas-share-this-token-key-0123456789abcdef"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Fleet:
    """Two replicas on fixed ports (a restart keeps them) and haproxy before them: an HTTP
    frontend and a TLS one (Qumulo callers), both balancing every request round-robin, with
    /readyz on the admin port as the health check. `X-Served-By` names the replica."""

    def __init__(self, workdir: Path, extra: str):
        self.workdir = workdir
        self.replicas = {}
        for name in ("a", "b"):
            ports = {"DRAGOMAN_SERVER__LISTEN": f"127.0.0.1:{free_port()}",
                     "DRAGOMAN_ADMIN__LISTEN": f"127.0.0.1:{free_port()}",
                     "DRAGOMAN_SERVER__SHUTDOWN_DELAY_SECS": "1",
                     "DRAGOMAN_QUMULO__TOKEN_KEY": TOKEN_KEY}
            (workdir / name).mkdir()
            self.replicas[name] = Dragoman(workdir / name, extra, env=ports).start()
        self.http_port, self.https_port = free_port(), free_port()
        key, cert = workdir / "key.pem", workdir / "cert.pem"
        subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", str(key),
                        "-out", str(cert), "-subj", "/CN=127.0.0.1", "-days", "1"],
                       check=True, capture_output=True)
        (workdir / "haproxy.pem").write_bytes(cert.read_bytes() + key.read_bytes())
        servers = "\n".join(
            f"    server {n} {r.env['DRAGOMAN_SERVER__LISTEN']} ssl verify none no-check-ssl "
            f"check port {r.env['DRAGOMAN_ADMIN__LISTEN'].rsplit(':', 1)[1]} inter 100ms fall 1 rise 1"
            for n, r in self.replicas.items())
        (workdir / "haproxy.cfg").write_text(f"""
global
    maxconn 1000
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch
frontend plain
    bind 127.0.0.1:{self.http_port}
    default_backend replicas
frontend tls
    bind 127.0.0.1:{self.https_port} ssl crt {workdir / 'haproxy.pem'}
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-response set-header X-Served-By %s
{servers}
""")
        self.haproxy = subprocess.Popen(["haproxy", "-f", str(workdir / "haproxy.cfg")],
                                        stdout=subprocess.DEVNULL, stderr=open(workdir / "haproxy.log", "wb"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.http_port), timeout=0.2).close()
                break
            except OSError:
                time.sleep(0.05)
        time.sleep(0.5)  # the first health checks

    def gateway(self):
        """A Dragoman-shaped handle on haproxy, for the conftest client helpers."""
        gw = Dragoman.__new__(Dragoman)
        gw.port, gw.workdir = self.http_port, self.workdir
        return gw

    def tls_gateway(self):
        gw = Dragoman.__new__(Dragoman)
        gw.port, gw.workdir = self.https_port, self.workdir
        return gw

    def close(self):
        self.haproxy.send_signal(signal.SIGTERM)
        self.haproxy.wait(timeout=10)
        for r in self.replicas.values():
            assert r.stop() == 0, r.log.read_text()


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    gw = Dragoman(tmp_path_factory.mktemp("replicas-remote")).start()
    yield gw
    assert gw.stop() == 0


@pytest.fixture(scope="module")
def fleet(tmp_path_factory, remote):
    f = Fleet(tmp_path_factory.mktemp("replicas"), remote_backends(remote, "rep"))
    yield f
    f.close()


BACKENDS = ["q"] + (["s3"] if LOCALSTACK else [])


@pytest.fixture(scope="module", params=BACKENDS)
def bucket(request, fleet, remote):
    """A bucket with 9 uploads over 5 keys, on LocalStack or on the Qumulo stand-in."""
    name = f"rep-{request.param}-list"
    creator = (remote if request.param == "q" else fleet.gateway()).client()
    creator.create_bucket(Bucket=name)
    made = []
    for key in ["a", "b", "b", "c", "d/1", "d/2", "e", "e", "e"]:
        made.append((key, creator.create_multipart_upload(Bucket=name, Key=key)["UploadId"]))
    return name, made


def test_every_page_lands_on_the_other_replica_and_boto3_pages_as_through_one(fleet, bucket):
    name, made = bucket
    s3 = fleet.gateway().client()
    served = []
    s3.meta.events.register("after-call.s3.ListMultipartUploads",
                            lambda http_response, **_: served.append(http_response.headers.get("x-served-by")))
    listed = []
    for page in s3.get_paginator("list_multipart_uploads").paginate(Bucket=name, PaginationConfig={"PageSize": 2}):
        listed += [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
    one = fleet.replicas["a"].client()
    direct = []
    for page in one.get_paginator("list_multipart_uploads").paginate(Bucket=name, PaginationConfig={"PageSize": 2}):
        direct += [(u["Key"], u["UploadId"]) for u in page.get("Uploads", [])]
    assert listed == direct, (served, listed, direct)
    assert sorted(listed) == sorted(made)
    assert len(served) >= 5
    assert all(x != y for x, y in zip(served, served[1:])), f"pages alternate between replicas: {served}"


def test_the_bos_sdk_pages_across_replicas(fleet, bucket):
    name, made = bucket
    bos = fleet.gateway().bos()
    listed, marker, pages = [], None, 0
    while True:
        # The SDK resumes with keyMarker alone, so pages hold whole keys: the largest key has
        # 3 uploads (a key with more uploads than a page is BOS's own limit, in the README).
        page = bos.list_multipart_uploads(name, max_uploads=3, key_marker=marker)
        listed += [(u.key, u.upload_id) for u in page.uploads]
        pages += 1
        if not page.is_truncated:
            break
        marker = page.next_key_marker
    assert sorted(listed) == sorted(made)
    assert pages >= 3


def test_qq_and_the_qumulo_sdk_page_across_replicas(fleet, bucket, tmp_path):
    name, made = bucket
    through = fleet.tls_gateway()
    rc = through.qumulo()  # the login lands on one replica, the pages on both
    listed, token = [], None
    while True:
        page = rc.s3.list_uploads(name, limit=2, start_after=token)
        listed += [(u.key, u.id) for u in page.uploads]
        token = page.paging.next
        if token is None:
            break
    assert sorted(listed) == sorted(made)
    login = through.qq("login", "-u", "tester", "-p", PASSWORD, xdg=tmp_path)
    assert login.returncode == 0, login.stderr
    out = through.qq("s3_list_uploads", "--bucket", name, xdg=tmp_path)
    assert out.returncode == 0, out.stderr
    for _, upload_id in made:
        assert upload_id in out.stdout
    logs = [r.log.read_text() for r in fleet.replicas.values()]
    assert all(f"/v1/s3/buckets/{name}/uploads" in log for log in logs), "both replicas served pages"


def test_a_rolling_restart_under_load_fails_no_request(fleet, bucket):
    name, _ = bucket
    stop = threading.Event()
    results = {"ok": 0, "failed": []}
    lock = threading.Lock()

    def load():
        s3 = fleet.gateway().client()
        while not stop.is_set():
            try:
                s3.list_multipart_uploads(Bucket=name, MaxUploads=3)
                with lock:
                    results["ok"] += 1
            except Exception as e:  # noqa: BLE001 - every failure is what the test counts
                with lock:
                    results["failed"].append(repr(e))

    workers = [threading.Thread(target=load) for _ in range(4)]
    for w in workers:
        w.start()
    try:
        time.sleep(1)
        for name_ in ("a", "b"):
            replica = fleet.replicas[name_]
            replica.restart()
            time.sleep(1.5)  # back in rotation before the next one goes
    finally:
        stop.set()
        for w in workers:
            w.join()
    assert results["failed"] == [], results["failed"][:5]
    assert results["ok"] > 50
    for r in fleet.replicas.values():
        assert "not ready, serving on while load balancers notice" in r.log.read_text()
