#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only). Exit 0 if valid."""
import json, sys, os

PATH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
FIELDS = ["id", "text", "names", "keep", "kind"]


def isword(c):
    return c.isalnum() or c == "_"


def occurrences(text, s):
    """Start offsets of s in text that sit on word boundaries."""
    res, i = [], text.find(s)
    while i != -1:
        j = i + len(s)
        ok_l = i == 0 or not (isword(s[0]) and isword(text[i - 1]))
        ok_r = j == len(text) or not (isword(s[-1]) and isword(text[j]))
        if ok_l and ok_r:
            res.append((i, j))
        i = text.find(s, i + 1)
    return res


def main():
    errs = []
    seen = set()
    n = withn = 0
    with open(PATH, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for k, line in enumerate(lines, 1):
        try:
            r = json.loads(line)
        except Exception as e:
            errs.append(f"line {k}: bad json {e}")
            continue
        n += 1
        if list(r.keys()) != FIELDS:
            errs.append(f"line {k}: fields {list(r.keys())}")
            continue
        want = "nal-%04d" % k
        if r["id"] != want:
            errs.append(f"line {k}: id {r['id']} expected {want}")
        t = r["text"]
        if not isinstance(t, str) or not t.strip():
            errs.append(f"{r['id']}: empty text")
            continue
        if t in seen:
            errs.append(f"{r['id']}: duplicate text")
        seen.add(t)
        if not isinstance(r["kind"], str) or not r["kind"].strip():
            errs.append(f"{r['id']}: empty kind")
        for fld in ("names", "keep"):
            v = r[fld]
            if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() == x and x for x in v):
                errs.append(f"{r['id']}: {fld} must be list of non-empty trimmed strings")
            elif len(set(v)) != len(v):
                errs.append(f"{r['id']}: duplicate in {fld}")
        spans = []
        for s in r["names"]:
            occ = occurrences(t, s)
            if not occ:
                errs.append(f"{r['id']}: name {s!r} not found on word boundaries")
            spans += occ
        for s in r["keep"]:
            occ = occurrences(t, s)
            if not occ:
                errs.append(f"{r['id']}: keep {s!r} not found on word boundaries")
            for (a, b) in occ:
                for (c, d) in spans:
                    if a < d and c < b:
                        errs.append(f"{r['id']}: keep {s!r} overlaps a name occurrence")
        if r["names"]:
            withn += 1
        elif not r["keep"]:
            errs.append(f"{r['id']}: no names and no keep")
    for e in errs:
        print(e)
    print(f"{n} comments, {withn} with names, {n - withn} without, {len(errs)} errors")
    sys.exit(1 if errs or n == 0 else 0)


if __name__ == "__main__":
    main()
