#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only).
Usage: python3 validate.py [path/to/names.jsonl]"""
import json, re, sys, os
from collections import Counter

FIELDS = {"id", "text", "names", "keep", "kind"}

def occurrences(s, text):
    """All (start, end) of exact, case-sensitive occurrences of s in text."""
    res, i = [], text.find(s)
    while i != -1:
        res.append((i, i + len(s)))
        i = text.find(s, i + 1)
    return res

def is_word(c):
    return c.isalnum() or c == '_'

def on_boundary(text, a, b):
    s = text[a:b]
    left_ok = a == 0 or not (is_word(text[a - 1]) and is_word(s[0]))
    right_ok = b == len(text) or not (is_word(text[b]) and is_word(s[-1]))
    return left_ok and right_ok

def main(path):
    errors = []
    ids, texts = [], Counter()
    kinds = Counter()
    n_with_names = n_name_strings = n_keep_strings = 0
    with open(path, encoding='utf-8') as f:
        lines = f.read().split('\n')
    if lines and lines[-1] == '':
        lines = lines[:-1]
    for ln, line in enumerate(lines, 1):
        where = f'line {ln}'
        try:
            rec = json.loads(line)
        except Exception as e:
            errors.append(f'{where}: invalid JSON ({e})')
            continue
        if not isinstance(rec, dict) or set(rec) != FIELDS:
            errors.append(f'{where}: field set is {sorted(rec) if isinstance(rec, dict) else type(rec)}')
            continue
        rid, text, names, keep, kind = rec['id'], rec['text'], rec['names'], rec['keep'], rec['kind']
        where = f'line {ln} ({rid})'
        if not isinstance(rid, str) or not re.fullmatch(r'nd-\d{4}', rid):
            errors.append(f'{where}: bad id format')
        elif rid != f'nd-{ln:04d}':
            errors.append(f'{where}: id out of order, expected nd-{ln:04d}')
        ids.append(rid)
        if not isinstance(text, str) or not text.strip():
            errors.append(f'{where}: text empty or not a string'); continue
        texts[text] += 1
        if not isinstance(kind, str) or not kind.strip():
            errors.append(f'{where}: kind empty')
        kinds[kind] += 1
        for fld, lst in (('names', names), ('keep', keep)):
            if not isinstance(lst, list) or not all(isinstance(x, str) and x.strip() for x in lst):
                errors.append(f'{where}: {fld} must be list of non-empty strings')
            elif len(set(lst)) != len(lst):
                errors.append(f'{where}: duplicate strings in {fld}')
        if not isinstance(names, list) or not isinstance(keep, list):
            continue
        both = set(names) & set(keep)
        if both:
            errors.append(f'{where}: strings both name and keep: {sorted(both)}')
        name_spans = []
        for s in names:
            occ = occurrences(s, text)
            if not occ:
                errors.append(f'{where}: name {s!r} not in text')
            for a, b in occ:
                if not on_boundary(text, a, b):
                    errors.append(f'{where}: name {s!r} occurs inside a longer word at {a}: ...{text[max(0,a-10):b+10]!r}')
                name_spans.append((a, b))
        for s in keep:
            occ = occurrences(s, text)
            if not occ:
                errors.append(f'{where}: keep {s!r} not in text')
            if occ and not any(on_boundary(text, a, b) for a, b in occ):
                errors.append(f'{where}: keep {s!r} never on word boundaries')
            for a, b in occ:
                for c, d in name_spans:
                    if a < d and c < b:
                        errors.append(f'{where}: keep {s!r} at {a} overlaps a name occurrence {text[c:d]!r}')
        if names:
            n_with_names += 1
        elif not keep:
            errors.append(f'{where}: no names and no keep')
        n_name_strings += len(names)
        n_keep_strings += len(keep)
    for i, c in Counter(ids).items():
        if c > 1: errors.append(f'duplicate id {i}')
    for t, c in texts.items():
        if c > 1: errors.append(f'duplicate text x{c}: {t[:60]!r}')
    print(f'records: {len(lines)}; with names: {n_with_names}; without: {len(lines) - n_with_names}; '
          f'name strings: {n_name_strings}; keep strings: {n_keep_strings}')
    print('per kind:', dict(sorted(kinds.items(), key=lambda kv: -kv[1])))
    if errors:
        print(f'{len(errors)} ERROR(S):')
        for e in errors: print('  ' + e)
        return 1
    print('OK')
    return 0

if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'names.jsonl')))
