#!/usr/bin/env python3
"""Standalone validator for coded.jsonl (stdlib only).
Usage: python3 validate.py [coded.jsonl] [taxonomy_table.md]
Checks: JSON per line, exact keys, ids tr3-0001.. in order without gaps,
unique texts (case-insensitive, whitespace-normalised), categories from the
codebook, no duplicate categories, at most 3 categories, polarity keys equal
categories, polarity values valid, [] with {} allowed for non-answers.
Prints counts per category (with polarity split), per service, per question."""
import json, re, sys, os
from collections import Counter, defaultdict
here = os.path.dirname(os.path.abspath(__file__))
path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, 'coded.jsonl')
tax = sys.argv[2] if len(sys.argv) > 2 else '/work/indep/taxonomy_table.md'
ids = []
for line in open(tax, encoding='utf-8'):
    m = re.match(r'^\|\s*([a-z_]+)\s*\|', line)
    if m and m.group(1) != 'id':
        ids.append(m.group(1))
VALID = set(ids)
assert len(VALID) == 30, f'expected 30 codebook ids, got {len(VALID)}'
KEYS = ['id', 'service', 'question', 'text', 'categories', 'polarity']
POL = {'positive', 'negative', 'neutral'}
errors = []
seen = {}
cat = Counter(); pol = defaultdict(Counter); svc = Counter(); q = Counter()
n = 0; empty = 0
for i, line in enumerate(open(path, encoding='utf-8'), 1):
    if not line.strip():
        errors.append(f'line {i}: blank line'); continue
    try:
        r = json.loads(line)
    except Exception as e:
        errors.append(f'line {i}: bad JSON {e}'); continue
    n += 1
    if list(r.keys()) != KEYS:
        errors.append(f'line {i}: keys {list(r.keys())}')
    exp = 'tr3-%04d' % n
    if r.get('id') != exp:
        errors.append(f'line {i}: id {r.get("id")} expected {exp}')
    for k in ('service', 'question', 'text'):
        if not isinstance(r.get(k), str) or not r.get(k).strip():
            errors.append(f'line {i}: empty/invalid {k}')
    t = ' '.join(str(r.get('text', '')).lower().split())
    if t in seen:
        errors.append(f'line {i}: duplicate text of line {seen[t]}')
    seen[t] = i
    cs = r.get('categories'); ps = r.get('polarity')
    if not isinstance(cs, list) or not isinstance(ps, dict):
        errors.append(f'line {i}: categories/polarity wrong type'); continue
    if len(cs) > 3: errors.append(f'line {i}: more than 3 categories')
    if len(set(cs)) != len(cs): errors.append(f'line {i}: duplicate category')
    for c in cs:
        if c not in VALID: errors.append(f'line {i}: unknown category {c}')
    if set(ps.keys()) != set(cs):
        errors.append(f'line {i}: polarity keys {sorted(ps)} != categories {sorted(cs)}')
    for c, v in ps.items():
        if v not in POL: errors.append(f'line {i}: bad polarity {c}={v}')
    if not cs: empty += 1
    for c in cs:
        cat[c] += 1; pol[c][ps.get(c)] += 1
    svc[r.get('service')] += 1; q[r.get('question')] += 1
print(f'comments: {n}   non-answers ([]): {empty}')
print('\nper category (total  pos/neg/neu):')
for c in ids:
    p = pol[c]
    print(f'  {c:22s} {cat[c]:4d}   {p["positive"]:3d}/{p["negative"]:3d}/{p["neutral"]:3d}')
missing = [c for c in ids if cat[c] == 0]
print('\nper service:')
for s, k in svc.most_common(): print(f'  {k:4d}  {s}')
print('\nper question:')
for s, k in q.most_common(): print(f'  {k:4d}  {s}')
if missing: print('\ncategories never used:', ', '.join(missing))
if errors:
    print(f'\nFAILED: {len(errors)} error(s)')
    for e in errors[:50]: print('  ' + e)
    sys.exit(1)
print('\nOK: all checks passed')
