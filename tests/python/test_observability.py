"""What an operator sees: Prometheus metrics that count exactly what was served, a circuit
breaker that answers at once and shows in /readyz, and JSON access logs that carry the
caller's request id and never a secret."""

import json
import socket
import time

import pytest
import requests
from baidubce.exception import BceHttpClientError
from botocore.exceptions import ClientError
from prometheus_client.openmetrics.parser import text_string_to_metric_families

from conftest import ACCESS_KEY, ACCESS_TOKEN, PASSWORD, SECRET_KEY, LIMITED_PASSWORD, LIMITED_SECRET, Dragoman


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def bos_backend(name, port, extra=""):
    return f"""
[backends.{name}]
kind = "bos"
endpoint = "http://127.0.0.1:{port}"
access_key = "{ACCESS_KEY}"
secret_key = "{SECRET_KEY}"
timeout_secs = 2
{extra}

[[routes]]
buckets = "{name}-*"
backend = "{name}"
"""


@pytest.fixture(scope="module")
def observed(tmp_path_factory):
    extra = '\n[log]\nformat = "json"\n' + bos_backend("gone", free_port(), "max_retries = 0")
    gw = Dragoman(tmp_path_factory.mktemp("observed"), extra).start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()


def scrape(gw):
    text = requests.get(gw.admin + "/metrics", timeout=5).text
    return {m.name: m for m in text_string_to_metric_families(text)}


def sample(families, family, name, **labels):
    for s in families[family].samples:
        if s.name == name and all(s.labels.get(k) == v for k, v in labels.items()):
            return s.value
    return 0


def test_metrics_count_a_mixed_workload(observed):
    # Exactly one try per call, so that the counts below are the requests sent.
    s3 = observed.client(retries={"total_max_attempts": 1, "mode": "standard"})
    s3.create_bucket(Bucket="metered")
    for _ in range(3):
        s3.list_multipart_uploads(Bucket="metered")
    with pytest.raises(ClientError):
        observed.client(secret_key="wrong-secret-0000").list_multipart_uploads(Bucket="metered")
    with pytest.raises(ClientError) as e:
        s3.list_multipart_uploads(Bucket="gone-bucket")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
    bos = observed.bos()
    for _ in range(2):
        bos.list_multipart_uploads("metered")
    with pytest.raises(BceHttpClientError):
        bos.list_multipart_uploads("no-such-bucket")
    q = observed.qumulo()
    for _ in range(4):
        q.s3.list_uploads("metered")

    m = scrape(observed)
    req = "dragoman_requests"
    assert sample(m, req, "dragoman_requests_total", dialect="s3", operation="list_uploads", status="200") == 3
    assert sample(m, req, "dragoman_requests_total", dialect="s3", operation="list_uploads", status="403") == 1
    assert sample(m, req, "dragoman_requests_total", dialect="s3", operation="list_uploads", status="503") == 1
    assert sample(m, req, "dragoman_requests_total", dialect="s3", operation="create_bucket", status="200") == 1
    assert sample(m, req, "dragoman_requests_total", dialect="bos", operation="list_uploads", status="200") == 2
    assert sample(m, req, "dragoman_requests_total", dialect="bos", operation="list_uploads", status="404") == 1
    assert sample(m, req, "dragoman_requests_total", dialect="qumulo", operation="login", status="200") == 1
    assert sample(m, req, "dragoman_requests_total", dialect="qumulo", operation="list_uploads", status="200") == 4
    lat = "dragoman_request_duration_seconds"
    assert sample(m, lat, lat + "_count", dialect="s3", operation="list_uploads") == 5
    assert sample(m, lat, lat + "_count", dialect="qumulo", operation="list_uploads") == 4
    assert sample(m, lat, lat + "_bucket", dialect="qumulo", operation="list_uploads", le="+Inf") == 4
    # Backend calls: the embedded store answered every listing that reached it, the dead
    # backend failed once (no retries configured for it).
    calls = "dragoman_backend_calls"
    assert sample(m, calls, calls + "_total", backend="gone", call="list_page", outcome="unavailable") == 1
    assert sample(m, calls, calls + "_total", backend="embedded", call="list_page", outcome="ok") == 3 + 2 + 4
    assert sample(m, "dragoman_store_page_duration_seconds", "dragoman_store_page_duration_seconds_count") >= 9
    assert sample(m, "dragoman_requests_in_flight", "dragoman_requests_in_flight") == 0
    assert sample(m, "dragoman_backend_breaker_state", "dragoman_backend_breaker_state", backend="gone") == 0
    assert sample(m, "dragoman_build_info", "dragoman_build_info") == 1
    # No label carries a bucket name or a credential.
    text = requests.get(observed.admin + "/metrics", timeout=5).text
    for private in ["metered", "gone-bucket", ACCESS_KEY, "tester"]:
        assert private not in text


