"""Unreachable, silent and garbled backends reach every caller dialect as that dialect's
503, 504 and 502, with a request id, quickly: never a hang, a dropped connection or a 500."""

import http.client
import socket
import threading
import time

import pytest
from baidubce.exception import BceHttpClientError
from botocore.exceptions import ClientError
from qumulo.lib.request import RequestError

from conftest import ACCESS_KEY, SECRET_KEY, Dragoman


def serve_forever(reply):
    """A TCP server on 127.0.0.1 that reads a request and answers `reply`, or nothing at all."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)

    def handle(conn):
        with conn:
            try:
                conn.recv(65536)
                if reply is None:
                    time.sleep(30)
                else:
                    conn.sendall(reply)
            except OSError:
                pass

    def loop():
        while True:
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            threading.Thread(target=handle, args=(conn,), daemon=True).start()

    threading.Thread(target=loop, daemon=True).start()
    return listener


@pytest.fixture(scope="module")
def front(tmp_path_factory):
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    dead_port = closed.getsockname()[1]
    closed.close()
    silent = serve_forever(None)
    slow_down = b"<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
    throttled = serve_forever(b"HTTP/1.1 503 Slow Down\r\nContent-Type: application/xml\r\nContent-Length: %d\r\n\r\n%s" % (len(slow_down), slow_down))
    garbled = serve_forever(b"HTTP/1.1 200 OK\r\nContent-Length: 11\r\n\r\nnot-a-page!")
    broken = serve_forever(b"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 6\r\n\r\n<html>")
    # An answer larger than the backend's max_response_bytes (1 KiB below): refused, not read.
    huge = serve_forever(b"HTTP/1.1 200 OK\r\nContent-Length: 4096\r\n\r\n" + b"{" * 4096)
    extra = ""
    ports = [("dead", dead_port), ("silent", silent.getsockname()[1]), ("garbled", garbled.getsockname()[1]),
             ("throttled", throttled.getsockname()[1]), ("broken", broken.getsockname()[1]),
             ("huge", huge.getsockname()[1])]
    for name, port in ports:
        extra += f"""
[backends.{name}]
kind = "{'s3' if name == 'throttled' else 'bos'}"
endpoint = "http://127.0.0.1:{port}"
access_key = "{ACCESS_KEY}"
secret_key = "{SECRET_KEY}"
timeout_secs = 1
max_response_bytes = 1024
# Each fault is asked for from several tests; these are about the translation, not the breaker.
breaker_failures = 1000

