#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only)."""
import json, os, re, sys

PATH = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'names.jsonl')
FIELDS = ["id", "text", "names", "keep", "kind"]
WORD = re.compile(r'\w')

def occurrences(text, s):
    out, start = [], 0
    while True:
        i = text.find(s, start)
        if i < 0:
            return out
        out.append((i, i + len(s)))
        start = i + 1

def on_boundary(text, a, b, s):
    if WORD.match(s[0]) and a > 0 and WORD.match(text[a - 1]):
        return False
    if WORD.match(s[-1]) and b < len(text) and WORD.match(text[b]):
        return False
    return True

def main():
    errs = []
    seen = set()
    n = 0
    with open(PATH, encoding='utf-8') as f:
        for ln, line in enumerate(f, 1):
            n += 1
            try:
                o = json.loads(line)
            except Exception as e:
                errs.append('line %d: bad json %s' % (ln, e)); continue
            if list(o.keys()) != FIELDS:
                errs.append('line %d: fields %s' % (ln, list(o.keys())))
            eid = 'nq-%04d' % ln
            if o.get('id') != eid:
                errs.append('line %d: id %r expected %s' % (ln, o.get('id'), eid))
            t = o.get('text')
            if not isinstance(t, str) or not t.strip():
                errs.append('%s: empty text' % eid); continue
            if t in seen:
                errs.append('%s: duplicate text' % eid)
            seen.add(t)
            if not isinstance(o.get('kind'), str) or not o['kind'].strip():
                errs.append('%s: empty kind' % eid)
            names, keep = o.get('names'), o.get('keep')
            if not isinstance(names, list) or not isinstance(keep, list):
                errs.append('%s: names/keep not lists' % eid); continue
            for lst, lab in ((names, 'name'), (keep, 'keep')):
                if len(set(lst)) != len(lst):
                    errs.append('%s: duplicate %s strings' % (eid, lab))
                for s in lst:
                    if not isinstance(s, str) or not s or s != s.strip():
                        errs.append('%s: bad %s %r' % (eid, lab, s)); continue
                    occ = occurrences(t, s)
                    if not occ:
                        errs.append('%s: %s %r not in text' % (eid, lab, s))
                    for a, b in occ:
                        if not on_boundary(t, a, b, s):
                            errs.append('%s: %s %r at %d not on word boundary' % (eid, lab, s, a))
            name_spans = [sp for s in names for sp in occurrences(t, s)]
            for k in keep:
                for a, b in occurrences(t, k):
                    for c, d in name_spans:
                        if a < d and c < b:
                            errs.append('%s: keep %r overlaps a name occurrence' % (eid, k))
            if not names and not keep:
                errs.append('%s: no names and no keep' % eid)
    for e in errs:
        print(e)
    print('%d entries, %d errors' % (n, len(errs)))
    sys.exit(1 if errs else 0)

if __name__ == '__main__':
    main()
