#!/usr/bin/env python3
"""Standalone stdlib-only validator for names.jsonl (corpus Z)."""
import json, re, sys, os

PREFIX = "nz"
FIELDS = ["id", "text", "names", "keep", "kind"]

def is_word(c):
    return c.isalnum() or c == "_"

def occurrences(text, s):
    """Start offsets of s in text that sit on word boundaries."""
    out, i = [], text.find(s)
    while i != -1:
        j = i + len(s)
        ok_start = i == 0 or not (is_word(text[i - 1]) and is_word(s[0]))
        ok_end = j == len(text) or not (is_word(text[j]) and is_word(s[-1]))
        if ok_start and ok_end:
            out.append((i, j))
        i = text.find(s, i + 1)
    return out

def main(path):
    errs = []
    seen = set()
    n = 0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                errs.append(f"line {lineno}: blank line")
                continue
            try:
                o = json.loads(line)
            except Exception as e:
                errs.append(f"line {lineno}: bad JSON {e}")
                continue
            n += 1
            if list(o.keys()) != FIELDS:
                errs.append(f"line {lineno}: fields {list(o.keys())}")
                continue
            want = f"{PREFIX}-{n:04d}"
            if o["id"] != want:
                errs.append(f"line {lineno}: id {o['id']} != {want}")
            t = o["text"]
            if not isinstance(t, str) or not t.strip():
                errs.append(f"{o['id']}: empty text")
                continue
            if t in seen:
                errs.append(f"{o['id']}: duplicate text")
            seen.add(t)
            if not isinstance(o["kind"], str) or not o["kind"].strip():
                errs.append(f"{o['id']}: empty kind")
            for fld in ("names", "keep"):
                v = o[fld]
                if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                    errs.append(f"{o['id']}: {fld} must be list of non-empty strings")
                if len(set(v)) != len(v):
                    errs.append(f"{o['id']}: duplicate in {fld}")
            spans = []
            for s in o["names"]:
                if s != s.strip():
                    errs.append(f"{o['id']}: name has outer whitespace {s!r}")
                occ = occurrences(t, s)
                if not occ:
                    errs.append(f"{o['id']}: name {s!r} not found on word boundaries")
                spans += occ
            for s in o["keep"]:
                occ = occurrences(t, s)
                if not occ:
                    errs.append(f"{o['id']}: keep {s!r} not found on word boundaries")
                for a, b in occ:
                    for c, d in spans:
                        if a < d and c < b:
                            errs.append(f"{o['id']}: keep {s!r} overlaps a name at {c}-{d}")
                if s in o["names"]:
                    errs.append(f"{o['id']}: {s!r} in both names and keep")
            if not o["names"] and not o["keep"]:
                errs.append(f"{o['id']}: no names and no keep")
    for e in errs:
        print(e)
    print(f"{n} records, {len(errs)} errors")
    return 1 if errs or n == 0 else 0

if __name__ == "__main__":
    p = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    sys.exit(main(p))
