"""Fixtures that run the real dragoman binary on a free port and point official clients at it."""

import os
import select
import signal
import subprocess
import sys
import time
from pathlib import Path

import boto3
import pytest
from botocore.config import Config

ROOT = Path(__file__).resolve().parents[2]
ACCESS_KEY = "DRAGOMANTESTKEY00001"
SECRET_KEY = "dragoman-test-secret-0001"
LIMITED_KEY = "DRAGOMANTESTKEY00002"
LIMITED_SECRET = "dragoman-test-secret-0002"
PASSWORD = "tester-password-0001"
LIMITED_PASSWORD = "limited-password-0002"
ACCESS_TOKEN = "access-v1:tester-static-token-0001"
QUMULO_PAGE = 7
REGION = "us-east-1"


def binary() -> Path:
    path = Path(os.environ.get("DRAGOMAN_BIN", ROOT / "target" / "debug" / "dragoman"))
    if not path.exists():
        pytest.exit(f"dragoman binary not found at {path}: build it first (scripts/test does)", 2)
    return path


CONFIG = f"""
[server]
listen = "127.0.0.1:0"
shutdown_grace_secs = 5

[admin]
listen = "127.0.0.1:0"

[qumulo]
page_size = {QUMULO_PAGE}
token_key = "a test key that is at least thirty-two characters long"

[s3]
region = "{REGION}"
domains = ["s3.localhost"]

[[credentials]]
name = "tester"
access_key = "{ACCESS_KEY}"
secret_key = "{SECRET_KEY}"
buckets = ["*"]
password = "{PASSWORD}"
access_tokens = ["{ACCESS_TOKEN}"]

[[credentials]]
name = "limited"
access_key = "{LIMITED_KEY}"
secret_key = "{LIMITED_SECRET}"
buckets = ["team-a-*"]
password = "{LIMITED_PASSWORD}"
"""


