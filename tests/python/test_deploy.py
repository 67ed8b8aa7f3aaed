"""deploy/: the Dockerfile lints clean and its exact command line, user and environment run the
real binary; the Kubernetes manifests and every rendering of the Helm chart validate against
the Kubernetes schemas; and every dragoman.toml they carry is a configuration dragoman takes."""

import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import requests
import yaml

from conftest import ACCESS_KEY, PASSWORD, SECRET_KEY, Dragoman, binary

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
CHART = DEPLOY / "helm" / "dragoman"
BIN = Path(sys.executable).parent
K8S_VERSION = "1.33.0"
EXAMPLES = sorted((CHART / "examples").glob("*.yaml"))


def run(*cmd, **kw):
    """stdout and stderr of a command that must succeed."""
    out = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=120, **kw)
    assert out.returncode == 0, f"{cmd}: {out.stdout}\n{out.stderr}"
    return out.stdout + out.stderr


def documents(text):
    return [d for d in yaml.safe_load_all(text) if d]


def validate(paths):
    out = run(BIN / "kubernetes-validate", "--strict", "-k", K8S_VERSION, *paths)
    assert "failed" not in out.lower(), out
    return out


def check_config(toml_text, tmp_path, secrets_dir="/etc/dragoman/secrets", extra=()):
    """dragoman's own verdict on a configuration, with its secret files provided."""
    secrets = tmp_path / "secrets"
    secrets.mkdir(exist_ok=True)
    for name in set(re.findall(re.escape(secrets_dir) + r"/([A-Za-z0-9._-]+)", toml_text)):
        (secrets / name).write_text("a-secret-value-0001-long-enough-for-every-key-0001\n")
    conf = tmp_path / "dragoman.toml"
    conf.write_text(toml_text.replace(secrets_dir, str(secrets)))
    env = dict(os.environ, DRAGOMAN_STORE__DATA_DIR=str(tmp_path / "data"), *extra)
    return run(binary(), "check-config", "--config", conf, env=env)


def test_hadolint_finds_nothing():
    run(BIN / "hadolint", DEPLOY / "docker" / "Dockerfile")
    assert (ROOT / ".dockerignore").is_file()


def test_the_kubernetes_manifests_validate(tmp_path):
    files = sorted((DEPLOY / "kubernetes").glob("*.yaml"))
    out = validate(files)
    assert out.count("passed") == len(files), out
    docs = {d["kind"]: d for f in files for d in documents(f.read_text())}
    assert set(docs) >= {"Deployment", "Service", "ConfigMap", "Secret", "PodDisruptionBudget", "Pod"}
    deploy = docs["Deployment"]["spec"]
    assert deploy["replicas"] >= 2
    pod = deploy["template"]["spec"]
    c = pod["containers"][0]
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert "limits" in c["resources"]
    # The sidecar is a native one: an init container that keeps running.
    sidecar = docs["Pod"]["spec"]["initContainers"][0]
    assert sidecar["restartPolicy"] == "Always"
    # The ConfigMap's configuration is one dragoman takes, with the replicas' shared token key.
    toml_text = docs["ConfigMap"]["data"]["dragoman.toml"]
    assert "token_key_file" in toml_text
    assert "configuration OK" in check_config(toml_text, tmp_path)


def test_the_sidecar_environment_is_a_valid_configuration(tmp_path):
    pod = next(d for d in documents((DEPLOY / "kubernetes" / "sidecar-pod.yaml").read_text()) if d["kind"] == "Pod")
    env = {e["name"]: e["value"] for e in pod["spec"]["initContainers"][0]["env"] if "value" in e}
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    for k, v in list(env.items()):
        for name in re.findall(r"/etc/dragoman/secrets/([A-Za-z0-9._-]+)", v):
            (secrets / name).write_text("a-secret-value-0001-long-enough-for-every-key-0001\n")
        env[k] = v.replace("/etc/dragoman/secrets", str(secrets))
    out = run(binary(), "check-config", env=dict(os.environ, DRAGOMAN_STORE__DATA_DIR=str(tmp_path / "d"), **env))
    assert "configuration OK" in out and "[backends.lake]" in out


@pytest.mark.parametrize("values", [None, *EXAMPLES], ids=lambda v: "defaults" if v is None else v.stem)
def test_the_chart_lints_renders_and_validates(values, tmp_path):
    args = ["-f", values] if values else []
    run(BIN / "helm", "lint", "--strict", CHART, *args)
    rendered = run(BIN / "helm", "template", "rel", CHART, *args)
    out_file = tmp_path / "rendered.yaml"
    out_file.write_text(rendered)
    validate([out_file])
    docs = documents(rendered)
    kinds = [d["kind"] for d in docs]
    config = next(d for d in docs if d["kind"] == "ConfigMap")["data"]["dragoman.toml"]
    assert "configuration OK" in check_config(config, tmp_path)
    sidecar = values is not None and values.stem == "sidecar"
    if sidecar:
        assert "Deployment" not in kinds and "Service" not in kinds
        pod = next(d for d in docs if d["kind"] == "Pod")
        init = pod["spec"]["initContainers"][0]
        assert init["restartPolicy"] == "Always" and "127.0.0.1:9000" in config
    else:
        deploy = next(d for d in docs if d["kind"] == "Deployment")
        c = deploy["spec"]["template"]["spec"]["containers"][0]
        assert c["securityContext"]["readOnlyRootFilesystem"] is True
        assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert "PodDisruptionBudget" in kinds
        if deploy["spec"]["replicas"] > 1:
            assert "token_key_file" in config, "replicas share the Qumulo token key"
    if values is not None and values.stem == "s3":
        monitor = next(d for d in docs if d["kind"] == "ServiceMonitor")
        assert monitor["spec"]["endpoints"][0] == {"port": "admin", "path": "/metrics", "interval": "30s"}


