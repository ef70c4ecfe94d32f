#!/usr/bin/env python3
"""Standalone validator for names.jsonl (does not need the src files).
Checks: valid JSON per line; required fields and types; unique ids; every
name and keep string occurs in its text; no keep occurrence overlaps any name
occurrence; no name occurrence sits inside a longer word; no duplicate texts."""
import json, re, sys, os
from collections import Counter
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'names.jsonl')
errs, ids, texts, kinds = [], set(), set(), Counter()
n = withn = 0
for ln, line in enumerate(open(path, encoding='utf-8'), 1):
    try: r = json.loads(line)
    except Exception as e: errs.append(f'line {ln}: bad JSON {e}'); continue
    n += 1
    if set(r) != {'id', 'text', 'names', 'keep', 'kind'}: errs.append(f'line {ln}: fields {sorted(r)}')
    if not (isinstance(r['text'], str) and isinstance(r['names'], list) and isinstance(r['keep'], list) and isinstance(r['kind'], str)):
        errs.append(f'line {ln}: field types'); continue
    if r['id'] in ids: errs.append(f'line {ln}: duplicate id {r["id"]}')
    ids.add(r['id'])
    if r['text'] in texts: errs.append(f'line {ln}: duplicate text')
    texts.add(r['text']); kinds[r['kind']] += 1
    t = r['text']; nsp = []
    if r['names']: withn += 1
    for s in r['names']:
        sp = [(m.start(), m.end()) for m in re.finditer(re.escape(s), t)]
        if not sp: errs.append(f'{r["id"]}: name missing {s!r}')
        for a, b in sp:
            if (a and t[a-1].isalnum() and s[0].isalnum()) or (b < len(t) and t[b].isalnum() and s[-1].isalnum()):
                errs.append(f'{r["id"]}: name {s!r} inside a longer word')
        nsp += sp
    for s in r['keep']:
        sp = [(m.start(), m.end()) for m in re.finditer(re.escape(s), t)]
        if not sp: errs.append(f'{r["id"]}: keep missing {s!r}')
        for a, b in sp:
            if any(a < d and c < b for c, d in nsp): errs.append(f'{r["id"]}: keep {s!r} overlaps a name')
for e in errs: print('ERROR', e)
print(f'{n} records, {withn} with names, {n - withn} without, {len(kinds)} kinds, {len(errs)} errors')
sys.exit(1 if errs else 0)
