#!/usr/bin/env python3
"""Standalone stdlib-only validator for names.jsonl (names corpus X, prefix nx)."""
import json, sys, os

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'names.jsonl')
FIELDS = ['id', 'text', 'names', 'keep', 'kind']

def isword(c):
    return c.isalnum() or c == '_'

def occurrences(text, s):
    i = text.find(s)
    while i != -1:
        yield i
        i = text.find(s, i + 1)

def on_boundary(text, i, s):
    j = i + len(s)
    if not (isword(s[0]) and isword(s[-1])):
        return False
    if i > 0 and isword(text[i - 1]):
        return False
    if j < len(text) and isword(text[j]):
        return False
    return True

def main():
    errors = []
    texts = set()
    n = 0
    with open(PATH, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            n += 1
            where = f'line {lineno}'
            try:
                rec = json.loads(line)
            except Exception as e:
                errors.append(f'{where}: bad JSON ({e})'); continue
            if list(rec.keys()) != FIELDS:
                errors.append(f'{where}: fields {list(rec.keys())} != {FIELDS}'); continue
            exp = f'nx-{lineno:04d}'
            if rec['id'] != exp:
                errors.append(f'{where}: id {rec["id"]} != {exp}')
            text = rec['text']
            if not isinstance(text, str) or not text.strip():
                errors.append(f'{where}: empty text'); continue
            if text in texts:
                errors.append(f'{where}: duplicate text')
            texts.add(text)
            if not isinstance(rec['kind'], str) or not rec['kind'].strip():
                errors.append(f'{where}: empty kind')
            for fld in ('names', 'keep'):
                v = rec[fld]
                if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                    errors.append(f'{where}: {fld} must be a list of non-empty strings')
                if len(set(v)) != len(v):
                    errors.append(f'{where}: duplicate strings in {fld}')
            name_spans = []
            for s in rec['names']:
                occ = list(occurrences(text, s))
                if not occ:
                    errors.append(f'{where}: name {s!r} not in text')
                for i in occ:
                    if not on_boundary(text, i, s):
                        errors.append(f'{where}: name {s!r} occurrence at {i} not on word boundaries')
                    name_spans.append((i, i + len(s)))
            for s in rec['keep']:
                occ = list(occurrences(text, s))
                if not occ:
                    errors.append(f'{where}: keep {s!r} not in text')
                good = [i for i in occ if on_boundary(text, i, s)]
                if occ and not good:
                    errors.append(f'{where}: keep {s!r} never on word boundaries')
                for i in good:
                    for a, b in name_spans:
                        if i < b and a < i + len(s):
                            errors.append(f'{where}: keep {s!r} at {i} overlaps a name occurrence')
            if not rec['names'] and not rec['keep']:
                errors.append(f'{where}: no names and no keep strings')
    for e in errors:
        print(e)
    print(f'{n} records, {len(errors)} errors')
    return 1 if errors else 0

if __name__ == '__main__':
    sys.exit(main())
