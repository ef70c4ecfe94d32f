#!/usr/bin/env python3
"""Standalone stdlib-only validator for names.jsonl."""
import json, re, sys, os

def occ(text, s):
    out = []
    pat = re.compile(r'(?<!\w)' + re.escape(s) + r'(?!\w)')
    start = 0
    # find all occurrences (including overlapping) of s, check boundaries
    i = text.find(s)
    allpos = []
    while i != -1:
        allpos.append(i)
        i = text.find(s, i + 1)
    for p in allpos:
        before = text[p-1] if p > 0 else ''
        after = text[p+len(s)] if p+len(s) < len(text) else ''
        okb = (before == '' or not (before.isalnum() or before == '_')) or not (s[0].isalnum() or s[0] == '_')
        oka = (after == '' or not (after.isalnum() or after == '_')) or not (s[-1].isalnum() or s[-1] == '_')
        out.append((p, p+len(s), okb and oka))
    return out

def main(path):
    errs = []
    seen = set()
    n = 0
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    if lines and lines[-1] == '':
        lines = lines[:-1]
    for ln, line in enumerate(lines, 1):
        try:
            o = json.loads(line)
        except Exception as e:
            errs.append(f'line {ln}: bad json {e}'); continue
        n += 1
        if list(o.keys()) != ['id', 'text', 'names', 'keep', 'kind']:
            errs.append(f'line {ln}: fields {list(o.keys())}')
            continue
        exp = 'naf-%04d' % ln
        if o['id'] != exp:
            errs.append(f'line {ln}: id {o["id"]} expected {exp}')
        t = o['text']
        if not isinstance(t, str) or not t.strip():
            errs.append(f'{o["id"]}: empty text')
            continue
        if t in seen:
            errs.append(f'{o["id"]}: duplicate text')
        seen.add(t)
        if not isinstance(o['kind'], str) or not o['kind'].strip():
            errs.append(f'{o["id"]}: empty kind')
        for fld in ('names', 'keep'):
            v = o[fld]
            if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                errs.append(f'{o["id"]}: {fld} not list of non-empty strings')
            elif len(set(v)) != len(v):
                errs.append(f'{o["id"]}: {fld} has duplicates')
            elif any(x != x.strip() for x in v):
                errs.append(f'{o["id"]}: {fld} has untrimmed string')
        name_spans = []
        for s in o['names']:
            oc = occ(t, s)
            if not oc:
                errs.append(f'{o["id"]}: name {s!r} not in text')
            for a, b, ok in oc:
                if not ok:
                    errs.append(f'{o["id"]}: name {s!r} at {a} not on word boundary')
                name_spans.append((a, b))
        for s in o['keep']:
            oc = occ(t, s)
            if not oc:
                errs.append(f'{o["id"]}: keep {s!r} not in text')
            for a, b, ok in oc:
                if not ok:
                    errs.append(f'{o["id"]}: keep {s!r} at {a} not on word boundary')
                for c, d in name_spans:
                    if a < d and c < b:
                        errs.append(f'{o["id"]}: keep {s!r} overlaps a name at {c}')
        if not o['names'] and not o['keep']:
            errs.append(f'{o["id"]}: no names and no keep')
    for e in errs:
        print(e)
    print(f'{n} records, {len(errs)} errors')
    return 1 if errs else 0

if __name__ == '__main__':
    p = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'names.jsonl')
    sys.exit(main(p))
