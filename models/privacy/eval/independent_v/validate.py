#!/usr/bin/env python3
"""Standalone stdlib-only validator for names.jsonl (names corpus V)."""
import json, re, sys, os

FIELDS = ["id", "text", "names", "keep", "kind"]


def is_word(ch):
    return ch.isalnum() or ch == "_"


def occurrences(text, s):
    out, start = [], 0
    while True:
        i = text.find(s, start)
        if i < 0:
            return out
        out.append((i, i + len(s)))
        start = i + 1


def on_boundary(text, a, b):
    s = text[a:b]
    if is_word(s[0]) and a > 0 and is_word(text[a - 1]):
        return False
    if is_word(s[-1]) and b < len(text) and is_word(text[b]):
        return False
    return True


def main(path):
    errors = []
    seen = set()
    n = 0
    with open(path, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            n += 1
            where = "line %d" % ln
            try:
                obj = json.loads(line)
            except Exception as e:
                errors.append("%s: bad JSON (%s)" % (where, e)); continue
            if not isinstance(obj, dict) or list(obj.keys()) != FIELDS:
                errors.append("%s: fields must be exactly %s in order" % (where, FIELDS)); continue
            exp = "nv-%04d" % ln
            if obj["id"] != exp:
                errors.append("%s: id %r, expected %r" % (where, obj["id"], exp))
            t = obj["text"]
            if not isinstance(t, str) or not t.strip():
                errors.append("%s: empty text" % where); continue
            if t in seen:
                errors.append("%s: duplicate text" % where)
            seen.add(t)
            if not isinstance(obj["kind"], str) or not obj["kind"].strip():
                errors.append("%s: empty kind" % where)
            for fld in ("names", "keep"):
                v = obj[fld]
                if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                    errors.append("%s: %s must be list of non-empty strings" % (where, fld)); continue
                if len(set(v)) != len(v):
                    errors.append("%s: duplicate strings in %s" % (where, fld))
                for s in v:
                    if s != s.strip():
                        errors.append("%s: %s string %r has outer whitespace" % (where, fld, s))
                    occ = occurrences(t, s)
                    if not occ:
                        errors.append("%s: %s string %r not in text" % (where, fld, s))
                    for a, b in occ:
                        if not on_boundary(t, a, b):
                            errors.append("%s: %s string %r occurs off word boundary at %d" % (where, fld, s, a))
            name_spans = [sp for s in obj["names"] for sp in occurrences(t, s)]
            for k in obj["keep"]:
                if k in obj["names"]:
                    errors.append("%s: %r in both names and keep" % (where, k))
                for a, b in occurrences(t, k):
                    for c, d in name_spans:
                        if a < d and c < b:
                            errors.append("%s: keep %r overlaps a name occurrence" % (where, k))
            if not obj["names"] and not obj["keep"]:
                errors.append("%s: no names and no keep" % where)
    for e in errors:
        print(e)
    print("%d records, %d errors" % (n, len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    p = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    sys.exit(main(p))
