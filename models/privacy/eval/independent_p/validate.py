#!/usr/bin/env python3
"""Standalone stdlib-only validator for names.jsonl (corpus P, prefix np)."""
import json, os, sys

FIELDS = ["id", "text", "names", "keep", "kind"]

def isw(c):
    return c.isalnum() or c == "_"

def occurrences(text, s):
    """Start/end of every occurrence of s in text that sits on word boundaries."""
    res, i = [], text.find(s)
    while i != -1:
        j = i + len(s)
        ok_start = i == 0 or not (isw(text[i - 1]) and isw(s[0]))
        ok_end = j == len(text) or not (isw(text[j]) and isw(s[-1]))
        if ok_start and ok_end:
            res.append((i, j))
        i = text.find(s, i + 1)
    return res

def main(path):
    errors, texts = [], {}
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for n, line in enumerate(lines, 1):
        where = f"line {n}"
        try:
            obj = json.loads(line)
        except Exception as e:
            errors.append(f"{where}: bad JSON ({e})"); continue
        if not isinstance(obj, dict) or list(obj.keys()) != FIELDS:
            errors.append(f"{where}: fields must be exactly {FIELDS}, got {list(obj) if isinstance(obj, dict) else type(obj)}"); continue
        want = f"np-{n:04d}"
        if obj["id"] != want:
            errors.append(f"{where}: id {obj['id']!r}, expected {want!r}")
        text = obj["text"]
        if not isinstance(text, str) or not text.strip():
            errors.append(f"{where}: empty or non-string text"); continue
        if text in texts:
            errors.append(f"{where}: duplicate text of line {texts[text]}")
        texts.setdefault(text, n)
        if not isinstance(obj["kind"], str) or not obj["kind"].strip():
            errors.append(f"{where}: kind must be a non-empty string")
        spans = {}
        for fld in ("names", "keep"):
            lst = obj[fld]
            if not isinstance(lst, list) or not all(isinstance(x, str) and x for x in lst):
                errors.append(f"{where}: {fld} must be a list of non-empty strings"); lst = []
            if len(set(lst)) != len(lst):
                errors.append(f"{where}: duplicate strings in {fld}")
            spans[fld] = []
            for s in lst:
                if s != s.strip():
                    errors.append(f"{where}: {fld} string {s!r} has surrounding whitespace")
                occ = occurrences(text, s)
                if not occ:
                    errors.append(f"{where}: {fld} string {s!r} not found on word boundaries")
                spans[fld] += [(a, b, s) for a, b in occ]
        for a, b, k in spans["keep"]:
            for c, d, nm in spans["names"]:
                if a < d and c < b:
                    errors.append(f"{where}: keep {k!r} overlaps name {nm!r}")
        if not obj["names"] and not obj["keep"]:
            errors.append(f"{where}: no names and no keep string")
    for e in errors:
        print(e)
    print(f"{len(lines)} records, {len(errors)} errors")
    return 1 if errors else 0

if __name__ == "__main__":
    p = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    sys.exit(main(p))
