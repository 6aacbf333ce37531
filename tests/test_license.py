"""The MIT license pyproject.toml declares is a file in the repository and in what pip
installs (a wheel's .dist-info/licenses/, which an editable install has too)."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_the_repository_has_the_mit_license_of_the_reverie_authors():
    text = (REPO / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2026 the reverie authors\n")
    assert "THE SOFTWARE IS PROVIDED \"AS IS\", WITHOUT WARRANTY OF ANY KIND" in text


def test_the_installed_distribution_carries_the_license_file_and_says_mit():
    # what pip installed (it writes INSTALLER), not a stale reverie.egg-info that a build
    # may have left in the checkout, which is on sys.path as the current directory
    (dist,) = [d for d in metadata.distributions(name="reverie") if d.read_text("INSTALLER")]
    assert dist.metadata["License-Expression"] == "MIT"
    assert dist.metadata.get_all("License-File") == ["LICENSE"]
    assert dist.read_text("licenses/LICENSE") == (REPO / "LICENSE").read_text(encoding="utf-8")
