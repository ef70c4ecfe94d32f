"""Relabel parts 1-2 to CODING.md: calm suggestions are negative (2), not neutral (3).

Parts 1 and 2 were written before the coding guide and code a calm suggestion under an
improvement question, or on a suggestion-box card, as 3. CODING.md codes every suggestion 2.
The rule (reviewed by reading all 277 rows it changes; the list is in the datasheets):

    label == 3 and informative and not mixed
    and (question_kind(question) == "improve" or channel == "suggestion")  ->  label 2

Mixed comments (praise and criticism balanced) and non-answers ("n/a", "not sure", "?") keep 3.
Plain accounts do not occur under improvement questions or on suggestion cards in these parts.
The original label is kept in ``label_before_guide``; re-running changes nothing.

    python models/sentiment/data/relabel_to_guide.py [--check]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parents[2]))

from pipelines.sentiment.noncontent import question_kind  # noqa: E402

PARTS = ("feedback_labelled_part1.jsonl", "feedback_labelled_part2.jsonl")


def needs_relabel(row: dict) -> bool:
    """True for a calm suggestion coded 3 that the guide codes 2."""
    return (
        row["label"] == 3
        and bool(row.get("informative", True))
        and not bool(row.get("mixed", False))
        and (question_kind(row.get("question")) == "improve" or row.get("channel") == "suggestion")
    )


def relabel(path: Path, write: bool) -> list[str]:
    """Apply the rule to one JSONL file; returns the ids it changes (or changed before)."""
    rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    changed = []
    for row in rows:
        if "label_before_guide" in row:
            changed.append(row["id"])
        elif needs_relabel(row):
            row["label_before_guide"] = row["label"]
            row["label"] = 2
            changed.append(row["id"])
    if write:
        path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return changed


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="list the ids without writing")
    args = parser.parse_args()
    for name in PARTS:
        ids = relabel(HERE / name, write=not args.check)
        print(f"{name}: {len(ids)} rows 3 -> 2")
        print("  " + ", ".join(ids))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
