"""Lab images: one per folder under compose/, built on demand, tagged by what went into them.

``compose/<key>/Dockerfile`` is the whole recipe for image ``<key>``: adding a resolver image is adding that
folder. The tag is ``dnssec-testbed/<key>:<package version>-<hash>``, where the hash covers the Dockerfile, the
other files of its folder and, for images that carry our package, the package's source and the versions of the
libraries vendored beside it. Editing code therefore rebuilds the image on the next run; scenario and zone data
never go into an image (they are bind-mounted), so changing them does not.

A Dockerfile that needs our package says so with the line ``# testbed-build: package``; its build context then
also holds ``testbed/`` (our source) and ``vendor/`` (the pure-Python libraries, copied from the versions this
process runs with, so an image never needs a Python package index).
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.metadata
import io
import os
import shutil
import tarfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import testbed
from testbed.errors import EnvironmentProblem

REPO = "dnssec-testbed"
IMAGE_LABEL = "dnssec-testbed.image"          # on images (not LABEL: `down --all` must never remove images)
GENERATION_LABEL = "dnssec-testbed.generation"   # debian12, debian13: the Debian release an image is built on
PACKAGE_DIRECTIVE = "# testbed-build: package"
# Pure-Python runtime libraries an image with our package gets in vendor/. The compiled one (cryptography)
# comes from Debian inside the Dockerfile.
VENDORED_DISTRIBUTIONS = ("dnspython",)
BUILD_TIMEOUT = 1800                           # seconds; a cold apt-get of a resolver can take minutes
LOG_LINES_ON_ERROR = 25

PACKAGE_DIR = Path(testbed.__file__).resolve().parent


def compose_dir() -> Path:
    """compose/ of a source checkout (or $TESTBED_COMPOSE_DIR): the Dockerfiles are not part of the wheel."""
    env = os.environ.get("TESTBED_COMPOSE_DIR")
    path = Path(env) if env else PACKAGE_DIR.parent / "compose"
    if not path.is_dir():
        raise EnvironmentProblem(f"no compose/ folder with the image Dockerfiles at {path}",
                                 fix="run from a source checkout of dnssec-testbed, or set TESTBED_COMPOSE_DIR "
                                     "to its compose/ folder")
    return path


def image_keys() -> list[str]:
    """Every image we know how to build: each compose/<key>/ with a Dockerfile."""
    return sorted(p.parent.name for p in compose_dir().glob("*/Dockerfile"))


def resolver_image_keys() -> list[str]:
    """The images a resolver adapter runs in: the ones each generation gets its own build of."""
    from testbed.resolvers import registry

    return sorted({cls.image for cls in registry().values()} & set(image_keys()))


@dataclass(frozen=True)
class ImageRecipe:
    key: str
    folder: Path
    needs_package: bool

    @property
    def dockerfile(self) -> Path:
        return self.folder / "Dockerfile"


def split_key(key: str) -> tuple[str, str]:
    """``bind@debian13`` -> ("bind", "debian13"); a key without a generation is the default generation's."""
    from testbed.resolvers.generations import DEFAULT_GENERATION, get_generation

    base, sep, generation = key.partition("@")
    generation = generation if sep else DEFAULT_GENERATION
    get_generation(generation, where=f"image {key!r}")
    return base, generation


def recipe(key: str) -> ImageRecipe:
    key = split_key(key)[0]
    folder = compose_dir() / key
    dockerfile = folder / "Dockerfile"
    if not dockerfile.is_file():
        known = ", ".join(image_keys()) or "none"
        raise EnvironmentProblem(f"no image recipe {dockerfile}", fix=f"known images: {known}; to add one, "
                                 f"write compose/{key}/Dockerfile")
    needs_package = any(line.strip() == PACKAGE_DIRECTIVE for line in dockerfile.read_text().splitlines())
    return ImageRecipe(key, folder, needs_package)


# ---- build inputs ---------------------------------------------------------------------------------------------
def _folder_files(folder: Path) -> Iterator[tuple[str, Path]]:
    for path in sorted(folder.rglob("*")):
        if path.is_file() and "__pycache__" not in path.parts:
            yield path.relative_to(folder).as_posix(), path


def _package_files() -> Iterator[tuple[str, Path]]:
    """Our source as it goes into an image: .py files and package data, never bytecode."""
    for rel, path in _folder_files(PACKAGE_DIR):
        if path.suffix not in (".pyc", ".pyo"):
            yield rel, path


