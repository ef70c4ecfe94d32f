"""Build folders of the sentiment model and the pointer files that name the served one.

``models/sentiment/build/<version>/`` holds one build (``manifest.json``, ``hf/``, ONNX files).
The file ``build/current`` names the version the pipeline serves (``feedback train sentiment``
moves it to an organisation-tuned version); ``build/default`` names the shipped one.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

CURRENT_FILE = "current"
DEFAULT_FILE = "default"


def current_build(build_dir: Path, pointer: str = CURRENT_FILE) -> Path | None:
    """The build folder named by ``build_dir/<pointer>`` (falls back to ``default``), or None."""
    for name in (pointer, DEFAULT_FILE):
        file = build_dir / name
        if file.is_file():
            version = file.read_text(encoding="utf-8").strip()
            folder = build_dir / version
            if version and (folder / "manifest.json").is_file():
                return folder
    return None


def read_manifest(build: Path) -> dict[str, Any]:
    """The ``manifest.json`` of a build folder."""
    return json.loads((build / "manifest.json").read_text(encoding="utf-8"))


def write_manifest(build: Path, manifest: dict[str, Any]) -> None:
    """Write ``manifest.json`` into a build folder (indented JSON, non-JSON values as text)."""
    (build / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")


def update_pointers(build_dir: Path, version: str, kind: str, set_current: bool | None) -> None:
    """Point ``default`` (for a default build) and, when asked, ``current`` at ``version``.

    Args:
        build_dir: folder holding the builds and the pointer files.
        version: the build just made (or found already built).
        kind: ``default``, ``organisation`` or ``experiment``.
        set_current: move ``current``; None decides by kind: always for non-default builds,
            and for a default build unless ``current`` names an organisation build.
    """
    if kind == "default":
        (build_dir / DEFAULT_FILE).write_text(version + "\n", encoding="utf-8")
    if set_current is None:
        if kind != "default":
            set_current = True
        else:
            cur = build_dir / CURRENT_FILE
            name = cur.read_text(encoding="utf-8").strip() if cur.is_file() else ""
            manifest = build_dir / name / "manifest.json" if name else None
            kind_now = json.loads(manifest.read_text())["kind"] if manifest is not None and manifest.is_file() else None
            # An organisation build stays current; anything else follows the new default.
            set_current = kind_now != "organisation"
    if set_current:
        (build_dir / CURRENT_FILE).write_text(version + "\n", encoding="utf-8")