def test_the_chart_refuses_replicas_that_cannot_agree(tmp_path):
    out = subprocess.run([str(BIN / "helm"), "template", "rel", str(CHART), "--set", "replicaCount=2"],
                         capture_output=True, text=True)
    assert out.returncode != 0 and "embedded store" in out.stderr


def dockerfile():
    """The run stage's ENV, USER, ENTRYPOINT and CMD, as the image would run."""
    text = (DEPLOY / "docker" / "Dockerfile").read_text().replace("\\\n", " ")
    stage = text.rsplit("\nFROM ", 1)[1]
    env, user, entry, cmd = {}, None, [], []
    for line in stage.splitlines():
        word, _, rest = line.strip().partition(" ")
        if word == "ENV":
            for pair in shlex.split(rest):
                k, v = pair.split("=", 1)
                env[k] = v
        elif word == "USER":
            user = rest.strip()
        elif word == "ENTRYPOINT":
            entry = yaml.safe_load(rest)
        elif word == "CMD":
            cmd = yaml.safe_load(rest)
    return env, user, entry, cmd


@pytest.fixture
def world_tmp():
    """A directory the image's unprivileged user can reach (pytest's own are root-only)."""
    import shutil
    import tempfile
    d = Path(tempfile.mkdtemp(prefix="dragoman-container-"))
    d.chmod(0o755)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def test_the_containers_command_line_user_and_environment_serve_every_dialect(world_tmp):
    """The image's exact entrypoint, user and environment, outside a container: not root, the
    data directory the only place it may write, configuration from the environment alone."""
    tmp_path = world_tmp
    env, user, entry, cmd = dockerfile()
    assert entry == ["/usr/local/bin/dragoman"] and cmd == ["serve"] and user == "65532:65532"
    uid, gid = (int(x) for x in user.split(":"))
    data = tmp_path / "data"
    data.mkdir()
    os.chown(data, uid, gid)
    secret = tmp_path / "app.secret"
    secret.write_text(SECRET_KEY + "\n")
    os.chown(secret, uid, gid)
    secret.chmod(0o400)
    env = dict(env)
    env["DRAGOMAN_STORE__DATA_DIR"] = str(data)  # the image's /var/lib/dragoman volume
    # The image's 0.0.0.0:9000/9001, on free local ports so that tests do not collide.
    env["DRAGOMAN_SERVER__LISTEN"] = "127.0.0.1:0"
    env["DRAGOMAN_ADMIN__LISTEN"] = "127.0.0.1:0"
    env["DRAGOMAN_CREDENTIALS"] = (f'[{{name = "tester", access_key = "{ACCESS_KEY}", '
                                   f'secret_key_file = "{secret}", password = "{PASSWORD}"}}]')
    env["PATH"] = "/usr/bin:/bin"
    setpriv = ["setpriv", f"--reuid={uid}", f"--regid={gid}", "--clear-groups", "--no-new-privs"]
    proc = subprocess.Popen([*setpriv, str(binary()), *cmd], env=env, stdout=subprocess.PIPE,
                            stderr=open(tmp_path / "log", "wb"), cwd="/")
    try:
        line = proc.stdout.readline().decode()
        assert line.startswith("dragoman listening on http://"), (tmp_path / "log").read_text()
        port = int(line.strip().rsplit(":", 1)[1])
        admin_port = int(proc.stdout.readline().decode().strip().rsplit(":", 1)[1])
        assert Path(f"/proc/{proc.pid}/status").read_text().count(f"\t{uid}\t") >= 1
        assert requests.get(f"http://127.0.0.1:{admin_port}/readyz", timeout=5).status_code == 200
        written = {p.relative_to(data).parts[0] for p in data.rglob("*")}
        assert written, "the store and certificate are in the data directory"
        assert all(p.stat().st_uid == uid for p in data.rglob("*"))

        gw = Dragoman.__new__(Dragoman)
        gw.port, gw.admin_port = port, admin_port
        s3 = gw.client()
        s3.create_bucket(Bucket="container-bkt")
        upload = s3.create_multipart_upload(Bucket="container-bkt", Key="k")["UploadId"]
        assert [u["UploadId"] for u in s3.list_multipart_uploads(Bucket="container-bkt")["Uploads"]] == [upload]
        bos = gw.bos()
        assert [u.upload_id for u in bos.list_multipart_uploads("container-bkt").uploads] == [upload]
        # Qumulo over TLS, trusting the certificate dragoman wrote into its data directory.
        cert = str(data / "tls" / "self-signed.pem")
        token = requests.post(f"{gw.https}/v1/session/login", json={"username": "tester", "password": PASSWORD},
                              timeout=5, verify=cert).json()["bearer_token"]
        page = requests.get(f"{gw.https}/v1/s3/buckets/container-bkt/uploads/", verify=cert,
                            headers={"Authorization": f"Bearer {token}"}, timeout=5).json()
        assert [u["id"] for u in page["uploads"]] == [upload]
    finally:
        proc.terminate()
        assert proc.wait(timeout=20) == 0
