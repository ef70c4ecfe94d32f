#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only)."""
import json, re, sys

def occ(text, s):
    out, i = [], text.find(s)
    while i != -1:
        out.append((i, i + len(s)))
        i = text.find(s, i + 1)
    return out

def wb(text, a, b):
    return (a == 0 or not text[a-1].isalnum() and text[a-1] != '_') and (b == len(text) or not text[b].isalnum() and text[b] != '_')

def main(path):
    errs, ids, texts = [], set(), set()
    fields = {"id", "text", "names", "keep", "kind"}
    n = 0
    with open(path, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            if not line.strip():
                errs.append(f"line {ln}: blank line"); continue
            try:
                o = json.loads(line)
            except Exception as e:
                errs.append(f"line {ln}: bad JSON {e}"); continue
            n += 1
            if set(o) != fields:
                errs.append(f"line {ln}: fields {sorted(o)}"); continue
            exp = f"ng-{n:04d}"
            if o["id"] != exp: errs.append(f"line {ln}: id {o['id']} expected {exp}")
            if o["id"] in ids: errs.append(f"line {ln}: dup id")
            ids.add(o["id"])
            t = o["text"]
            if not isinstance(t, str) or not t.strip(): errs.append(f"{o['id']}: empty text")
            if t in texts: errs.append(f"{o['id']}: duplicate text")
            texts.add(t)
            if not all(isinstance(x, str) and x for x in o["names"] + o["keep"]) or not isinstance(o["kind"], str) or not o["kind"]:
                errs.append(f"{o['id']}: bad list/kind types")
            if len(set(o["names"])) != len(o["names"]): errs.append(f"{o['id']}: dup name string")
            if len(set(o["keep"])) != len(o["keep"]): errs.append(f"{o['id']}: dup keep string")
            both = set(o["names"]) & set(o["keep"])
            if both: errs.append(f"{o['id']}: both name and keep {both}")
            nspans = []
            for s in o["names"]:
                oc = occ(t, s)
                if not oc: errs.append(f"{o['id']}: name {s!r} not in text")
                for a, b in oc:
                    if not wb(t, a, b): errs.append(f"{o['id']}: name {s!r} inside longer word at {a}")
                    nspans.append((a, b))
            for s in o["keep"]:
                oc = occ(t, s)
                if not oc: errs.append(f"{o['id']}: keep {s!r} not in text")
                if not any(wb(t, a, b) for a, b in oc): errs.append(f"{o['id']}: keep {s!r} never on word boundaries")
                for a, b in oc:
                    for c, d in nspans:
                        if a < d and c < b: errs.append(f"{o['id']}: keep {s!r} overlaps name at {a}")
            if not o["names"] and not o["keep"]: errs.append(f"{o['id']}: no names and no keep")
    for e in errs: print(e)
    print(f"{n} records, {len(errs)} errors")
    return 1 if errs else 0

if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else __file__.rsplit('/', 1)[0] + "/names.jsonl"))
