#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only). Exit 0 when valid."""
import json, re, sys, os

PATH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), 'names.jsonl')
FIELDS = ["id", "text", "names", "keep", "kind"]
WORD = re.compile(r'\w')

def occurrences(text, s):
    out, i = [], text.find(s)
    while i != -1:
        out.append((i, i + len(s)))
        i = text.find(s, i + 1)
    return out

def on_boundary(text, a, b):
    before = text[a - 1] if a > 0 else ''
    after = text[b] if b < len(text) else ''
    first, last = text[a], text[b - 1]
    ok_start = not (WORD.match(first) and before and WORD.match(before))
    ok_end = not (WORD.match(last) and after and WORD.match(after))
    # a span must also not start or end with whitespace
    return ok_start and ok_end and not first.isspace() and not last.isspace()

errors = []
seen_texts = {}
n = 0
with open(PATH, encoding='utf-8') as f:
    for lineno, line in enumerate(f, 1):
        if not line.strip():
            errors.append(f"line {lineno}: blank line"); continue
        try:
            rec = json.loads(line)
        except Exception as e:
            errors.append(f"line {lineno}: bad JSON: {e}"); continue
        n += 1
        if list(rec.keys()) != FIELDS:
            errors.append(f"line {lineno}: fields {list(rec.keys())} != {FIELDS}"); continue
        rid, text, names, keep, kind = (rec[k] for k in FIELDS)
        if rid != "nk-%04d" % n:
            errors.append(f"line {lineno}: id {rid!r}, expected nk-{n:04d}")
        if not isinstance(text, str) or not text.strip():
            errors.append(f"{rid}: empty text"); continue
        if not isinstance(kind, str) or not kind.strip():
            errors.append(f"{rid}: empty kind")
        if not isinstance(names, list) or not all(isinstance(x, str) and x for x in names):
            errors.append(f"{rid}: names must be a list of non-empty strings"); continue
        if not isinstance(keep, list) or not all(isinstance(x, str) and x for x in keep):
            errors.append(f"{rid}: keep must be a list of non-empty strings"); continue
        if len(set(names)) != len(names):
            errors.append(f"{rid}: duplicate name strings")
        if len(set(keep)) != len(keep):
            errors.append(f"{rid}: duplicate keep strings")
        if text in seen_texts:
            errors.append(f"{rid}: text duplicates {seen_texts[text]}")
        seen_texts[text] = rid
        name_spans = []
        for s in names:
            occ = occurrences(text, s)
            if not occ:
                errors.append(f"{rid}: name {s!r} not in text")
            for a, b in occ:
                if not on_boundary(text, a, b):
                    errors.append(f"{rid}: name {s!r} occurrence at {a} not on word boundaries")
            name_spans += occ
        for s in keep:
            if s in names:
                errors.append(f"{rid}: {s!r} is both name and keep")
            occ = occurrences(text, s)
            if not occ:
                errors.append(f"{rid}: keep {s!r} not in text")
            for a, b in occ:
                if not on_boundary(text, a, b):
                    errors.append(f"{rid}: keep {s!r} occurrence at {a} not on word boundaries")
                for c, d in name_spans:
                    if a < d and c < b:
                        errors.append(f"{rid}: keep {s!r} at {a} overlaps a name at {c}")
        if not names and not keep:
            errors.append(f"{rid}: no names and no keep string")

for e in errors:
    print(e)
print(f"{n} records, {len(errors)} errors")
sys.exit(1 if errors or n == 0 else 0)
