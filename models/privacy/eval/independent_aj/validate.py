#!/usr/bin/env python3
"""Standalone stdlib-only validator for names.jsonl (corpus AJ, prefix naj)."""
import json, re, sys, os

PATH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'names.jsonl')
FIELDS = ["id", "text", "names", "keep", "kind"]
errors = []

def occurrences(text, s):
    """Start/end of every case-sensitive occurrence of s on word boundaries."""
    spans = []
    start = 0
    while True:
        i = text.find(s, start)
        if i < 0:
            break
        j = i + len(s)
        spans.append((i, j))
        start = i + 1
    return spans

def on_boundary(text, i, j):
    before_ok = i == 0 or not (text[i-1].isalnum() or text[i-1] == '_')
    after_ok = j == len(text) or not (text[j].isalnum() or text[j] == '_')
    return before_ok and after_ok

seen_texts = {}
n = 0
with open(PATH, encoding='utf-8') as f:
    for ln, line in enumerate(f, 1):
        if not line.strip():
            errors.append(f'line {ln}: blank line')
            continue
        try:
            obj = json.loads(line)
        except Exception as e:
            errors.append(f'line {ln}: bad json {e}')
            continue
        n += 1
        if list(obj.keys()) != FIELDS:
            errors.append(f'line {ln}: fields {list(obj.keys())} != {FIELDS}')
            continue
        want = f'naj-{n:04d}'
        if obj['id'] != want:
            errors.append(f'line {ln}: id {obj["id"]} expected {want}')
        text, names, keep, kind = obj['text'], obj['names'], obj['keep'], obj['kind']
        if not isinstance(text, str) or not text:
            errors.append(f'{obj["id"]}: empty text')
            continue
        if not isinstance(kind, str) or not kind.strip():
            errors.append(f'{obj["id"]}: empty kind')
        for fld, lst in (('names', names), ('keep', keep)):
            if not isinstance(lst, list) or not all(isinstance(x, str) and x for x in lst):
                errors.append(f'{obj["id"]}: {fld} must be list of non-empty strings')
                lst = []
            if len(set(lst)) != len(lst):
                errors.append(f'{obj["id"]}: duplicate strings in {fld}')
        if text in seen_texts:
            errors.append(f'{obj["id"]}: duplicate text of {seen_texts[text]}')
        seen_texts[text] = obj['id']
        name_spans = []
        for s in names + keep:
            if not (s[0].isalnum() or s[0] == '_') or not (s[-1].isalnum() or s[-1] == '_'):
                errors.append(f'{obj["id"]}: string {s!r} must start and end with a word character')
        for s in names:
            if s != s.strip():
                errors.append(f'{obj["id"]}: name {s!r} has outer whitespace')
            occ = occurrences(text, s)
            if not occ:
                errors.append(f'{obj["id"]}: name {s!r} not in text')
            for i, j in occ:
                if not on_boundary(text, i, j):
                    errors.append(f'{obj["id"]}: name {s!r} occurrence at {i} not on word boundary')
            name_spans += occ
        for s in keep:
            occ = occurrences(text, s)
            if not occ:
                errors.append(f'{obj["id"]}: keep {s!r} not in text')
            for i, j in occ:
                if not on_boundary(text, i, j):
                    errors.append(f'{obj["id"]}: keep {s!r} occurrence at {i} not on word boundary')
                for a, b in name_spans:
                    if i < b and a < j:
                        errors.append(f'{obj["id"]}: keep {s!r} at {i} overlaps a name at {a}')
        if not names and not keep:
            errors.append(f'{obj["id"]}: no names and no keep string')

if n == 0:
    errors.append('no records')
for e in errors:
    print(e)
print(f'{n} records, {len(errors)} errors')
sys.exit(1 if errors else 0)
