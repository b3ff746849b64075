"""The wheel ships the same ontology, data, queries and shapes as the repository."""
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
KINDS = ("ontology", "data", "queries", "shapes")


@pytest.mark.skipif(not (ROOT / "setup.py").is_file(), reason="needs the source checkout")
def test_wheel_bundles_every_repository_file(tmp_path):
    src = tmp_path / "src"  # build from a copy: an in-tree build would leave build/ in the checkout
    shutil.copytree(ROOT, src, ignore=shutil.ignore_patterns(".git", ".venv", "build", "*.egg-info",
                                                             "__pycache__", ".pytest_cache"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
                           "-w", str(tmp_path), str(src)], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr[-2000:]
    (wheel,) = tmp_path.glob("hrkg-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    bundled = {n.split("hrkg/_bundle/", 1)[1] for n in names if n.startswith("hrkg/_bundle/")}
    in_repo = {p.relative_to(ROOT).as_posix() for kind in KINDS for p in (ROOT / kind).rglob("*")
               if p.is_file() and "__pycache__" not in p.parts}
    assert bundled == in_repo
    assert "hrkg/cli.py" in names
