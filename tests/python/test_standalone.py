"""The repository stands alone: a clean clone, with nothing beside it, resolves its workspace
and finds every file its tests and scripts need. (CI runs the whole test command on such a
clone.)"""

import os
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_no_tracked_file_reaches_outside_the_repository():
    outside = "../" + "shared"  # spelled apart so that this file is not a hit
    hits = subprocess.run(["git", "grep", "-n", "-I", "--", outside, "--", ":!*.md"],
                          cwd=ROOT, capture_output=True, text=True)
    assert hits.stdout == "", f"files that read {outside}:\n{hits.stdout}"


def test_a_clean_clone_with_nothing_beside_it_builds_and_has_its_test_inputs():
    with tempfile.TemporaryDirectory() as empty:
        clone = Path(empty) / "dragoman"
        subprocess.run(["git", "clone", "-q", "--no-hardlinks", str(ROOT), str(clone)], check=True)
        assert sorted(p.name for p in Path(empty).iterdir()) == ["dragoman"]
        for needed in ["ci/localstack-constraints.txt", "tests/requirements.txt", "fuzz/seeds",
                       "deploy/docker/Dockerfile", "deploy/helm/dragoman/Chart.yaml"]:
            assert (clone / needed).exists(), needed
        # The workspace resolves from the clone alone, offline, with its lock file.
        meta = subprocess.run(["cargo", "metadata", "--locked", "--offline", "--format-version", "1",
                               "--no-deps"], cwd=clone, capture_output=True, text=True, timeout=120)
        assert meta.returncode == 0, meta.stderr[-3000:]
        assert '"name":"dragoman"' in meta.stdout
        # Every script parses, and the shipped configuration is one the binary takes.
        for script in sorted((clone / "scripts").iterdir()) + [clone / ".ci" / "run"]:
            assert subprocess.run(["bash", "-n", str(script)]).returncode == 0, script
        from conftest import binary
        check = subprocess.run([str(binary()), "check-config", "--config", str(clone / "config" / "dragoman.toml")],
                               capture_output=True, text=True, cwd=clone,
                               env=dict(os.environ, DRAGOMAN_STORE__DATA_DIR=str(Path(empty) / "data")))
        assert check.returncode == 0, check.stderr
