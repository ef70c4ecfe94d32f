"""Build the default sentiment model: ``python models/sentiment/train.py`` (``make models``).

Reads ``config.yaml`` and the labelled data next to this file, trains, exports safetensors +
ONNX (fp32, int8 when accepted) into ``build/<version>/`` with a ``manifest.json``, and
points ``build/default`` (and ``build/current``, unless an organisation build is current)
at it. Re-running with unchanged config and data does nothing; ``--force`` retrains.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

# Passive OpenMP waiting: with busy-waiting, 2 training threads on a 2-core machine that is
# also running anything else slow down by an order of magnitude (measured). Set before torch loads.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
os.environ.setdefault("HF_HUB_OFFLINE", "1")

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[1]))

from pipelines.sentiment.build import build_version, refresh_build, run_build  # noqa: E402
from pipelines.sentiment.data import TrainConfig, collect_default_data  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--config", type=Path, default=HERE / "config.yaml")
    parser.add_argument("--data-dir", type=Path, default=HERE / "data")
    parser.add_argument("--build-dir", type=Path, default=HERE / "build")
    parser.add_argument("--force", action="store_true", help="retrain even if this version is built")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value (experiments), e.g. --set epochs=2",
    )
    parser.add_argument("--prefix", default="default", help="version prefix (experiments use another)")
    parser.add_argument("--no-current", action="store_true", help="do not move build/current (experiments)")
    parser.add_argument(
        "--refresh",
        action="store_true",
        help="re-quantise and re-measure the existing build with the current code (no training)",
    )
    args = parser.parse_args(argv)

    cfg = TrainConfig.from_yaml(args.config)
    for item in args.set:
        key, _, value = item.partition("=")
        current = getattr(cfg, key)
        setattr(
            cfg,
            key,
            type(current)(json.loads(value))
            if not isinstance(current, str | list)
            else (json.loads(value) if isinstance(current, list) else value),
        )
    args.build_dir.mkdir(parents=True, exist_ok=True)
    sets, hashes = collect_default_data(args.data_dir, cfg)
    if args.refresh:
        version = build_version(args.prefix, cfg, hashes)
        manifest = refresh_build(args.build_dir / version, sets, cfg)
        print(
            json.dumps(
                {"version": version, "quantization": manifest["quantization"], "metrics": manifest["metrics"]}, indent=1
            )
        )
        return 0
    kind = "default" if args.prefix == "default" else "experiment"
    result = run_build(
        args.build_dir,
        sets,
        hashes,
        cfg,
        prefix=args.prefix,
        kind=kind,
        force=args.force,
        set_current=False if args.no_current else None,
    )
    print(json.dumps({"version": result.version, "folder": str(result.folder), "metrics": result.metrics}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