def _vendored_files(dist_name: str) -> Iterator[tuple[str, Path]]:
    """The importable files of an installed distribution (what its RECORD lists, minus metadata and bytecode)."""
    dist = importlib.metadata.distribution(dist_name)
    for entry in dist.files or ():
        rel = entry.as_posix()
        if rel.startswith("..") or ".dist-info/" in rel or "__pycache__" in rel or rel.endswith(".pyc"):
            continue
        path = Path(str(dist.locate_file(entry)))
        if path.is_file():
            yield rel, path


def build_inputs(rec: ImageRecipe) -> Iterator[tuple[str, Path]]:
    """(path in the build context, source file) for everything the image is built from."""
    yield from _folder_files(rec.folder)
    if rec.needs_package:
        for rel, path in _package_files():
            yield f"testbed/{rel}", path
        for dist in VENDORED_DISTRIBUTIONS:
            for rel, path in _vendored_files(dist):
                yield f"vendor/{rel}", path


def content_hash(rec: ImageRecipe) -> str:
    digest = hashlib.sha256()
    for rel, path in build_inputs(rec):
        digest.update(rel.encode() + b"\0" + hashlib.sha256(path.read_bytes()).digest())
    if rec.needs_package:
        # the version pins what a vendored import resolves to even if RECORD lists the same files
        for dist in VENDORED_DISTRIBUTIONS:
            digest.update(f"{dist}=={importlib.metadata.version(dist)}".encode())
    return digest.hexdigest()[:12]


def image_tag(key: str) -> str:
    """``dnssec-testbed/<key>:<version>-<hash>``, with ``-<generation>`` after it for any generation but the
    default (``dnssec-testbed/bind:0.1.0-1a2b3c4d5e6f-debian13``): one image per recipe and generation."""
    from testbed.resolvers.generations import DEFAULT_GENERATION

    base, generation = split_key(key)
    tag = f"{REPO}/{base}:{testbed.__version__}-{content_hash(recipe(base))}"
    return tag if generation == DEFAULT_GENERATION else f"{tag}-{generation}"


def write_context(key: str, dest: Path) -> Path:
    """Lay the build context of ``key`` out in ``dest`` (also used by the compose export). Returns ``dest``."""
    dest.mkdir(parents=True, exist_ok=True)
    for rel, path in build_inputs(recipe(key)):
        target = dest / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, target)
    return dest


