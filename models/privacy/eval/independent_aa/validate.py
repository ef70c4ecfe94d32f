#!/usr/bin/env python3
"""Standalone stdlib-only validator for names.jsonl (names corpus AA)."""
import json, re, sys, os

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'names.jsonl')
FIELDS = ["id", "text", "names", "keep", "kind"]
WORD = re.compile(r'\w', re.UNICODE)

def is_word(ch):
    return bool(WORD.match(ch))

def occurrences(text, s):
    out, i = [], text.find(s)
    while i != -1:
        out.append((i, i + len(s)))
        i = text.find(s, i + 1)
    return out

def on_boundary(text, a, b):
    s = text[a:b]
    if not (is_word(s[0]) and is_word(s[-1])):
        return False
    if a > 0 and is_word(text[a - 1]):
        return False
    if b < len(text) and is_word(text[b]):
        return False
    return True

def main(path=PATH):
    errors = []
    seen = set()
    n = 0
    with open(path, encoding='utf-8') as fh:
        for ln, line in enumerate(fh, 1):
            if not line.strip():
                errors.append(f'line {ln}: blank line')
                continue
            n += 1
            try:
                obj = json.loads(line)
            except Exception as e:
                errors.append(f'line {ln}: bad json {e}')
                continue
            if list(obj.keys()) != FIELDS:
                errors.append(f'line {ln}: fields {list(obj.keys())}')
                continue
            want = f'naa-{n:04d}'
            if obj['id'] != want:
                errors.append(f'line {ln}: id {obj["id"]} expected {want}')
            t = obj['text']
            if not isinstance(t, str) or not t.strip():
                errors.append(f'{obj["id"]}: empty text')
                continue
            if t in seen:
                errors.append(f'{obj["id"]}: duplicate text')
            seen.add(t)
            if not isinstance(obj['kind'], str) or not obj['kind'].strip():
                errors.append(f'{obj["id"]}: empty kind')
            for fld in ('names', 'keep'):
                v = obj[fld]
                if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                    errors.append(f'{obj["id"]}: {fld} must be list of non-empty strings')
                elif len(set(v)) != len(v):
                    errors.append(f'{obj["id"]}: duplicate strings in {fld}')
            name_spans = []
            for s in obj['names']:
                occ = occurrences(t, s)
                if not occ:
                    errors.append(f'{obj["id"]}: name {s!r} not in text')
                for a, b in occ:
                    if not on_boundary(t, a, b):
                        errors.append(f'{obj["id"]}: name {s!r} occurrence at {a} not on word boundaries')
                    name_spans.append((a, b))
            for s in obj['keep']:
                occ = occurrences(t, s)
                if not occ:
                    errors.append(f'{obj["id"]}: keep {s!r} not in text')
                for a, b in occ:
                    if not on_boundary(t, a, b):
                        errors.append(f'{obj["id"]}: keep {s!r} occurrence at {a} not on word boundaries')
                    for c, d in name_spans:
                        if a < d and c < b:
                            errors.append(f'{obj["id"]}: keep {s!r} overlaps a name occurrence')
            if not obj['names'] and not obj['keep']:
                errors.append(f'{obj["id"]}: no names and no keep')
    for e in errors:
        print(e)
    print(f'{n} comments, {len(errors)} errors')
    return 1 if errors or n == 0 else 0

if __name__ == '__main__':
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else PATH))
