#!/usr/bin/env python3
"""Standalone stdlib-only validator for names.jsonl (corpus J)."""
import json, re, sys, os

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'names.jsonl')
FIELDS = ["id", "text", "names", "keep", "kind"]


def occurrences(text, s):
    out, start = [], 0
    while True:
        i = text.find(s, start)
        if i < 0:
            return out
        out.append((i, i + len(s)))
        start = i + 1


def on_boundary(text, a, b):
    left = a == 0 or not (text[a - 1].isalnum() or text[a - 1] == '_')
    right = b == len(text) or not (text[b].isalnum() or text[b] == '_')
    return left and right


def wordchar(c):
    return c.isalnum() or c == '_'


def main():
    errors, warnings = [], []
    seen = set()
    rows = 0
    with open(PATH, encoding='utf-8') as f:
        for n, line in enumerate(f, 1):
            rows += 1
            where = 'line %d' % n
            try:
                obj = json.loads(line)
            except Exception as e:
                errors.append('%s: bad json %s' % (where, e)); continue
            if list(obj.keys()) != FIELDS:
                errors.append('%s: fields %s' % (where, list(obj.keys()))); continue
            if obj['id'] != 'nj-%04d' % n:
                errors.append('%s: id %s out of order' % (where, obj['id']))
            t = obj['text']
            if not isinstance(t, str) or not t.strip():
                errors.append('%s: empty text' % where); continue
            if t in seen:
                errors.append('%s: duplicate text' % where)
            seen.add(t)
            if not isinstance(obj['kind'], str) or not obj['kind'].strip():
                errors.append('%s: empty kind' % where)
            for fld in ('names', 'keep'):
                v = obj[fld]
                if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                    errors.append('%s: %s must be list of non-empty strings' % (where, fld))
                if len(set(v)) != len(v):
                    errors.append('%s: duplicate strings in %s' % (where, fld))
            name_spans = []
            for s in obj['names']:
                if not (wordchar(s[0]) and wordchar(s[-1])):
                    errors.append('%s: name %r does not start/end with a word char' % (where, s))
                occ = occurrences(t, s)
                if not occ:
                    errors.append('%s: name %r not in text' % (where, s))
                for a, b in occ:
                    if not on_boundary(t, a, b):
                        errors.append('%s: name %r occurs off word boundary at %d' % (where, s, a))
                    name_spans.append((a, b))
                # case-insensitive variants not listed: warn
                low = [m.start() for m in re.finditer(re.escape(s), t, re.I)]
                for a in low:
                    frag = t[a:a + len(s)]
                    if frag != s and frag not in obj['names'] and on_boundary(t, a, a + len(s)):
                        warnings.append('%s: %r also appears as %r (not listed)' % (where, s, frag))
            for s in obj['keep']:
                if not (wordchar(s[0]) and wordchar(s[-1])):
                    errors.append('%s: keep %r does not start/end with a word char' % (where, s))
                occ = occurrences(t, s)
                if not any(on_boundary(t, a, b) for a, b in occ):
                    errors.append('%s: keep %r not in text on word boundaries' % (where, s))
                for a, b in occ:
                    for c, d in name_spans:
                        if a < d and c < b:
                            errors.append('%s: keep %r overlaps a name at %d' % (where, s, a))
            if not obj['names'] and not obj['keep']:
                errors.append('%s: no names and no keep' % where)
    for w in warnings:
        print('WARN', w)
    for e in errors:
        print('ERROR', e)
    print('%d rows, %d errors, %d warnings' % (rows, len(errors), len(warnings)))
    sys.exit(1 if errors else 0)


if __name__ == '__main__':
    main()