[[routes]]
buckets = "{name}-bucket"
backend = "{name}"
"""
    gw = Dragoman(tmp_path_factory.mktemp("faults"), extra).start()
    gw.fault_ports = [str(port) for _, port in ports]
    yield gw
    assert gw.stop() == 0, gw.log.read_text()
    silent.close()
    garbled.close()
    throttled.close()
    broken.close()
    huge.close()


# A backend's own 500 is the caller's 502: the backend failed, not dragoman.
FAULTS = [("dead", 503), ("silent", 504), ("garbled", 502), ("throttled", 503), ("broken", 502), ("huge", 502)]


def no_backend_details(front, text):
    """Backend addresses and transport errors go to the log, never to the caller."""
    assert "127.0.0.1" not in text and "http://" not in text, text
    assert not any(port in text for port in front.fault_ports), text


@pytest.mark.parametrize("fault,status", FAULTS)
def test_s3_callers(front, fault, status):
    started = time.monotonic()
    with pytest.raises(ClientError) as e:
        front.client().list_multipart_uploads(Bucket=f"{fault}-bucket")
    meta = e.value.response["ResponseMetadata"]
    assert meta["HTTPStatusCode"] == status
    want = "SlowDown" if fault == "throttled" else {503: "ServiceUnavailable", 504: "GatewayTimeout", 502: "BadGateway"}[status]
    assert e.value.response["Error"]["Code"] == want
    assert len(meta["RequestId"]) == 16
    assert time.monotonic() - started < 10
    no_backend_details(front, e.value.response["Error"]["Message"])
    # Only passing faults invite a retry.
    assert ("retry-after" in meta["HTTPHeaders"]) == (status in (503, 504)), meta["HTTPHeaders"]


@pytest.mark.parametrize("fault,status", FAULTS)
def test_bos_callers(front, fault, status):
    started = time.monotonic()
    with pytest.raises(BceHttpClientError) as e:
        front.bos().list_multipart_uploads(f"{fault}-bucket")
    err = e.value.last_error
    assert err.status_code == status
    if fault == "throttled":
        assert err.code == "SlowDown"
    assert err.request_id
    no_backend_details(front, str(err))
    assert time.monotonic() - started < 10


@pytest.mark.parametrize("fault,status", FAULTS)
def test_qumulo_callers(front, fault, status):
    started = time.monotonic()
    with pytest.raises(RequestError) as e:
        front.qumulo().s3.list_uploads(f"{fault}-bucket")
    assert e.value.status_code == status
    if fault == "throttled":
        assert e.value.error_class == "throttled_error"
    else:
        assert e.value.error_class.startswith("backend_")
    assert time.monotonic() - started < 10


def test_the_gateway_keeps_serving_after_faults(front):
    s3 = front.client()
    s3.create_bucket(Bucket="still-fine")
    assert s3.list_multipart_uploads(Bucket="still-fine")["IsTruncated"] is False


def test_an_answer_past_max_response_bytes_is_refused_unread(front):
    with pytest.raises(ClientError) as e:
        front.client().list_multipart_uploads(Bucket="huge-bucket")
    assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 502
    # The reason is the bound, said in the log (the 4 KiB of braces are never parsed).
    assert "max_response_bytes" in front.log.read_text()


def test_past_max_concurrency_a_caller_is_throttled_at_once_and_the_slot_comes_back(tmp_path):
    """One request slot, held by a call to a silent backend: a second caller gets its dialect's
    throttle answer at once (not a queue, not a hang), and once the slot is back it is served."""
    silent = serve_forever(None)
    route = f"""
[backends.silent]
kind = "bos"
endpoint = "http://127.0.0.1:{silent.getsockname()[1]}"
access_key = "{ACCESS_KEY}"
secret_key = "{SECRET_KEY}"
timeout_secs = 3
max_retries = 0

[[routes]]
buckets = "silent-bucket"
backend = "silent"
"""
    gw = Dragoman(tmp_path, route, env={"DRAGOMAN_SERVER__MAX_CONCURRENCY": "1"}).start()
    try:
        s3 = gw.client()
        s3.create_bucket(Bucket="open-bucket")
        held = {}

        def hold():
            try:
                s3.list_multipart_uploads(Bucket="silent-bucket")
            except ClientError as e:
                held["status"] = e.response["ResponseMetadata"]["HTTPStatusCode"]

        holder = threading.Thread(target=hold)
        holder.start()
        time.sleep(0.5)  # the holder is waiting on the silent backend
        # The gateway's own time, on a bare connection (boto3 alone, sharing the GIL with the
        # holder's thread, can take most of a second to report an answer it got at once).
        conn = http.client.HTTPConnection("127.0.0.1", gw.port, timeout=5)
        started = time.monotonic()
        conn.request("GET", "/open-bucket?uploads")
        bare = conn.getresponse()
        assert time.monotonic() - started < 0.5
        assert bare.status == 503 and b"<Code>SlowDown</Code>" in bare.read()
        conn.close()
        # Queued, it would wait for the holder's 3 s backend timeout.
        started = time.monotonic()
        with pytest.raises(ClientError) as e:
            s3.list_multipart_uploads(Bucket="open-bucket")
        assert time.monotonic() - started < 1.5
        assert e.value.response["ResponseMetadata"]["HTTPStatusCode"] == 503
        assert e.value.response["Error"]["Code"] == "SlowDown"
        with pytest.raises(BceHttpClientError) as b:
            gw.bos().list_multipart_uploads("open-bucket")
        assert b.value.last_error.status_code == 503
        holder.join(timeout=10)
        assert held == {"status": 504}
        assert s3.list_multipart_uploads(Bucket="open-bucket")["IsTruncated"] is False
    finally:
        assert gw.stop() == 0, gw.log.read_text()
        silent.close()
