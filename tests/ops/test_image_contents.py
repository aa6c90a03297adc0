"""The production image carries neither the sandbox nor mongomock.

There is no Docker engine on the build machines, so the image is rebuilt the way its build stage
builds it: the files the Dockerfile copies (none of them excluded by .dockerignore) into an empty
folder, then a wheel of that folder, as `pip install .` makes it there. What the image installs
besides is `project.dependencies`; their closure is read from the installed distributions.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import tomllib
import zipfile
from importlib import metadata
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.ops.test_deploy import DOCKERFILE, ROOT, _stages

SANDBOX_MARKERS = ("sandbox/", "standin", "simulator", "mongomock")


def _build_context_copies() -> list[str]:
    ignored = {
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()
    }
    sources: list[str] = []
    for line in _stages(DOCKERFILE.read_text())[0]:
        if line.startswith("COPY ") and "--from" not in line:
            sources += [s for s in line.split()[1:-1] if s not in ignored]
    return sources


def test_the_build_context_excludes_the_sandbox() -> None:
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert "sandbox" in ignored
    assert not any(s.startswith("sandbox") for s in _build_context_copies())


def test_the_wheel_the_image_installs_has_no_sandbox(tmp_path: Path) -> None:
    context = tmp_path / "context"
    context.mkdir()
    for source in _build_context_copies():
        origin = ROOT / source
        if origin.is_dir():
            shutil.copytree(origin, context / source, symlinks=True)
        else:
            shutil.copy2(origin, context / source)
    out = tmp_path / "wheel"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation"]
        + ["--wheel-dir", str(out), str(context)],
        check=True,
        timeout=300,
    )
    (wheel,) = out.glob("threads_scheduler-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("scheduler/publishing/") for n in names)  # it is the product's wheel
    assert any(n.startswith("web/templates/") for n in names)
    assert [n for n in names if any(m in n for m in SANDBOX_MARKERS)] == []
    meta = next(n for n in names if n.endswith(".dist-info/METADATA"))
    requires = re.findall(
        r"^Requires-Dist: (.+)$", zipfile.ZipFile(wheel).read(meta).decode(), re.M
    )
    assert requires and not any("mongomock" in r for r in requires)


def _closure(requirements: list[str]) -> set[str]:
    """The distributions these requirements pull in (no extras), as installed here."""
    seen: set[str] = set()
    todo = [Requirement(r) for r in requirements]
    while todo:
        req = todo.pop()
        name = canonicalize_name(req.name)
        if name in seen or (req.marker is not None and not req.marker.evaluate({"extra": ""})):
            continue
        seen.add(name)
        todo += [Requirement(r) for r in metadata.requires(req.name) or []]
    return seen


def test_the_images_dependencies_do_not_pull_in_mongomock() -> None:
    # The Dockerfile installs exactly `project.dependencies` (read from pyproject.toml).
    assert "['project']['dependencies']" in DOCKERFILE.read_text()
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    closure = _closure(dependencies)
    assert {"starlette", "beanie", "saq"} <= closure
    assert "mongomock" not in closure
    assert "threads-scheduler-sandbox" not in closure
