#!/usr/bin/env python3
"""Standalone stdlib-only validator for names.jsonl (corpus S, prefix ns)."""
import json, os, sys

PATH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
FIELDS = ["id", "text", "names", "keep", "kind"]


def isw(c):
    return c.isalnum() or c == "_"


def occurrences(text, s):
    out, i = [], text.find(s)
    while i != -1:
        out.append((i, i + len(s)))
        i = text.find(s, i + 1)
    return out


def on_boundaries(text, a, b):
    s = text[a:b]
    if isw(s[0]) and a > 0 and isw(text[a - 1]):
        return False
    if isw(s[-1]) and b < len(text) and isw(text[b]):
        return False
    return True


def main():
    errs = []
    seen = set()
    n = 0
    with open(PATH, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            try:
                o = json.loads(line)
            except Exception as e:
                errs.append(f"line {lineno}: bad json {e}")
                continue
            n += 1
            if list(o.keys()) != FIELDS:
                errs.append(f"line {lineno}: fields {list(o.keys())}")
                continue
            if o["id"] != f"ns-{n:04d}":
                errs.append(f"line {lineno}: id {o['id']} expected ns-{n:04d}")
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
                if not isinstance(v, list) or not all(isinstance(x, str) and x.strip() for x in v):
                    errs.append(f"{o['id']}: {fld} must be a list of non-empty strings")
                elif len(set(v)) != len(v):
                    errs.append(f"{o['id']}: duplicate strings in {fld}")
            name_spans = []
            for s in o["names"]:
                occ = occurrences(t, s)
                if not occ:
                    errs.append(f"{o['id']}: name {s!r} not in text")
                for a, b in occ:
                    if not on_boundaries(t, a, b):
                        errs.append(f"{o['id']}: name {s!r} at {a} not on word boundaries")
                    name_spans.append((a, b))
            for s in o["keep"]:
                occ = occurrences(t, s)
                if not occ:
                    errs.append(f"{o['id']}: keep {s!r} not in text")
                for a, b in occ:
                    if not on_boundaries(t, a, b):
                        errs.append(f"{o['id']}: keep {s!r} at {a} not on word boundaries")
                    for na, nb in name_spans:
                        if a < nb and na < b:
                            errs.append(f"{o['id']}: keep {s!r} overlaps name {t[na:nb]!r}")
            if not o["names"] and not o["keep"]:
                errs.append(f"{o['id']}: no names and no keep strings")
    for e in errs:
        print(e)
    print(f"{n} records, {len(errs)} errors")
    return 1 if errs else 0


if __name__ == "__main__":
    sys.exit(main())
