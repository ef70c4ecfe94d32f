#!/usr/bin/env python3
"""Standalone stdlib-only validator for names.jsonl (corpus T)."""
import json, re, sys, os

def occ(text, s):
    pat = re.compile(r'(?<!\w)' + re.escape(s) + r'(?!\w)')
    return [(m.start(), m.end()) for m in pat.finditer(text)]

def main(path):
    errs = []
    seen = set()
    n = 0
    for i, line in enumerate(open(path, encoding='utf-8'), 1):
        try:
            o = json.loads(line)
        except Exception as e:
            errs.append(f'line {i}: bad json {e}'); continue
        n += 1
        if list(o.keys()) != ['id', 'text', 'names', 'keep', 'kind']:
            errs.append(f'line {i}: fields {list(o.keys())}')
        if o.get('id') != f'nt-{i:04d}':
            errs.append(f'line {i}: id {o.get("id")}')
        t = o.get('text')
        if not isinstance(t, str) or not t.strip():
            errs.append(f'line {i}: empty text'); continue
        if t in seen:
            errs.append(f'line {i}: duplicate text')
        seen.add(t)
        if not isinstance(o.get('kind'), str) or not o['kind'].strip():
            errs.append(f'line {i}: kind')
        for fld in ('names', 'keep'):
            v = o.get(fld)
            if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                errs.append(f'line {i}: {fld} not list of str')
            elif len(set(v)) != len(v):
                errs.append(f'line {i}: {fld} duplicates')
        spans = []
        for s in o.get('names', []):
            oc = occ(t, s)
            if not oc:
                errs.append(f'line {i}: name {s!r} not found on word boundaries')
            if s != s.strip():
                errs.append(f'line {i}: name {s!r} has outer whitespace')
            spans += oc
        for s in o.get('keep', []):
            oc = occ(t, s)
            if not oc:
                errs.append(f'line {i}: keep {s!r} not found on word boundaries')
            for a, b in oc:
                for c, d in spans:
                    if a < d and c < b:
                        errs.append(f'line {i}: keep {s!r} overlaps name {t[c:d]!r}')
        if not o.get('names') and not o.get('keep'):
            errs.append(f'line {i}: no names and no keep')
    for e in errs:
        print(e)
    print(f'{n} records, {len(errs)} errors')
    return 1 if errs else 0

if __name__ == '__main__':
    p = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'names.jsonl')
    sys.exit(main(p))
