#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only)."""
import json, re, sys
from collections import Counter

FIELDS = {"id", "text", "names", "keep", "kind"}

def occ(text, s):
    out = []
    pat = re.compile(r'(?<![\w])' + re.escape(s) + r'(?![\w])') if s else None
    for m in re.finditer(re.escape(s), text):
        out.append((m.start(), m.end(), bool(pat.fullmatch(text, m.start(), m.end())) and
                    (m.start() == 0 or not (text[m.start()-1].isalnum() or text[m.start()-1] == '_')) and
                    (m.end() == len(text) or not (text[m.end()].isalnum() or text[m.end()] == '_'))))
    return out

def main(path):
    errs = []
    ids, texts = set(), set()
    n = 0; with_names = 0; nstr = 0; kstr = 0; kinds = Counter()
    with open(path, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            def E(msg): errs.append(f"line {ln}: {msg}")
            try:
                o = json.loads(line)
            except Exception as e:
                E(f"bad json {e}"); continue
            if not isinstance(o, dict) or set(o) != FIELDS:
                E(f"field set {sorted(o) if isinstance(o, dict) else type(o)}"); continue
            n += 1
            exp = f"nf-{n:04d}"
            if o["id"] != exp: E(f"id {o['id']} expected {exp}")
            if o["id"] in ids: E("dup id")
            ids.add(o["id"])
            t = o["text"]
            if not isinstance(t, str) or not t.strip(): E("empty text"); continue
            if t in texts: E("dup text")
            texts.add(t)
            if not isinstance(o["kind"], str) or not o["kind"]: E("kind")
            kinds[o["kind"]] += 1
            names, keep = o["names"], o["keep"]
            if not (isinstance(names, list) and all(isinstance(x, str) and x for x in names)): E("names type"); continue
            if not (isinstance(keep, list) and all(isinstance(x, str) and x for x in keep)): E("keep type"); continue
            if len(set(names)) != len(names): E("dup in names")
            if len(set(keep)) != len(keep): E("dup in keep")
            both = set(names) & set(keep)
            if both: E(f"both name and keep: {both}")
            if names: with_names += 1
            elif not keep: E("no names and no keep")
            nstr += len(names); kstr += len(keep)
            nspans = []
            for s in names:
                oc = occ(t, s)
                if not any(b for _, _, b in oc): E(f"name not on word boundary / missing: {s!r}")
                for a, b, ok in oc:
                    if not ok:
                        # allowed only if this occurrence lies inside another name occurrence
                        E(f"name {s!r} occurs inside a longer word at {a}")
                    nspans.append((a, b))
            for s in keep:
                oc = occ(t, s)
                if not any(b for _, _, b in oc): E(f"keep not on word boundary / missing: {s!r}")
                for a, b, ok in oc:
                    if not ok: continue
                    for x, y in nspans:
                        if a < y and x < b: E(f"keep {s!r} overlaps a name at {a}")
    for e in errs: print(e)
    print(f"comments={n} with_names={with_names} name_strings={nstr} keep_strings={kstr}")
    for k, v in kinds.most_common(): print(f"  {k}: {v}")
    print("OK" if not errs else f"FAILED ({len(errs)} errors)")
    return 0 if not errs else 1

if __name__ == "__main__":
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else __file__.rsplit('/', 1)[0] + "/names.jsonl"))
