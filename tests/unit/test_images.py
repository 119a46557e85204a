"""Image tags follow the build inputs: code changes rebuild, data does not. No Docker needed."""

from __future__ import annotations

import io
import tarfile
from pathlib import Path

import pytest

import testbed
from testbed.errors import EnvironmentProblem
from testbed.lab import images


@pytest.fixture
def compose(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A compose/ with one plain image and one that carries our package."""
    root = tmp_path / "compose"
    (root / "plain").mkdir(parents=True)
    (root / "plain" / "Dockerfile").write_text("FROM debian:bookworm-slim\n")
    (root / "withpkg").mkdir()
    (root / "withpkg" / "Dockerfile").write_text(f"{images.PACKAGE_DIRECTIVE}\nFROM debian:bookworm-slim\n")
    monkeypatch.setenv("TESTBED_COMPOSE_DIR", str(root))
    return root


def test_keys_are_the_folders_with_a_dockerfile(compose: Path) -> None:
    (compose / "empty").mkdir()
    assert images.image_keys() == ["plain", "withpkg"]


def test_tag_names_the_key_the_version_and_a_content_hash(compose: Path) -> None:
    tag = images.image_tag("plain")
    repo, version_hash = tag.split(":")
    assert repo == "dnssec-testbed/plain"
    version, digest = version_hash.rsplit("-", 1)
    assert version == testbed.__version__ and len(digest) == 12
    assert images.image_tag("plain") == tag                     # stable


def test_a_dockerfile_change_changes_the_tag_but_other_images_keep_theirs(compose: Path) -> None:
    before = {k: images.image_tag(k) for k in ("plain", "withpkg")}
    (compose / "plain" / "Dockerfile").write_text("FROM debian:bookworm-slim\nRUN true\n")
    assert images.image_tag("plain") != before["plain"]
    assert images.image_tag("withpkg") == before["withpkg"]
    (compose / "plain" / "extra.conf").write_text("a file of the build context\n")
    assert images.image_tag("plain") != before["plain"]


def test_package_images_hash_our_source_and_vendor_dnspython(compose: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rec = images.recipe("withpkg")
    assert rec.needs_package and not images.recipe("plain").needs_package
    paths = [rel for rel, _ in images.build_inputs(rec)]
    assert "Dockerfile" in paths
    assert "testbed/auth/__main__.py" in paths
    assert "vendor/dns/__init__.py" in paths
    assert not [p for p in paths if p.endswith(".pyc") or "__pycache__" in p or ".dist-info" in p]
    before = images.image_tag("withpkg")
    fake = [(rel, path) for rel, path in images._package_files()]
    changed = compose / "changed.py"
    changed.write_text("# a code change\n")
    monkeypatch.setattr(images, "_package_files", lambda: iter([*fake, ("changed.py", changed)]))
    assert images.image_tag("withpkg") != before


def test_scenario_data_is_not_a_build_input(compose: Path) -> None:
    paths = [rel for rel, _ in images.build_inputs(images.recipe("withpkg"))]
    assert not [p for p in paths if p.endswith((".yaml", ".zone"))]


def test_context_tar_and_folder_hold_the_same_files(compose: Path, tmp_path: Path) -> None:
    with tarfile.open(fileobj=images._context_tar("withpkg")) as tar:
        names = set(tar.getnames())
        dockerfile = tar.extractfile("Dockerfile")
        assert dockerfile is not None and images.PACKAGE_DIRECTIVE in dockerfile.read().decode()
    out = images.write_context("withpkg", tmp_path / "ctx")
    on_disk = {p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()}
    assert names == on_disk


def test_context_tar_is_reproducible(compose: Path) -> None:
    first, second = images._context_tar("plain"), images._context_tar("plain")
    assert first.getvalue() == second.getvalue()
    assert isinstance(first, io.BytesIO)


def test_unknown_image_names_the_known_ones(compose: Path) -> None:
    with pytest.raises(EnvironmentProblem, match="known images: plain, withpkg"):
        images.recipe("nope")


def test_missing_compose_folder_says_how_to_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TESTBED_COMPOSE_DIR", str(tmp_path / "absent"))
    with pytest.raises(EnvironmentProblem, match="TESTBED_COMPOSE_DIR"):
        images.image_keys()


def test_the_repository_images_exist() -> None:
    assert {"auth", "unbound"} <= set(images.image_keys())
    assert images.recipe("auth").needs_package
    assert not images.recipe("unbound").needs_package
