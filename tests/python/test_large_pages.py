"""Pages of the default and largest size (1000) over a BOS backend, which caps its own pages
at 1000 as real services do: the entry of lookahead that keeps a key on one page then needs a
second backend call, and the official BOS SDK, which pages with keyMarker alone, must still see
every upload once."""

import subprocess

import pytest

from conftest import Dragoman, binary, remote_backends
from test_bos import text


@pytest.fixture(scope="module")
def remote(tmp_path_factory):
    gw = Dragoman(tmp_path_factory.mktemp("large-remote")).start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()


@pytest.fixture(scope="module")
def front(tmp_path_factory, remote):
    gw = Dragoman(tmp_path_factory.mktemp("large-front"), remote_backends(remote, "big")).start()
    yield gw
    assert gw.stop() == 0, gw.log.read_text()


def test_a_key_across_the_1000th_entry_stays_whole_for_the_bos_sdk(front, remote):
    bucket = "big-bos-boundary"
    direct = remote.client()
    direct.create_bucket(Bucket=bucket)
    made = [direct.create_multipart_upload(Bucket=bucket, Key=f"k{i:04}")["UploadId"] for i in range(999)]
    made += [direct.create_multipart_upload(Bucket=bucket, Key="k0999")["UploadId"] for _ in range(3)]
    made += [direct.create_multipart_upload(Bucket=bucket, Key="k1000")["UploadId"]]
    bos = front.bos()
    first = bos.list_multipart_uploads(bucket)
    # k0999 does not fit whole on the first page: it moves to the second, all three together.
    assert first.is_truncated and len(first.uploads) == 999
    seen = [text(u.upload_id) for u in bos.list_all_multipart_uploads(bucket)]
    assert sorted(seen) == sorted(made) and len(seen) == len(set(seen))


def test_a_name_or_token_configured_twice_is_refused_at_start(tmp_path):
    config = tmp_path / "twice.toml"
    config.write_text("""
[[credentials]]
name = "twin"
access_key = "TWINKEY0000000000001"
secret_key = "twin-secret-0001"

[[credentials]]
name = "twin"
access_key = "TWINKEY0000000000002"
secret_key = "twin-secret-0002"
""")
    r = subprocess.run([str(binary()), "check-config", "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "configured twice" in r.stderr, r.stderr
    r = subprocess.run([str(binary()), "serve", "--config", str(config)], capture_output=True, text=True, timeout=30)
    assert r.returncode == 2 and "configured twice" in r.stderr, r.stderr
