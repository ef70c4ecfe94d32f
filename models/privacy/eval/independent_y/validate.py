#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only).

Checks: ids in order with no gaps, exact field set, unique texts, every
name/keep string occurs in its text on word boundaries, no keep occurrence
overlaps any name occurrence, and comments without names carry a keep string.
Usage: python3 validate.py [path/to/names.jsonl]
"""
import json
import os
import sys

FIELDS = {"id", "text", "names", "keep", "kind"}
PREFIX = "ny"


def is_word(ch):
    return ch.isalnum() or ch == "_"


def occurrences(text, s):
    """Case-sensitive occurrences of s that sit on word boundaries."""
    out = []
    start = 0
    while True:
        i = text.find(s, start)
        if i < 0:
            return out
        j = i + len(s)
        ok_left = i == 0 or not (is_word(text[i - 1]) and is_word(s[0]))
        ok_right = j == len(text) or not (is_word(text[j]) and is_word(s[-1]))
        if ok_left and ok_right:
            out.append((i, j))
        start = i + 1


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    errors = []
    texts = set()
    n = 0
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                errors.append(f"line {lineno}: blank line")
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"line {lineno}: bad JSON: {e}")
                continue
            n += 1
            if not isinstance(rec, dict) or set(rec) != FIELDS:
                errors.append(f"line {lineno}: fields must be exactly {sorted(FIELDS)}")
                continue
            want = f"{PREFIX}-{n:04d}"
            if rec["id"] != want:
                errors.append(f"line {lineno}: id {rec['id']!r}, expected {want!r}")
            text = rec["text"]
            if not isinstance(text, str) or not text.strip():
                errors.append(f"{rec['id']}: empty or non-string text")
                continue
            if text in texts:
                errors.append(f"{rec['id']}: duplicate text")
            texts.add(text)
            if not isinstance(rec["kind"], str) or not rec["kind"].strip():
                errors.append(f"{rec['id']}: kind must be a non-empty string")
            for field in ("names", "keep"):
                v = rec[field]
                if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                    errors.append(f"{rec['id']}: {field} must be a list of non-empty strings")
                    rec[field] = []
                elif len(set(v)) != len(v):
                    errors.append(f"{rec['id']}: duplicate strings in {field}")
            name_spans = []
            for s in rec["names"]:
                occ = occurrences(text, s)
                if not occ:
                    errors.append(f"{rec['id']}: name {s!r} not found on word boundaries")
                name_spans.extend(occ)
            for s in rec["keep"]:
                occ = occurrences(text, s)
                if not occ:
                    errors.append(f"{rec['id']}: keep {s!r} not found on word boundaries")
                for (a, b) in occ:
                    for (c, d) in name_spans:
                        if a < d and c < b:
                            errors.append(
                                f"{rec['id']}: keep {s!r} at {a} overlaps a name occurrence at {c}")
            if not rec["names"] and not rec["keep"]:
                errors.append(f"{rec['id']}: no names and no keep strings")
    if n == 0:
        errors.append("no records")
    for e in errors:
        print(e)
    print(f"{n} records, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
