#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only).

Checks: ids in order without gaps, exact field set and types, unique texts,
every name/keep string occurs in its text on word boundaries, no keep
occurrence overlaps a name occurrence, comments without names carry at least
one keep string. Exits 0 when everything passes, 1 otherwise.
"""
import json
import os
import sys

FIELDS = ["id", "text", "names", "keep", "kind"]
PREFIX = "nag"


def is_word(c):
    return c.isalnum() or c == "_"


def occurrences(text, s):
    """Start/end spans of s in text that sit on word boundaries."""
    out = []
    i = text.find(s)
    while i != -1:
        j = i + len(s)
        ok_start = i == 0 or not (is_word(text[i - 1]) and is_word(s[0]))
        ok_end = j == len(text) or not (is_word(text[j]) and is_word(s[-1]))
        if ok_start and ok_end:
            out.append((i, j))
        i = text.find(s, i + 1)
    return out


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    errors = []
    texts = {}
    n = 0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                errors.append(f"line {lineno}: blank line")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as ex:
                errors.append(f"line {lineno}: bad JSON: {ex}")
                continue
            n += 1
            where = f"line {lineno}"
            if not isinstance(obj, dict) or list(obj.keys()) != FIELDS:
                errors.append(f"{where}: fields must be exactly {FIELDS}, got {list(obj) if isinstance(obj, dict) else type(obj)}")
                continue
            want = f"{PREFIX}-{n:04d}"
            if obj["id"] != want:
                errors.append(f"{where}: id {obj['id']!r}, expected {want!r}")
            text = obj["text"]
            if not isinstance(text, str) or not text.strip():
                errors.append(f"{where}: text must be a non-empty string")
                continue
            if text in texts:
                errors.append(f"{where}: duplicate text (first at line {texts[text]})")
            else:
                texts[text] = lineno
            if not isinstance(obj["kind"], str) or not obj["kind"].strip():
                errors.append(f"{where}: kind must be a non-empty string")
            spans = {}
            for field in ("names", "keep"):
                val = obj[field]
                if not isinstance(val, list) or not all(isinstance(x, str) and x for x in val):
                    errors.append(f"{where}: {field} must be a list of non-empty strings")
                    spans[field] = []
                    continue
                if len(set(val)) != len(val):
                    errors.append(f"{where}: {field} has duplicate strings")
                acc = []
                for s in val:
                    if s != s.strip():
                        errors.append(f"{where}: {field} string {s!r} has outer whitespace")
                    occ = occurrences(text, s)
                    if not occ:
                        errors.append(f"{where}: {field} string {s!r} not found on word boundaries")
                    acc.extend((a, b, s) for a, b in occ)
                spans[field] = acc
            for ka, kb, ks in spans.get("keep", []):
                for na, nb, ns in spans.get("names", []):
                    if ka < nb and na < kb:
                        errors.append(f"{where}: keep {ks!r} overlaps name {ns!r}")
            if not obj["names"] and not obj["keep"]:
                errors.append(f"{where}: no names and no keep strings")
    if n == 0:
        errors.append("no records")
    for err in errors:
        print(err)
    print(f"{n} records, {len(errors)} problems")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
