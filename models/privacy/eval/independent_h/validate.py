#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only).

Checks: ids nh-0001.. in order without gaps; exactly the fields
id/text/names/keep/kind with the right types; texts unique; every
name/keep string occurs in its text on word boundaries; no keep
occurrence overlaps any name occurrence; comments without names have
at least one keep string. Also errors if a name/keep string occurs
inside a longer word (off word boundaries), since every occurrence
of a name counts (tolerated only when that is inside another listed
name, e.g. "Dr Hakim" inside "Dr Hakimi").
Usage: python3 validate.py [path/to/names.jsonl]
"""
import json
import os
import sys

FIELDS = ["id", "text", "names", "keep", "kind"]


def is_word(ch):
    return ch.isalnum() or ch == "_"


def occurrences(text, s):
    """Return (bounded, unbounded) lists of (start, end) spans."""
    bounded, unbounded = [], []
    start = 0
    while True:
        i = text.find(s, start)
        if i < 0:
            break
        j = i + len(s)
        left_ok = i == 0 or not (is_word(text[i - 1]) and is_word(s[0]))
        right_ok = j == len(text) or not (is_word(text[j]) and is_word(s[-1]))
        (bounded if left_ok and right_ok else unbounded).append((i, j))
        start = i + 1
    return bounded, unbounded


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    errors = []
    seen_texts = {}
    n = 0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                errors.append(f"line {lineno}: blank line")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"line {lineno}: bad JSON: {e}")
                continue
            n += 1
            where = f"line {lineno}"
            if not isinstance(obj, dict) or list(obj.keys()) != FIELDS:
                errors.append(f"{where}: fields must be exactly {FIELDS}, got {list(obj) if isinstance(obj, dict) else type(obj)}")
                continue
            rid, text, names, keep, kind = (obj[k] for k in FIELDS)
            where = f"line {lineno} ({rid})"
            if rid != f"nh-{n:04d}":
                errors.append(f"{where}: expected id nh-{n:04d}")
            if not isinstance(text, str) or not text.strip():
                errors.append(f"{where}: text must be a non-empty string")
                continue
            if not isinstance(kind, str) or not kind.strip():
                errors.append(f"{where}: kind must be a non-empty string")
            if not (isinstance(names, list) and all(isinstance(x, str) and x for x in names)):
                errors.append(f"{where}: names must be a list of non-empty strings")
                continue
            if not (isinstance(keep, list) and all(isinstance(x, str) and x for x in keep)):
                errors.append(f"{where}: keep must be a list of non-empty strings")
                continue
            if len(set(names)) != len(names):
                errors.append(f"{where}: duplicate strings in names")
            if len(set(keep)) != len(keep):
                errors.append(f"{where}: duplicate strings in keep")
            if text in seen_texts:
                errors.append(f"{where}: text duplicates line {seen_texts[text]}")
            else:
                seen_texts[text] = lineno
            name_spans = []
            all_name_spans = [sp for s in names for sp in occurrences(text, s)[0]]
            for field, lst in (("names", names), ("keep", keep)):
                for s in lst:
                    if s != s.strip():
                        errors.append(f"{where}: {field} string {s!r} has surrounding whitespace")
                    b, u = occurrences(text, s)
                    if not b:
                        errors.append(f"{where}: {field} string {s!r} not found on word boundaries")
                    for (i, j) in u:
                        # tolerated only if inside a longer listed name (e.g. "Rav" in "Ravinder ...")
                        inside = field == "names" and any(a <= i and j <= c and (a, c) != (i, j)
                                                          for (a, c) in all_name_spans)
                        if not inside:
                            errors.append(f"{where}: {field} string {s!r} also occurs inside a longer word at {i}")
                    if field == "names":
                        name_spans.extend(b)
                    else:
                        for (i, j) in b:
                            for (a, c) in name_spans:
                                if i < c and a < j:
                                    errors.append(f"{where}: keep {s!r} at {i} overlaps a name occurrence at {a}")
            if not names and not keep:
                errors.append(f"{where}: no names and no keep strings")
    if n == 0:
        errors.append("file is empty")
    for e in errors:
        print("ERROR", e)
    print(f"{n} records, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
