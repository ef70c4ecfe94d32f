"""Build the theme category classifier: ``python models/themes/train_classifier.py`` (part of ``make models``).

The classifier (:mod:`pipelines.themes.classifier`) is otherwise trained by the first theme run
that needs it. Building it here puts it in ``models/themes/build/classifier/`` under the key of
everything it depends on (taxonomy, ``classifier`` config, coded training files, encoder, seed),
so runs, tests and copies of the models folder load it instead of training it again (about
100 s on 2 cores). Reviewers' recodes are not part of this build: a warehouse with recodes
trains its own on the next theme run. Prints the file and its training summary.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from pipelines.config import Settings  # noqa: E402
from pipelines.themes.context import get_embedder, scorer, themes_dir  # noqa: E402
from pipelines.themes.model import load_config, load_taxonomy  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    """Load the shipped config and taxonomy and build (or find) the classifier."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    settings = Settings.from_env({**os.environ, "FEEDBACK_HOME": str(ROOT)}).with_(models_dir=ROOT / "models")
    folder = themes_dir(settings)
    cfg = load_config(folder / "config.yaml")
    if not cfg["classifier"].get("enabled"):
        print("classifier.enabled is false in models/themes/config.yaml: nothing to build")
        return 0
    categories = load_taxonomy(folder / "taxonomy.yaml")
    model = scorer(categories, get_embedder(settings, cfg), cfg, settings)
    meta = getattr(model, "meta", {})
    path = folder / "build" / "classifier" / f"classifier-{meta.get('key')}.safetensors"
    if not path.is_file():
        print(f"the classifier was not written to {path}", file=sys.stderr)
        return 1
    print(json.dumps({"classifier": str(path.relative_to(ROOT)), "encoder": meta.get("encoder"), "key": meta["key"]}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
