"""`dragoman sweep` over a fleet: the embedded store, LocalStack (S3), and the BOS and Qumulo
stand-ins, each bucket with old and new uploads. Old uploads are made, then the test waits past
a short cutoff, then new ones are made: the dry run finds exactly the old ones, --abort aborts
exactly those, and every dialect's listing afterwards shows only the new ones."""

import json
import os
import signal
import subprocess
import time
from datetime import datetime, timedelta, timezone

import pytest
from botocore.exceptions import ClientError

from conftest import LOCALSTACK, Dragoman, binary, remote_backends

KINDS = ["emb", "bos", "q"] + (["s3"] if LOCALSTACK else [])
OLD_PER_BUCKET = 3
NEW_PER_BUCKET = 2


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    gw = Dragoman(tmp_path_factory.mktemp("sweep-remote")).start()
    yield gw
    assert gw.stop() == 0


def dead_port():
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def front(tmp_path_factory, remote):
    extra = remote_backends(remote, "sw")
    gw = Dragoman(tmp_path_factory.mktemp("sweep-front"), extra).start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()


def creator(front, remote, kind):
    # Qumulo's REST API creates no uploads: they are made on the stand-in's own store.
    return (remote if kind == "q" else front).client()


def make_fleet(front, remote, tag):
    """Per kind, a bucket with old uploads and (after the cutoff's wait) new ones."""
    made = {}
    for kind in KINDS:
        bucket = f"sw-{kind}-{tag}"
        c = creator(front, remote, kind)
        c.create_bucket(Bucket=bucket)
        made[bucket] = {"kind": kind, "old": [], "new": []}
        for i in range(OLD_PER_BUCKET):
            key = f"data/old-{i}"
            made[bucket]["old"].append((key, c.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]))
    time.sleep(3.2)
    for bucket, m in made.items():
        c = creator(front, remote, m["kind"])
        for i in range(NEW_PER_BUCKET):
            key = f"data/new-{i}"
            m["new"].append((key, c.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"]))
    return made


def sweep(front, *args, check=True):
    env = dict(os.environ, DRAGOMAN_STORE__DATA_DIR=str(front.data), RUST_LOG="warn")
    out = subprocess.run([str(binary()), "sweep", "--config", str(front.config), *args],
                         capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert out.returncode == 0, out.stdout + out.stderr
    return out


def by_bucket(report):
    return {b["bucket"]: b for b in report["buckets"]}


def s3_ids(front, bucket):
    return sorted(u["UploadId"] for u in front.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []))


def test_dry_run_then_abort_across_every_backend(front, remote):
    made = make_fleet(front, remote, "main")
    dry = json.loads(sweep(front, "--older-than", "3s", "--buckets", "sw-*-main", "--format", "json").stdout)
    assert dry["dry_run"] is True
    lines = by_bucket(dry)
    for bucket, m in made.items():
        assert lines[bucket]["found"] == OLD_PER_BUCKET, (bucket, lines[bucket])
        assert lines[bucket]["aborted"] == 0
        # Nothing was aborted: every upload is still listed.
        assert len(s3_ids(front, bucket)) == OLD_PER_BUCKET + NEW_PER_BUCKET
    assert lines["sw-q-main"]["bytes"] is not None, "Qumulo's block counts give the bytes held"

    done = json.loads(sweep(front, "--older-than", "3s", "--buckets", "sw-*-main", "--abort",
                            "--concurrency", "4", "--format", "json").stdout)
    lines = by_bucket(done)
    for bucket, m in made.items():
        assert lines[bucket]["aborted"] == OLD_PER_BUCKET, (bucket, lines[bucket])
        assert lines[bucket]["failed"] == 0
        want = sorted(i for _, i in m["new"])
        # Every dialect lists only the new uploads now.
        assert s3_ids(front, bucket) == want
        assert sorted(u.upload_id for u in front.bos().list_multipart_uploads(bucket).uploads) == want
    q = front.qumulo()
    assert sorted(u.id for u in q.s3.list_uploads("sw-q-main").uploads) == sorted(i for _, i in made["sw-q-main"]["new"])

    table = sweep(front, "--older-than", "3s", "--buckets", "sw-*-main").stdout
    assert "BUCKET" in table and "sw-emb-main" in table and "0 found" in table


def test_uploads_made_during_a_sweep_survive_it(front, remote):
    s3 = front.client()
    s3.create_bucket(Bucket="sw-emb-live")
    for i in range(300):
        s3.create_multipart_upload(Bucket="sw-emb-live", Key=f"old/{i:04}")
    # A cutoff in the future is the sweep's start: uploads made while it runs are newer.
    later = (datetime.now(timezone.utc) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    env = dict(os.environ, DRAGOMAN_STORE__DATA_DIR=str(front.data), RUST_LOG="warn")
    proc = subprocess.Popen([str(binary()), "sweep", "--config", str(front.config), "--before", later,
                             "--buckets", "sw-emb-live", "--abort", "--format", "json"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True)
    during = []
    while proc.poll() is None and len(during) < 200:
        during.append(s3.create_multipart_upload(Bucket="sw-emb-live", Key=f"new/{len(during)}")["UploadId"])
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 0, out + err
    full = json.loads(out)
    report = by_bucket(full)["sw-emb-live"]
    # The cutoff is the moment the sweep started. dragoman's upload ids begin with their
    # initiation time (nanoseconds, 16 hex digits), which tells which uploads came after it.
    start = datetime.fromisoformat(full["cutoff"].replace("Z", "+00:00")).timestamp()
    after = [i for i in during if int(i[:16], 16) / 1e9 > start + 0.001]
    before = [i for i in during if i not in after]
    assert after, "some uploads were made while the sweep ran"
    # Uploads made just before the start may or may not have been committed when the bucket
    # was listed; those made after it are never touched, and all the old ones are gone.
    assert 300 <= report["aborted"] <= 300 + len(before), report
    left = s3_ids(front, "sw-emb-live")
    assert set(after) <= set(left), "an upload made after the sweep started was aborted"
    assert set(left) <= set(during), "an old upload survived the sweep"


def test_an_interrupted_sweep_resumes_and_aborts_each_upload_once(front, remote, tmp_path):
    made = make_fleet(front, remote, "resume")
    state = tmp_path / "sweep-state.json"
    # The new uploads were made within the last 3 s; a cutoff 2 s back keeps them (the
    # listing times of BOS are whole seconds, hence the margin).
    cutoff = (datetime.now(timezone.utc) - timedelta(seconds=2)).strftime("%Y-%m-%dT%H:%M:%SZ")
    first = json.loads(sweep(front, "--before", cutoff, "--buckets", "sw-*-resume", "--backend", "embedded",
                             "--abort", "--state", str(state), "--format", "json").stdout)
    assert by_bucket(first)["sw-emb-resume"]["aborted"] == OLD_PER_BUCKET
    # Interrupted: a sweep of everything, killed at once, then resumed with the same state.
    env = dict(os.environ, DRAGOMAN_STORE__DATA_DIR=str(front.data), RUST_LOG="warn")
    killed = subprocess.Popen([str(binary()), "sweep", "--config", str(front.config), "--before", cutoff,
                               "--buckets", "sw-*-resume", "--abort", "--state", str(state)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    time.sleep(0.3)
    killed.send_signal(signal.SIGKILL)
    killed.wait()
    second = json.loads(sweep(front, "--before", cutoff, "--buckets", "sw-*-resume", "--abort",
                              "--state", str(state), "--format", "json").stdout)
    lines = by_bucket(second)
    assert lines["sw-emb-resume"]["resumed"] is True and lines["sw-emb-resume"]["aborted"] == 0
    for bucket, m in made.items():
        want = sorted(i for _, i in m["new"])
        assert s3_ids(front, bucket) == want, bucket
        if bucket != "sw-emb-resume":
            # Each old upload was aborted by one of the runs; the resumed run counts those
            # the killed run aborted as done or gone, never as failed.
            assert lines[bucket]["failed"] == 0
            assert lines[bucket]["aborted"] + lines[bucket]["gone"] == OLD_PER_BUCKET or lines[bucket]["resumed"]
    # A state file is bound to its cutoff.
    other = sweep(front, "--older-than", "1d", "--abort", "--state", str(state), check=False)
    assert other.returncode == 2 and "belongs to a sweep with cutoff" in other.stderr


def test_one_backend_down_is_reported_and_the_others_are_swept(front, remote, tmp_path):
    made = make_fleet(front, remote, "down")
    config = front.config.read_text() + f"""
[backends.gone]
kind = "bos"
endpoint = "http://127.0.0.1:{dead_port()}"
access_key = "a"
secret_key = "bbbbbbbb"
max_retries = 0

[[routes]]
buckets = "sw-gone-*"
backend = "gone"
"""
    conf = tmp_path / "with-a-dead-backend.toml"
    conf.write_text(config)
    env = dict(os.environ, DRAGOMAN_STORE__DATA_DIR=str(front.data), RUST_LOG="warn")
    out = subprocess.run([str(binary()), "sweep", "--config", str(conf), "--older-than", "3s",
                          "--buckets", "sw-*-down", "--abort", "--format", "json"],
                         capture_output=True, text=True, env=env, timeout=300)
    assert out.returncode == 1, out.stdout + out.stderr
    report = json.loads(out.stdout)
    failed = [b for b in report["buckets"] if b["error"]]
    assert [b["backend"] for b in failed] == ["gone"], failed
    lines = by_bucket(report)
    for bucket, m in made.items():
        assert lines[bucket]["aborted"] == OLD_PER_BUCKET, (bucket, lines[bucket])
        assert s3_ids(front, bucket) == sorted(i for _, i in m["new"])


def test_the_json_report_counts_equal_the_listings(front, remote):
    made = make_fleet(front, remote, "count")
    report = json.loads(sweep(front, "--older-than", "3s", "--buckets", "sw-*-count", "--format", "json").stdout)
    for bucket, line in by_bucket(report).items():
        listed = front.client().list_multipart_uploads(Bucket=bucket).get("Uploads", [])
        cutoff = datetime.fromisoformat(report["cutoff"].replace("Z", "+00:00"))
        old = [u for u in listed if u["Initiated"] < cutoff]
        assert line["found"] == len(old) == OLD_PER_BUCKET, bucket
        assert line["oldest"] is not None
    assert set(by_bucket(report)) == set(made)


def test_bad_arguments_are_refused(front):
    for args, needle in [((), "--older-than"), (("--older-than", "7x"), "unknown unit"),
                         (("--before", "soon"), "RFC 3339"), (("--older-than", "1d", "--backend", "nope"), "no backend")]:
        out = sweep(front, *args, check=False)
        assert out.returncode == 2 and needle in out.stderr, (args, out.stderr)


def test_the_same_sweep_over_http_with_the_admin_token(tmp_path):
    import requests
    token = "sweep-admin-token-0123456789"
    gw = Dragoman(tmp_path, env={"DRAGOMAN_ADMIN__TOKEN": token}).start()
    try:
        s3 = gw.client()
        s3.create_bucket(Bucket="http-sweep")
        old = [s3.create_multipart_upload(Bucket="http-sweep", Key=f"o{i}")["UploadId"] for i in range(4)]
        time.sleep(2.2)
        new = s3.create_multipart_upload(Bucket="http-sweep", Key="n")["UploadId"]
        url = f"{gw.admin}/admin/sweep?older_than=2s"
        assert requests.post(url, timeout=30).status_code == 401
        assert requests.post(url, headers={"Authorization": "Bearer wrong"}, timeout=30).status_code == 401
        auth = {"Authorization": f"Bearer {token}"}
        assert requests.get(url, headers=auth, timeout=30).status_code == 405
        assert requests.post(f"{gw.admin}/admin/sweep", headers=auth, timeout=30).status_code == 400
        dry = requests.post(url, headers=auth, timeout=60)
        assert dry.status_code == 200, dry.text
        assert by_bucket(dry.json())["http-sweep"]["found"] == 4 and dry.json()["dry_run"] is True
        assert len(s3_ids(gw, "http-sweep")) == 5
        done = requests.post(url + "&abort=true", headers=auth, timeout=60)
        assert done.status_code == 200, done.text
        assert by_bucket(done.json())["http-sweep"]["aborted"] == 4
        assert s3_ids(gw, "http-sweep") == [new]
        metrics = requests.get(f"{gw.admin}/metrics", timeout=5).text
        assert 'dragoman_sweep_uploads_aborted_total{backend="embedded"} 4' in metrics
        assert 'dragoman_sweep_uploads_found_total{backend="embedded"} 8' in metrics
        assert "dragoman_sweep_oldest_upload_age_seconds" in metrics
        assert old
    finally:
        assert gw.stop() == 0
    # Without a token, the endpoint is off.
    off = Dragoman(tmp_path / "off").start() if (tmp_path / "off").mkdir() is None else None
    try:
        r = requests.post(f"{off.admin}/admin/sweep?older_than=1d", timeout=10)
        assert r.status_code == 404 and "admin.token" in r.text
    finally:
        off.stop()


def test_sizes_come_from_list_parts(tmp_path):
    """--sizes: one ListParts per S3 and BOS upload (here the BOS stand-in and LocalStack)."""
    import io

    from bos_standin import BosStandIn

    with BosStandIn("sizes-backend-ak", "sizes-backend-sk") as standin:
        extra = f"""
[backends.bos-parts]
kind = "bos"
endpoint = "{standin.endpoint}"
access_key = "sizes-backend-ak"
secret_key = "sizes-backend-sk"

[[routes]]
buckets = "sz-bos"
backend = "bos-parts"
"""
        if LOCALSTACK:
            extra += f"""
[backends.lake]
kind = "s3"
endpoint = "{LOCALSTACK}"
access_key = "test"
secret_key = "test"

[[routes]]
buckets = "sz-s3"
backend = "lake"
"""
        gw = Dragoman(tmp_path, extra).start()
        try:
            bos = gw.bos()
            bos.create_bucket("sz-bos")
            up = bos.initiate_multipart_upload("sz-bos", "big").upload_id
            for n, size in ((1, 1000), (2, 234)):
                bos.upload_part("sz-bos", "big", up, n, size, io.BytesIO(b"x" * size))
            s3 = gw.client()
            if LOCALSTACK:
                s3.create_bucket(Bucket="sz-s3")
                u = s3.create_multipart_upload(Bucket="sz-s3", Key="big")["UploadId"]
                s3.upload_part(Bucket="sz-s3", Key="big", UploadId=u, PartNumber=1, Body=b"y" * 4321)
            s3.create_bucket(Bucket="sz-emb")
            s3.create_multipart_upload(Bucket="sz-emb", Key="k")
            time.sleep(2.2)
            env = dict(os.environ, DRAGOMAN_STORE__DATA_DIR=str(gw.data), RUST_LOG="warn")
            out = subprocess.run([str(binary()), "sweep", "--config", str(gw.config), "--older-than", "2s",
                                  "--buckets", "sz-*", "--sizes", "--format", "json"],
                                 capture_output=True, text=True, env=env, timeout=120)
            assert out.returncode == 0, out.stdout + out.stderr
            lines = by_bucket(json.loads(out.stdout))
            assert lines["sz-bos"]["bytes"] == 1234
            if LOCALSTACK:
                assert lines["sz-s3"]["bytes"] == 4321
            assert lines["sz-emb"]["bytes"] == 0, "the embedded store keeps uploads, not their data"
        finally:
            gw.stop()
