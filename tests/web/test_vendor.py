"""Vendored front-end files: pinned, checksummed, licensed, and the only scripts pages load."""

from __future__ import annotations

import hashlib
import re

from web.templating import STATIC_DIR, TEMPLATES_DIR

VENDOR = STATIC_DIR / "vendor"


def manifest() -> list[list[str]]:
    lines = (VENDOR / "MANIFEST").read_text().splitlines()
    return [line.split("\t") for line in lines if line and not line.startswith("#")]


def test_every_vendored_file_matches_its_checksum() -> None:
    rows = manifest()
    # Top-level files only: static/vendor/graphiql/ belongs to the GraphQL API and has its own.
    files = {p.name for p in VENDOR.iterdir() if p.is_file() and p.name != "MANIFEST"}
    assert {row[0] for row in rows} == files
    for name, package, version, _, sha256 in rows:
        digest = hashlib.sha256((VENDOR / name).read_bytes()).hexdigest()
        assert digest == sha256, f"{name} is not {package}@{version} as recorded"


def test_every_script_has_its_license_beside_it() -> None:
    for name, *_ in manifest():
        if name.endswith(".js"):
            assert (VENDOR / name.replace(".min.js", ".LICENSE")).exists(), name


def test_pages_load_nothing_from_elsewhere() -> None:
    layout = (TEMPLATES_DIR / "layout.html").read_text()
    scripts = re.findall(r'<script src="([^"]+)"', layout)
    assert scripts[:2] == [
        "/static/vendor/htmx-2.0.11.min.js",
        "/static/vendor/htmx-ext-sse-2.2.4.min.js",
    ]
    for path in TEMPLATES_DIR.rglob("*.html"):
        text = path.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', text), path