def test_json_access_logs_carry_the_request_id_and_no_secret(observed):
    s3 = observed.client()
    s3.create_bucket(Bucket="logged")
    resp = s3.list_multipart_uploads(Bucket="logged")
    rid = resp["ResponseMetadata"]["RequestId"]
    trace = "4bf92f3577b34da6a3ce929d0e0e4736"
    r = requests.get(observed.https + "/v1/s3/buckets/logged/uploads/", verify=False,
                     headers={"Authorization": "Bearer " + ACCESS_TOKEN, "traceparent": f"00-{trace}-00f067aa0ba902b7-01"})
    assert r.status_code == 200
    time.sleep(0.2)
    lines = [json.loads(line) for line in observed.log.read_text().splitlines() if line.strip()]
    access = [entry for entry in lines if entry.get("target") == "dragoman::access"]
    mine = [entry for entry in access if entry.get("request_id") == rid]
    assert len(mine) == 1, access[-5:]
    line = mine[0]
    assert line["dialect"] == "s3" and line["operation"] == "list_uploads" and line["status"] == 200
    assert line["user"] == "tester" and line["backend"] == "embedded" and line["elapsed_us"] > 0
    traced = [entry for entry in access if entry.get("trace_id") == trace]
    assert len(traced) == 1 and traced[0]["dialect"] == "qumulo"
    text = observed.log.read_text()
    for secret in [SECRET_KEY, PASSWORD, ACCESS_TOKEN, LIMITED_PASSWORD, LIMITED_SECRET,
                   "a test key that is at least thirty-two characters long"]:
        assert secret not in text


def test_the_breaker_opens_answers_at_once_shows_in_readyz_and_recovers(tmp_path_factory):
    port = free_port()
    extra = bos_backend("flaky", port, "max_retries = 0\nbreaker_failures = 3\nbreaker_cooldown_secs = 1")
    front = Dragoman(tmp_path_factory.mktemp("breaker"), extra).start()
    stand_in = None
    try:
        assert requests.get(front.admin + "/readyz", timeout=5).status_code == 200
        s3 = front.client(retries={"total_max_attempts": 1, "mode": "standard"})
        for _ in range(3):
            with pytest.raises(ClientError) as e:
                s3.list_multipart_uploads(Bucket="flaky-bucket")
            assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        ready = requests.get(front.admin + "/readyz", timeout=5)
        assert ready.status_code == 503
        assert any("flaky" in r and "breaker open" in r for r in ready.json()["reasons"]), ready.text
        # Open: every dialect gets its 503 at once. The gateway's own time for the request is
        # in its access log (the client's includes its own overhead on a busy machine).
        started = time.monotonic()
        with pytest.raises(ClientError) as e:
            s3.list_multipart_uploads(Bucket="flaky-bucket")
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert time.monotonic() - started < 1.0
        rid = e.value.response["ResponseMetadata"]["RequestId"]
        line = next(ln for ln in front.log.read_text().splitlines() if rid in ln and "dragoman::access" in ln)
        served_us = int(line.split("elapsed_us=")[1].split()[0])
        assert served_us < 50_000, line
        with pytest.raises(BceHttpClientError) as b:
            front.bos().list_multipart_uploads("flaky-bucket")
        assert b.value.last_error.status_code == 503
        # Other buckets are served meanwhile.
        s3.create_bucket(Bucket="unaffected")
        assert s3.list_multipart_uploads(Bucket="unaffected")["IsTruncated"] is False
        # The backend comes back: a dragoman serving BOS on the same port, holding the bucket.
        stand_in = Dragoman(tmp_path_factory.mktemp("stand-in"), env={"DRAGOMAN_SERVER__LISTEN": f"127.0.0.1:{port}"}).start()
        stand_in.bos().create_bucket("flaky-bucket")
        time.sleep(1.2)
        assert s3.list_multipart_uploads(Bucket="flaky-bucket")["IsTruncated"] is False
        assert requests.get(front.admin + "/readyz", timeout=5).status_code == 200
        # The caller's trace goes on to the backend, under dragoman's own span.
        trace = "0af7651916cd43dd8448eb211c80319c"
        r = requests.get(front.https + "/v1/s3/buckets/flaky-bucket/uploads/", verify=False,
                         headers={"Authorization": "Bearer " + ACCESS_TOKEN,
                                  "traceparent": f"00-{trace}-b7ad6b7169203331-01"}, timeout=10)
        assert r.status_code == 200, r.text
        time.sleep(0.2)
        assert trace in stand_in.log.read_text()
        assert requests.get(front.admin + "/healthz", timeout=5).text == "ok\n"
    finally:
        if stand_in is not None:
            stand_in.stop()
        assert front.stop() == 0
