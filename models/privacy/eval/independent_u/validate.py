#!/usr/bin/env python3
"""Standalone stdlib-only validator for names.jsonl (corpus U, prefix nu)."""
import json, re, sys, os

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'names.jsonl')
FIELDS = ['id', 'text', 'names', 'keep', 'kind']

def is_word(ch):
    return ch.isalnum() or ch == '_'

def occurrences(text, s):
    res, start = [], 0
    while True:
        i = text.find(s, start)
        if i < 0:
            return res
        res.append((i, i + len(s)))
        start = i + 1

def on_boundary(text, a, b):
    s = text[a:b]
    left_ok = (not is_word(s[0])) or a == 0 or not is_word(text[a - 1])
    right_ok = (not is_word(s[-1])) or b == len(text) or not is_word(text[b])
    return left_ok and right_ok

def main():
    errors = []
    seen = set()
    n = 0
    with open(PATH, encoding='utf-8') as fh:
        for ln, line in enumerate(fh, 1):
            if not line.strip():
                errors.append(f'line {ln}: blank line')
                continue
            try:
                d = json.loads(line)
            except Exception as e:
                errors.append(f'line {ln}: bad json {e}')
                continue
            n += 1
            if list(d.keys()) != FIELDS:
                errors.append(f'line {ln}: fields {list(d.keys())}')
                continue
            want = f'nu-{n:04d}'
            if d['id'] != want:
                errors.append(f'line {ln}: id {d["id"]} expected {want}')
            t = d['text']
            if not isinstance(t, str) or not t.strip():
                errors.append(f'{d["id"]}: empty text')
                continue
            if t in seen:
                errors.append(f'{d["id"]}: duplicate text')
            seen.add(t)
            if not isinstance(d['kind'], str) or not d['kind'].strip():
                errors.append(f'{d["id"]}: empty kind')
            for fld in ('names', 'keep'):
                v = d[fld]
                if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                    errors.append(f'{d["id"]}: {fld} must be list of non-empty strings')
                    continue
                if len(set(v)) != len(v):
                    errors.append(f'{d["id"]}: duplicate strings in {fld}')
                for s in v:
                    if s != s.strip():
                        errors.append(f'{d["id"]}: {fld} string has outer whitespace {s!r}')
                    occ = occurrences(t, s)
                    if not occ:
                        errors.append(f'{d["id"]}: {fld} {s!r} not in text')
                    elif not any(on_boundary(t, a, b) for a, b in occ):
                        errors.append(f'{d["id"]}: {fld} {s!r} not on word boundary')
                    else:
                        for a, b in occ:
                            if not on_boundary(t, a, b) and fld == 'names':
                                inside = any(x <= a and b <= y and (x, y) != (a, b)
                                             for o in v for x, y in occurrences(t, o)
                                             if on_boundary(t, x, y))
                                if not inside:
                                    errors.append(f'{d["id"]}: names {s!r} also occurs inside a word at {a}')
            name_spans = [sp for s in d['names'] for sp in occurrences(t, s) if on_boundary(t, *sp)]
            for k in d['keep']:
                for a, b in occurrences(t, k):
                    if not on_boundary(t, a, b):
                        continue
                    for x, y in name_spans:
                        if a < y and x < b:
                            errors.append(f'{d["id"]}: keep {k!r} overlaps a name occurrence')
                            break
            if not d['names'] and not d['keep']:
                errors.append(f'{d["id"]}: no names and no keep')
    for e in errors:
        print(e)
    print(f'{n} records, {len(errors)} errors')
    return 1 if errors else 0

if __name__ == '__main__':
    sys.exit(main())