def _context_tar(key: str) -> io.BytesIO:
    """The build context as an in-memory tar, with fixed owners and mtimes so it depends on content only."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for rel, path in build_inputs(recipe(key)):
            data = path.read_bytes()
            info = tarfile.TarInfo(rel)
            info.size = len(data)
            info.mode = 0o755 if os.access(path, os.X_OK) else 0o644
            tar.addfile(info, io.BytesIO(data))
    buf.seek(0)
    return buf


# ---- building -------------------------------------------------------------------------------------------------
def _client(timeout: int = BUILD_TIMEOUT):  # noqa: ANN202 - docker.DockerClient, imported lazily
    from testbed.lab.backends.docker_env import reachable_client

    return reachable_client(timeout)


def image_exists(client: Any, tag: str) -> bool:
    import docker.errors

    try:
        client.images.get(tag)
        return True
    except docker.errors.ImageNotFound:
        return False


@contextlib.contextmanager
def _build_lock(key: str) -> Iterator[None]:
    """Two labs starting at once build an image once: the second waits, then finds the tag."""
    from testbed.lab.runtime import open_lock

    fd = open_lock(f"image-{key}.lock")
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def build_image(key: str, *, client: Any = None, on_line: Callable[[str], None] | None = None,
                force: bool = False) -> str:
    """Build ``key`` now (unless its tag exists and not ``force``) and return the tag."""
    own = client is None
    client = client or _client()
    try:
        tag = image_tag(key)
        with _build_lock(key):
            if not force and image_exists(client, tag):
                return tag
            _run_build(client, key, tag, on_line)
        return tag
    finally:
        if own:
            client.close()


def _run_build(client: Any, key: str, tag: str, on_line: Callable[[str], None] | None) -> None:
    import docker.errors

    from testbed.resolvers.generations import GENERATIONS

    base, generation = split_key(key)
    release = GENERATIONS[generation].release
    base_image = GENERATIONS[generation].base_image
    log: list[str] = []
    step = ["before the first step"]        # the Dockerfile step the builder was at, for the message

    def fail(why: str) -> EnvironmentProblem:
        tail = "\n".join("    " + line for line in log[-LOG_LINES_ON_ERROR:])
        return EnvironmentProblem(f"building image {tag} ({generation}, Debian {release}) from "
                                  f"compose/{base}/Dockerfile failed at {step[0]}: {why}\n{tail}",
                                  fix=f"see the build log above; retry with `testbed images build {key}`. "
                                      "Without network access to a Debian mirror, apt-get in the Dockerfile "
                                      f"cannot work; without {base_image}, run "
                                      f"compose/base/build-base.sh {release}")

    if not image_exists(client, base_image):
        raise EnvironmentProblem(f"cannot build image {tag} ({generation}): its base image {base_image} is not on "
                                 "this machine", fix=f"run compose/base/build-base.sh {release} (debootstrap, about "
                                 "a minute), then retry with `testbed images build " + key + "`")
    try:
        stream = client.api.build(fileobj=_context_tar(base), custom_context=True, tag=tag, rm=True,
                                  forcerm=True, decode=True, labels={IMAGE_LABEL: base, GENERATION_LABEL: generation},
                                  buildargs={"DEBIAN_RELEASE": release}, timeout=BUILD_TIMEOUT)
        for chunk in stream:
            if "error" in chunk:
                log.append(str(chunk["error"]).rstrip())
                raise fail(str(chunk["error"]).strip().splitlines()[-1] if chunk["error"] else "error")
            text = chunk.get("stream")
            if text:
                for line in str(text).splitlines():
                    if line.strip():
                        if line.startswith("Step "):
                            step[0] = line.strip()
                        log.append(line)
                        if on_line:
                            on_line(line)
    except docker.errors.APIError as exc:
        log.append(str(exc))
        raise fail(exc.explanation if isinstance(exc.explanation, str) else str(exc)) from exc
    if not image_exists(client, tag):
        raise fail("the daemon finished without tagging the image")


def ensure_image(key: str, *, client: Any = None) -> str:
    """The tag of image ``key``, built the first time a lab needs it and reused afterwards."""
    return build_image(key, client=client)


def list_images(client: Any = None) -> list[dict[str, str]]:
    """Our images on this daemon: key, tag, whether it is the current build, size."""
    own = client is None
    client = client or _client(timeout=30)
    try:
        current: dict[str, str] = {}
        from testbed.resolvers.generations import DEFAULT_GENERATION, GENERATIONS

        for base in image_keys():
            for gen in GENERATIONS if base in resolver_image_keys() else (DEFAULT_GENERATION,):
                key = base if gen == DEFAULT_GENERATION else f"{base}@{gen}"
                with contextlib.suppress(EnvironmentProblem):
                    current[key] = image_tag(key)
        rows = []
        for image in client.images.list(filters={"label": IMAGE_LABEL}):
            labels = image.labels or {}
            key = labels.get(IMAGE_LABEL, "?")
            gen = labels.get(GENERATION_LABEL, DEFAULT_GENERATION)
            key = key if gen == DEFAULT_GENERATION else f"{key}@{gen}"
            for tag in image.tags:
                rows.append({"key": key, "tag": tag, "current": "yes" if current.get(key) == tag else "no",
                             "size_mb": f"{image.attrs.get('Size', 0) / 1e6:.0f}"})
        for key in sorted(current):
            if not any(r["tag"] == current[key] for r in rows):
                rows.append({"key": key, "tag": current[key], "current": "not built", "size_mb": "-"})
        return sorted(rows, key=lambda r: (r["key"], r["tag"]))
    finally:
        if own:
            client.close()


def package_versions(queries: dict[str, list[str]], client: Any = None) -> dict[str, str]:
    """Image key -> what ``argv`` printed in a throw-away container of that image's current tag (no network), for
    the keys whose image is built; ``testbed resolvers`` asks each image for its exact package version this way."""
    own = client is None
    client = client or _client(timeout=60)
    out: dict[str, str] = {}
    try:
        for key, argv in queries.items():
            tag = image_tag(key)
            if not image_exists(client, tag):
                out[key] = "not built"
                continue
            container = None
            try:
                # created, waited for and read before removal: run(remove=True) can lose a fast command's output
                container = client.containers.create(tag, argv, network_disabled=True,
                                                     labels={IMAGE_LABEL + ".probe": key})
                container.start()
                container.wait(timeout=30)
                out[key] = container.logs(stdout=True, stderr=False).decode().strip() or "unknown"
            except Exception as exc:  # noqa: BLE001 - one image's trouble is shown in its row, not raised
                out[key] = f"unknown ({type(exc).__name__})"
            finally:
                if container is not None:
                    with contextlib.suppress(Exception):
                        container.remove(force=True)
    finally:
        if own:
            client.close()
    return out
