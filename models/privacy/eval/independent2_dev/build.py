#!/usr/bin/env python3
"""Assemble hand-written records from src/*.txt into names.jsonl and validate.
Source format: records separated by a line starting with '=== <kind>'.
(A literal \\n inside an N:/K: entry stands for a line break.)
Text = all lines after the header up to the optional 'N:' / 'K:' lines at the end.
N: name1 | name2      (person identifiers)
K: keep1 | keep2      (non-identifiers that must survive)
No text is generated here; the script only numbers, parses and validates."""
import json, re, sys, glob, os
HERE = os.path.dirname(os.path.abspath(__file__))
def parse(path):
    recs, cur = [], None
    for line in open(path, encoding='utf-8').read().split('\n'):
        if line.startswith('=== '):
            if cur: recs.append(cur)
            cur = {'kind': line[4:].strip(), 'lines': [], 'names': [], 'keep': [], 'src': path}
        elif cur is None:
            continue
        elif line.startswith('N: '):
            cur['names'] = [s.strip().replace('\\n', '\n') for s in line[3:].split(' | ') if s.strip()]
        elif line.startswith('K: '):
            cur['keep'] = [s.strip().replace('\\n', '\n') for s in line[3:].split(' | ') if s.strip()]
        else:
            cur['lines'].append(line)
    if cur: recs.append(cur)
    out = []
    for r in recs:
        while r['lines'] and r['lines'][-1] == '': r['lines'].pop()
        while r['lines'] and r['lines'][0] == '': r['lines'].pop(0)
        r['text'] = '\n'.join(r['lines'])
        out.append(r)
    return out
def spans(text, s):
    return [(m.start(), m.end()) for m in re.finditer(re.escape(s), text)]
def validate(recs):
    errs = []
    for r in recs:
        t = r['text']; tag = f"{r.get('id')} [{r['src']}] {t[:50]!r}"
        if not t: errs.append(f'{tag}: empty text')
        if len(set(r['names'])) != len(r['names']): errs.append(f'{tag}: duplicate name entries')
        nsp = []
        for n in r['names']:
            sp = spans(t, n)
            if not sp: errs.append(f'{tag}: name not in text: {n!r}')
            for a, b in sp:
                # a name string embedded inside a longer word is an error (every occurrence counts)
                if (a > 0 and t[a-1].isalnum() and n[0].isalnum()) or (b < len(t) and t[b].isalnum() and n[-1].isalnum()):
                    errs.append(f'{tag}: name {n!r} occurs inside a longer word at {a}')
            nsp += sp
        for k in r['keep']:
            sp = spans(t, k)
            if not sp: errs.append(f'{tag}: keep not in text: {k!r}')
            for a, b in sp:
                for c, d in nsp:
                    if a < d and c < b: errs.append(f'{tag}: keep {k!r} overlaps a name at {a}')
        if not r['kind']: errs.append(f'{tag}: no kind')
        for ln in r['lines']:
            if ln.startswith(('N:', 'K:')): errs.append(f'{tag}: stray N:/K: line in text')
    ids = [r['id'] for r in recs]
    if len(ids) != len(set(ids)): errs.append('duplicate ids')
    texts = [r['text'] for r in recs]
    if len(texts) != len(set(texts)): errs.append('duplicate texts')
    return errs
def main():
    files = sorted(glob.glob(os.path.join(HERE, 'src', '*.txt')))
    recs = []
    for f in files: recs += parse(f)
    for i, r in enumerate(recs, 1): r['id'] = f'nb-{i:04d}'; r['src'] = os.path.basename(r['src'])
    errs = validate(recs)
    for e in errs: print('ERROR', e)
    out = os.path.join(HERE, 'names.jsonl')
    with open(out, 'w', encoding='utf-8') as fh:
        for r in recs:
            fh.write(json.dumps({'id': r['id'], 'text': r['text'], 'names': r['names'], 'keep': r['keep'], 'kind': r['kind']}, ensure_ascii=False) + '\n')
    # re-read check
    for line in open(out, encoding='utf-8'): json.loads(line)
    from collections import Counter
    c = Counter(r['kind'] for r in recs)
    withn = sum(1 for r in recs if r['names'])
    print(f'{len(recs)} records, {withn} with names, {len(recs)-withn} without; errors: {len(errs)}')
    for k, v in sorted(c.items(), key=lambda x: -x[1]): print(f'  {k}: {v}')
    sys.exit(1 if errs else 0)
if __name__ == '__main__': main()
