#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only). Exit 0 if valid."""
import json, sys, os

FIELDS = ["id", "text", "names", "keep", "kind"]
PREFIX = "nak"

def isword(c):
    return c.isalnum() or c == "_"

def occurrences(text, s):
    out, i = [], text.find(s)
    while i != -1:
        out.append((i, i + len(s)))
        i = text.find(s, i + 1)
    return out

def on_boundary(text, a, b):
    left_ok = a == 0 or not (isword(text[a - 1]) and isword(text[a]))
    right_ok = b == len(text) or not (isword(text[b - 1]) and isword(text[b]))
    return left_ok and right_ok

def main(path):
    errs = []
    seen = set()
    n = 0
    with open(path, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                errs.append(f"line {ln}: blank line"); continue
            try:
                o = json.loads(line)
            except Exception as e:
                errs.append(f"line {ln}: bad json {e}"); continue
            n += 1
            if list(o.keys()) != FIELDS:
                errs.append(f"line {ln}: fields {list(o.keys())} != {FIELDS}")
                continue
            want = f"{PREFIX}-{n:04d}"
            if o["id"] != want:
                errs.append(f"line {ln}: id {o['id']} expected {want}")
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
                elif len(set(v)) != len(v):
                    errs.append(f"{o['id']}: duplicate strings in {fld}")
            if errs and errs[-1].startswith(o["id"] + ": names must") or errs and errs[-1].startswith(o["id"] + ": keep must"):
                continue
            name_spans = []
            for s in o["names"]:
                occ = occurrences(t, s)
                if not occ:
                    errs.append(f"{o['id']}: name {s!r} not in text")
                for a, b in occ:
                    if not on_boundary(t, a, b):
                        errs.append(f"{o['id']}: name {s!r} at {a} not on word boundaries")
                    name_spans.append((a, b))
                if s != s.strip():
                    errs.append(f"{o['id']}: name {s!r} has outer whitespace")
            for s in o["keep"]:
                occ = occurrences(t, s)
                if not occ:
                    errs.append(f"{o['id']}: keep {s!r} not in text")
                for a, b in occ:
                    if not on_boundary(t, a, b):
                        errs.append(f"{o['id']}: keep {s!r} at {a} not on word boundaries")
                    for c, d in name_spans:
                        if a < d and c < b:
                            errs.append(f"{o['id']}: keep {s!r} overlaps a name occurrence")
            if not o["names"] and not o["keep"]:
                errs.append(f"{o['id']}: no names and no keep")
    for e in errs:
        print(e)
    print(f"{n} records, {len(errs)} errors")
    return 1 if errs or n == 0 else 0

if __name__ == "__main__":
    p = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    sys.exit(main(p))
