"""reverie's import names live under `reverie.`: other distributions' top-level `daemon`,
`memory` or `perception` (python-daemon installs `daemon`) cannot shadow or break it, and
source plugins import the plugin API from `reverie.perception.sources`."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

from tests.conftest import make_config

ROOT = Path(__file__).resolve().parent.parent


def _reverie(args: list[str], pythonpath: Path, cwd: Path) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    return subprocess.run([sys.executable, "-m", "reverie.daemon.cli", *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=60)


def test_the_distribution_installs_no_top_level_daemon_memory_or_perception():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = project["tool"]["setuptools"]["packages"]
    assert packages and all(p.startswith("reverie.") for p in packages)
    assert project["project"]["scripts"]["reverie"].startswith("reverie.daemon.")


def test_installing_then_removing_a_foreign_daemon_package_leaves_reverie_working(tmp_path):
    # What `pip install python-daemon` puts into site-packages, placed first on the path:
    # a `daemon` (and, for good measure, `memory`, `perception`) that explodes on import.
    import shutil

    site = tmp_path / "site"
    for name in ("daemon", "memory", "perception"):
        (site / name).mkdir(parents=True)
        (site / name / "__init__.py").write_text(f"raise ImportError('foreign {name} imported')\n")
    r = _reverie(["init", str(tmp_path / "agent")], site, tmp_path)
    assert r.returncode == 0, r.stderr
    cfg = str(tmp_path / "agent" / "reverie.yaml")
    for args in (["check-config"], ["poll"], ["status"]):
        r = _reverie(["--config", cfg, *args], site, tmp_path)
        # `status` exits 3: no daemon runs here
        assert r.returncode == (3 if args == ["status"] else 0), (args, r.stderr)
        assert "foreign" not in r.stderr
    # `pip uninstall python-daemon` deletes its folders: reverie's own files are elsewhere.
    for name in ("daemon", "memory", "perception"):
        shutil.rmtree(site / name)
    r = _reverie(["--config", cfg, "poll"], site, tmp_path)
    assert r.returncode == 0, r.stderr


def test_a_source_plugin_registered_by_entry_point_is_listed_and_polled(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "tide_source.py").write_text(textwrap.dedent('''
        """A plugin source type, written against the public plugin API."""
        from typing import ClassVar

        from pydantic import BaseModel, ConfigDict

        from reverie.perception.sources import BaseSource, Context, Reading, Result


        class Tide(BaseSource):
            """The tide: one reading per poll."""

            type_name: ClassVar[str] = "tide"

            class Options(BaseModel):
                model_config = ConfigDict(extra="forbid")
                height: float = 1.5

            def fetch(self, ctx: Context) -> Result:
                return Result(readings=[Reading("height", self.options.height, unit="m")])
    '''))
    dist = site / "tide_source-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: tide-source\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text("[reverie.sources]\ntide = tide_source:Tide\n")

    r = _reverie(["sources"], site, tmp_path)
    assert r.returncode == 0, r.stderr
    assert any(line.startswith("tide") and "The tide" in line for line in r.stdout.splitlines())

    home = tmp_path / "agent"
    cfg = make_config(tmp_path, home=str(home),
                      sources=[{"name": "sea", "type": "tide", "height": 2.25, "every": "1h"}])
    r = _reverie(["--config", str(cfg), "poll"], site, tmp_path)
    assert r.returncode == 0, r.stderr
    assert "sea" in r.stdout
    assert "2.25" in (home / "perception" / "state.md").read_text()


def test_the_tests_import_reverie_as_installed_not_the_checkouts_folders():
    # `python -m pytest` from the checkout put daemon/ on the path; the demo's agent ran
    # here as `daemon.demo_agent` and nowhere else
    import importlib
    import importlib.util

    import pytest

    for name in ("daemon", "memory", "perception"):
        assert importlib.util.find_spec(name) is None, name
        with pytest.raises(ModuleNotFoundError):
            importlib.import_module(name)
    import reverie.daemon

    assert Path(reverie.daemon.__file__).resolve().parent == ROOT / "daemon"  # editable
    assert all(Path(p or ".").resolve() != ROOT for p in sys.path)