class Dragoman:
    """One dragoman process on a data directory that outlives restarts."""

    def __init__(self, workdir: Path, extra_config: str = "", env: dict | None = None):
        self.workdir = workdir
        self.config = workdir / "dragoman.toml"
        self.config.write_text(CONFIG + extra_config)
        self.data = workdir / "data"
        self.proc = None
        self.port = None
        self.log = workdir / "dragoman.log"
        self.env = env or {}

    def start(self):
        env = dict(os.environ, DRAGOMAN_STORE__DATA_DIR=str(self.data), RUST_LOG="info")
        env.update(self.env)
        self.proc = subprocess.Popen(
            [str(binary()), "serve", "--config", str(self.config)],
            stdout=subprocess.PIPE,
            stderr=open(self.log, "ab"),
            env=env,
        )
        deadline = time.monotonic() + 20
        line = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.proc.stdout], [], [], 0.2)
            if ready:
                line = self.proc.stdout.readline()
                break
            if self.proc.poll() is not None:
                break
        if not line.startswith(b"dragoman listening on http://"):
            self.stop()
            raise RuntimeError(f"dragoman did not start: {line!r}\n{self.log.read_text()}")
        self.port = int(line.strip().rsplit(b":", 1)[1])
        admin = self.proc.stdout.readline()
        self.admin_port = int(admin.strip().rsplit(b":", 1)[1]) if admin.startswith(b"dragoman admin on http://") else None
        return self

    @property
    def https(self) -> str:
        """The same listener over TLS (the gateway's self-signed certificate)."""
        return f"https://127.0.0.1:{self.port}"

    @property
    def admin(self) -> str:
        return f"http://127.0.0.1:{self.admin_port}"

    @property
    def endpoint(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def stop(self, sig=signal.SIGTERM) -> int:
        if self.proc is None:
            return 0
        self.proc.send_signal(sig)
        try:
            code = self.proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            code = self.proc.wait()
        self.proc = None
        return code

    def restart(self):
        assert self.stop() == 0
        return self.start()

    def qumulo(self, username="tester", password=PASSWORD, token=None):
        """The official Qumulo SDK over TLS (the gateway's self-signed certificate: the SDK does
        not verify certificates, as against a real cluster)."""
        from qumulo.lib.auth import Credentials
        from qumulo.rest_client import RestClient

        if token is not None:
            return RestClient("127.0.0.1", self.port, credentials=Credentials(token))
        rc = RestClient("127.0.0.1", self.port)
        if username is not None:
            rc.login(username, password)
        return rc

    def qq(self, *args, xdg=None):
        """Runs the `qq` CLI against the gateway, its credentials kept under `xdg`."""
        qq = Path(sys.executable).parent / "qq"
        env = dict(os.environ, XDG_CONFIG_HOME=str(xdg or self.workdir / "xdg"), HOME=str(self.workdir))
        return subprocess.run([str(qq), "--host", "127.0.0.1", "--port", str(self.port), *args],
                              capture_output=True, text=True, env=env, timeout=120)

    def bos(self, access_key=ACCESS_KEY, secret_key=SECRET_KEY, virtual_hosted=False):
        """The official BOS SDK: path style on 127.0.0.1, or virtual-hosted through the gateway
        as a proxy (Host: <bucket>.bj.bcebos.com), the recipes of spec/bos.md §6.1."""
        from baidubce.auth.bce_credentials import BceCredentials
        from baidubce.bce_client_configuration import BceClientConfiguration
        from baidubce.retry.retry_policy import NoRetryPolicy
        from baidubce.services.bos.bos_client import BosClient

        cred = BceCredentials(access_key, secret_key)
        if virtual_hosted:
            cfg = BceClientConfiguration(credentials=cred, endpoint="bj.bcebos.com", proxy_host="127.0.0.1",
                                         proxy_port=self.port, retry_policy=NoRetryPolicy())
        else:
            cfg = BceClientConfiguration(credentials=cred, endpoint=self.endpoint, retry_policy=NoRetryPolicy())
        return BosClient(cfg)

    def client(self, access_key=ACCESS_KEY, secret_key=SECRET_KEY, **config):
        settings = {
            "s3": {"addressing_style": "path"},
            "signature_version": "s3v4",
            "retries": {"max_attempts": 1, "mode": "standard"},
        }
        settings.update(config)
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint,
            aws_access_key_id=access_key,
            aws_secret_access_key=secret_key,
            region_name=REGION,
            config=Config(**settings),
        )


LOCALSTACK = os.environ.get("DRAGOMAN_TEST_LOCALSTACK")


def remote_backends(remote, prefix):
    """Configuration routing `<prefix>-bos-*`, `<prefix>-q-*` and (when LocalStack runs)
    `<prefix>-s3-*` buckets to a BOS and a Qumulo backend played by `remote`, and to
    LocalStack."""
    extra = f"""
[backends.bos-remote]
kind = "bos"
endpoint = "http://127.0.0.1:{remote.port}"
access_key = "{ACCESS_KEY}"
secret_key = "{SECRET_KEY}"

[backends.qumulo-remote]
kind = "qumulo"
endpoint = "https://127.0.0.1:{remote.port}"
username = "tester"
password = "{PASSWORD}"
ca_file = "{remote.data}/tls/self-signed.pem"

[[routes]]
buckets = "{prefix}-bos-*"
backend = "bos-remote"

[[routes]]
buckets = "{prefix}-q-*"
backend = "qumulo-remote"
"""
    if LOCALSTACK:
        extra += f"""
[backends.s3-localstack]
kind = "s3"
endpoint = "{LOCALSTACK}"
access_key = "test"
secret_key = "test"

[[routes]]
buckets = "{prefix}-s3-*"
backend = "s3-localstack"
"""
    return extra


@pytest.fixture(scope="module")
def gateway(tmp_path_factory):
    gw = Dragoman(tmp_path_factory.mktemp("dragoman")).start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()


@pytest.fixture(scope="module")
def s3(gateway):
    return gateway.client()
