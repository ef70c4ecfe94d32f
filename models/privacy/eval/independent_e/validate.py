#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only).
Usage: python3 validate.py [path/to/names.jsonl] [--warn]
Exit status 0 when all hard checks pass. --warn also prints soft warnings:
a capitalised token of a listed name (other than a title) that appears
elsewhere in the text outside every name occurrence (possible missed name)."""
import json, re, sys
from collections import Counter

FIELDS = {'id', 'text', 'names', 'keep', 'kind'}
TITLES = {'dr', 'dr.', 'doctor', 'mr', 'mr.', 'mrs', 'mrs.', 'ms', 'ms.', 'miss', 'mx', 'prof', 'prof.',
          'father', 'rev.', 'rev', 'sheikh', 'sister', 'nurse', 'professor', 'auntie', 'uncle', 'pastor', 'imam', 'rabbi'}

def occurrences(s, text):
    """All raw (case-sensitive) occurrences of s in text as (start, end)."""
    res, i = [], text.find(s)
    while i != -1:
        res.append((i, i + len(s)))
        i = text.find(s, i + 1)
    return res

def on_boundary(text, a, b):
    before = text[a - 1] if a > 0 else ' '
    after = text[b] if b < len(text) else ' '
    first, last = text[a], text[b - 1]
    ok_before = not (before.isalnum() or before == '_') or not (first.isalnum() or first == '_')
    ok_after = not (after.isalnum() or after == '_') or not (last.isalnum() or last == '_')
    return ok_before and ok_after

def main():
    args = [a for a in sys.argv[1:] if not a.startswith('--')]
    warn = '--warn' in sys.argv
    path = args[0] if args else __file__.rsplit('/', 1)[0] + '/names.jsonl'
    errors, warnings = [], []
    ids, texts = Counter(), Counter()
    n = 0
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    if lines and lines[-1] == '':
        lines.pop()
    for ln, line in enumerate(lines, 1):
        def err(m):
            errors.append(f'line {ln}: {m}')
        try:
            r = json.loads(line)
        except Exception as e:
            err(f'invalid JSON: {e}')
            continue
        n += 1
        if not isinstance(r, dict) or set(r) != FIELDS:
            err(f'field set {sorted(r) if isinstance(r, dict) else type(r)} != {sorted(FIELDS)}')
            continue
        rid, text, names, keep, kind = r['id'], r['text'], r['names'], r['keep'], r['kind']
        if not (isinstance(rid, str) and re.fullmatch(r'nx-\d{4}', rid)):
            err(f'bad id {rid!r}')
        elif rid != f'nx-{n:04d}':
            err(f'id {rid} out of order (expected nx-{n:04d})')
        ids[rid] += 1
        if not isinstance(text, str) or not text.strip():
            err('text must be non-empty string'); continue
        texts[text] += 1
        if not isinstance(kind, str) or not kind.strip():
            err('kind must be non-empty string')
        for fld, lst in (('names', names), ('keep', keep)):
            if not isinstance(lst, list) or not all(isinstance(x, str) and x.strip() for x in lst):
                err(f'{fld} must be a list of non-empty strings'); break
            if len(set(lst)) != len(lst):
                err(f'duplicate strings in {fld}')
        else:
            both = set(names) & set(keep)
            if both:
                err(f'string(s) both name and keep: {sorted(both)}')
            mask = [False] * len(text)
            for s in names:
                occ = occurrences(s, text)
                if not occ:
                    err(f'name {s!r} not in text')
                for a, b in occ:
                    if not on_boundary(text, a, b):
                        err(f'name {s!r} occurs inside a longer word at {a}: ...{text[max(0,a-10):b+10]!r}')
                    for i in range(a, b):
                        mask[i] = True
            for s in keep:
                occ = occurrences(s, text)
                good = [(a, b) for a, b in occ if on_boundary(text, a, b)]
                if not good:
                    err(f'keep {s!r} not in text on word boundaries')
                for a, b in good:
                    if any(mask[a:b]):
                        err(f'keep {s!r} at {a} overlaps a name occurrence')
            if not names and not keep:
                err('comment without names has no keep string')
            if warn:
                for s in names:
                    for tok in re.findall(r"[\w'’.-]+", s):
                        t = tok.strip(".'’-")
                        if len(t) < 3 or tok.lower() in TITLES or t.lower() in TITLES or not t[0].isupper():
                            continue
                        for a, b in occurrences(t, text):
                            if on_boundary(text, a, b) and not any(mask[a:b]):
                                warnings.append(f'line {ln} {rid}: token {t!r} of name {s!r} appears unmasked at {a}')
    for k, c in ids.items():
        if c > 1:
            errors.append(f'duplicate id {k}')
    for k, c in texts.items():
        if c > 1:
            errors.append(f'duplicate text: {k[:60]!r}')
    for w in sorted(set(warnings)):
        print('WARN', w)
    for e in errors:
        print('ERROR', e)
    print(f'{n} records, {len(errors)} errors' + (f', {len(set(warnings))} warnings' if warn else ''))
    sys.exit(1 if errors else 0)

if __name__ == '__main__':
    main()
