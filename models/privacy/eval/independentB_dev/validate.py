#!/usr/bin/env python3
"""Standalone validator for names.jsonl (standard library only).

Checks: valid JSON per line, exact field set, id format and uniqueness,
unique texts, types, every name/keep string occurs in its text, no keep
occurrence overlaps a name occurrence, and no name string occurs only
inside a longer word. Stricter extra checks (also errors): every
occurrence of a keep string must sit on word boundaries, and every
occurrence of a name string must either sit on word boundaries or lie
inside a longer bounded name occurrence (nested names such as 'Fin' in
'Finlay'), because every occurrence counts towards the gold mask.

Usage: python3 validate.py [path/to/names.jsonl]
Exit status 0 if valid, 1 otherwise.
"""
import json
import re
import sys
from collections import Counter
from pathlib import Path

FIELDS = {"id", "text", "names", "keep", "kind"}
ID_RE = re.compile(r"^nd-\d{4}$")


def occurrences(text, s):
    out, start = [], 0
    while True:
        i = text.find(s, start)
        if i < 0:
            return out
        out.append((i, i + len(s)))
        start = i + 1


def bounded(text, a, b):
    before = text[a - 1] if a > 0 else " "
    after = text[b] if b < len(text) else " "
    # a boundary is needed only where the string itself starts/ends with a word char
    ok_left = not (text[a].isalnum() and before.isalnum())
    ok_right = not (text[b - 1].isalnum() and after.isalnum())
    return ok_left and ok_right


def validate_records(records):
    errors = []
    ids, texts = set(), set()
    for n, rec in records:
        where = f"line {n}"
        if not isinstance(rec, dict):
            errors.append(f"{where}: not an object")
            continue
        if set(rec) != FIELDS:
            errors.append(f"{where}: fields {sorted(rec)} != {sorted(FIELDS)}")
            continue
        rid = rec["id"]
        where = f"line {n} ({rid})"
        if not isinstance(rid, str) or not ID_RE.match(rid):
            errors.append(f"{where}: bad id")
        if rid in ids:
            errors.append(f"{where}: duplicate id")
        ids.add(rid)
        text = rec["text"]
        if not isinstance(text, str) or not text.strip():
            errors.append(f"{where}: text must be a non-empty string")
            continue
        if text in texts:
            errors.append(f"{where}: duplicate text")
        texts.add(text)
        if not isinstance(rec["kind"], str) or not rec["kind"]:
            errors.append(f"{where}: kind must be a non-empty string")
        for field in ("names", "keep"):
            v = rec[field]
            if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                errors.append(f"{where}: {field} must be a list of non-empty strings")
            elif len(set(v)) != len(v):
                errors.append(f"{where}: duplicate entries in {field}")
        if errors and errors[-1].startswith(where):
            continue
        name_spans, per_name = [], {}
        for name in rec["names"]:
            occ = occurrences(text, name)
            if not occ:
                errors.append(f"{where}: name {name!r} not in text")
                continue
            per_name[name] = occ
            name_spans.extend(occ)
        bounded_spans = [o for o in name_spans if bounded(text, *o)]
        for name, occ in per_name.items():
            good = [o for o in occ if bounded(text, *o)]
            if not good:
                errors.append(f"{where}: name {name!r} occurs only inside a longer word")
                continue
            # an unbounded occurrence is tolerated only when a longer, bounded
            # name occurrence covers it (nested names, e.g. Fin inside Finlay)
            for a, b in occ:
                if (a, b) in good:
                    continue
                if not any(c <= a and b <= d and (c, d) != (a, b) for c, d in bounded_spans):
                    errors.append(f"{where}: name {name!r} at {a} sits inside a longer word")
        for k in rec["keep"]:
            occ = occurrences(text, k)
            if not occ:
                errors.append(f"{where}: keep {k!r} not in text")
                continue
            if not all(bounded(text, *o) for o in occ):
                errors.append(f"{where}: keep {k!r} has an occurrence inside a longer word")
            for a, b in occ:
                for c, d in name_spans:
                    if a < d and c < b:
                        errors.append(f"{where}: keep {k!r} at {a} overlaps a name at {c}")
    return errors


def load(path):
    records, errors = [], []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                errors.append(f"line {n}: blank line")
                continue
            try:
                records.append((n, json.loads(line)))
            except json.JSONDecodeError as e:
                errors.append(f"line {n}: invalid JSON ({e})")
    return records, errors


def main():
    path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).with_name("names.jsonl")
    records, errors = load(path)
    errors += validate_records(records)
    recs = [r for _, r in records if isinstance(r, dict)]
    with_names = sum(1 for r in recs if r.get("names"))
    n_names = sum(len(r.get("names", [])) for r in recs)
    n_keep = sum(len(r.get("keep", [])) for r in recs)
    print(f"{path.name}: {len(recs)} records, {with_names} with names, "
          f"{len(recs) - with_names} without, {n_names} name strings, {n_keep} keep strings")
    for e in errors:
        print("ERROR", e)
    print("OK" if not errors else f"FAILED with {len(errors)} error(s)")
    return 0 if not errors else 1


if __name__ == "__main__":
    sys.exit(main())
