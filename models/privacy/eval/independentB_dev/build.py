#!/usr/bin/env python3
"""Parse the hand-written src/*.txt files into names.jsonl and validate.

Source format (one record per block, blocks separated by a line '%%'):

    kind: <label>
    <text line 1>
    <text line 2 ...>          (lines are joined with a newline)
    names: A | B | C           (optional; '\\n' means a line break)
    keep: X | Y                (optional)

Lines at the very top of a file starting with '#' before the first '%%'
are file comments and are ignored.
"""
import json
import sys
from collections import Counter
from pathlib import Path

import validate

HERE = Path(__file__).resolve().parent


def split_field(s):
    return [p.strip().replace("\\n", "\n") for p in s.split("|") if p.strip()]


def parse_file(path):
    raw = path.read_text(encoding="utf-8")
    blocks = raw.split("\n%%\n")
    out = []
    for bi, block in enumerate(blocks):
        lines = block.strip("\n").split("\n")
        if bi == 0 and all(l.startswith("#") or not l.strip() for l in lines):
            continue
        if not lines or not lines[0].startswith("kind:"):
            raise SystemExit(f"{path.name} block {bi}: must start with 'kind:' -> {lines[:2]}")
        kind = lines[0][5:].strip()
        text_lines, names, keep = [], [], []
        for l in lines[1:]:
            if l.startswith("names:"):
                names = split_field(l[6:])
            elif l.startswith("keep:"):
                keep = split_field(l[5:])
            else:
                if names or keep:
                    raise SystemExit(f"{path.name} block {bi}: text after names/keep")
                text_lines.append(l.rstrip())
        text = "\n".join(text_lines).strip()
        out.append({"text": text, "names": names, "keep": keep, "kind": kind,
                    "_src": f"{path.name}#{bi}"})
    return out


def main():
    recs = []
    for p in sorted((HERE / "src").glob("*.txt")):
        recs.extend(parse_file(p))
    rows = []
    for i, r in enumerate(recs, 1):
        rows.append({"id": f"nd-{i:04d}", "text": r["text"], "names": r["names"],
                     "keep": r["keep"], "kind": r["kind"]})
    errors = validate.validate_records(list(enumerate(rows, 1)))
    for e in errors:
        n = int(e.split()[1]) if e.startswith("line ") else None
        src = recs[n - 1]["_src"] if n else "?"
        print("ERROR", src, e)
    kinds = Counter(r["kind"] for r in rows)
    with_names = sum(1 for r in rows if r["names"])
    print(f"{len(rows)} comments, {with_names} with names, {len(rows) - with_names} without, "
          f"{sum(len(r['names']) for r in rows)} name strings, {sum(len(r['keep']) for r in rows)} keep strings")
    for k, c in sorted(kinds.items()):
        print(f"  {k:28s} {c}")
    if errors:
        print(f"FAILED with {len(errors)} error(s)")
        return 1
    with open(HERE / "names.jsonl", "w", encoding="utf-8") as fh:
        for r in rows:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    print("wrote names.jsonl")
    return 0


if __name__ == "__main__":
    sys.exit(main())
