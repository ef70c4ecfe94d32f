#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only).

Checks: ids nl-0001.. in order with no gaps; exactly the fields id/text/names/keep/kind;
texts unique; every names/keep string occurs in its text on word boundaries;
no keep occurrence overlaps a name occurrence; comments without names carry a keep string.
Usage: python3 validate.py [path/to/names.jsonl]
"""
import json
import os
import sys

FIELDS = ["id", "text", "names", "keep", "kind"]


def is_word(ch):
    return ch.isalnum() or ch == "_"


def occurrences(text, s):
    """All start offsets of s in text that sit on word boundaries."""
    out = []
    i = text.find(s)
    while i != -1:
        j = i + len(s)
        left_ok = i == 0 or not (is_word(text[i - 1]) and is_word(s[0]))
        right_ok = j == len(text) or not (is_word(text[j]) and is_word(s[-1]))
        if left_ok and right_ok:
            out.append((i, j))
        i = text.find(s, i + 1)
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    errors = []
    seen_texts = {}
    n = 0
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                errors.append(f"line {lineno}: blank line")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"line {lineno}: bad JSON: {e}")
                continue
            n += 1
            if list(obj.keys()) != FIELDS:
                errors.append(f"line {lineno}: fields {list(obj.keys())} != {FIELDS}")
                continue
            want = f"nl-{n:04d}"
            if obj["id"] != want:
                errors.append(f"line {lineno}: id {obj['id']!r}, expected {want!r}")
            text = obj["text"]
            if not isinstance(text, str) or not text.strip():
                errors.append(f"{obj['id']}: empty or non-string text")
                continue
            if text in seen_texts:
                errors.append(f"{obj['id']}: duplicate text of {seen_texts[text]}")
            seen_texts[text] = obj["id"]
            if not isinstance(obj["kind"], str) or not obj["kind"].strip():
                errors.append(f"{obj['id']}: empty kind")
            for fld in ("names", "keep"):
                v = obj[fld]
                if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                    errors.append(f"{obj['id']}: {fld} must be a list of non-empty strings")
                if isinstance(v, list) and len(set(v)) != len(v):
                    errors.append(f"{obj['id']}: duplicate strings in {fld}")
            name_spans = []
            for s in obj["names"]:
                if s != s.strip():
                    errors.append(f"{obj['id']}: name {s!r} has outer whitespace")
                occ = occurrences(text, s)
                if not occ:
                    errors.append(f"{obj['id']}: name {s!r} not found on word boundaries")
                name_spans.extend(occ)
            for s in obj["keep"]:
                if s != s.strip():
                    errors.append(f"{obj['id']}: keep {s!r} has outer whitespace")
                occ = occurrences(text, s)
                if not occ:
                    errors.append(f"{obj['id']}: keep {s!r} not found on word boundaries")
                for a, b in occ:
                    for c, d in name_spans:
                        if a < d and c < b:
                            errors.append(f"{obj['id']}: keep {s!r} at {a} overlaps a name at {c}-{d}")
            if not obj["names"] and not obj["keep"]:
                errors.append(f"{obj['id']}: no names and no keep string")
    if n == 0:
        errors.append("no records")
    for e in errors:
        print(e)
    print(f"{n} records, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
