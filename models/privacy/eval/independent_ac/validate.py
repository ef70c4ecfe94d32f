#!/usr/bin/env python3
"""Standalone stdlib-only validator for names.jsonl (names corpus AC)."""
import json, os, sys

PREFIX = "nac"
FIELDS = ["id", "text", "names", "keep", "kind"]


def is_word(c):
    return c.isalnum() or c == "_"


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
    errs = []
    texts = set()
    n = 0
    with open(path, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            n += 1
            try:
                o = json.loads(line)
            except Exception as e:
                errs.append("line %d: bad json %s" % (ln, e)); continue
            if list(o.keys()) != FIELDS:
                errs.append("line %d: fields %s" % (ln, list(o.keys())))
                continue
            want = "%s-%04d" % (PREFIX, ln)
            if o["id"] != want:
                errs.append("line %d: id %s != %s" % (ln, o["id"], want))
            t = o["text"]
            if not isinstance(t, str) or not t.strip():
                errs.append("%s: empty text" % want); continue
            if t in texts:
                errs.append("%s: duplicate text" % want)
            texts.add(t)
            if not isinstance(o["kind"], str) or not o["kind"].strip():
                errs.append("%s: empty kind" % want)
            for fld in ("names", "keep"):
                v = o[fld]
                if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                    errs.append("%s: %s must be list of non-empty strings" % (want, fld))
                if len(set(v)) != len(v):
                    errs.append("%s: duplicate strings in %s" % (want, fld))
                for s in v:
                    if s != s.strip():
                        errs.append("%s: %s string has outer whitespace %r" % (want, fld, s))
            name_spans = []
            for s in o["names"]:
                occ = occurrences(t, s)
                if not occ:
                    errs.append("%s: name %r not in text" % (want, s))
                for a, b in occ:
                    if not on_boundary(t, a, b):
                        errs.append("%s: name %r occurs off word boundary at %d" % (want, s, a))
                    name_spans.append((a, b))
            for s in o["keep"]:
                occ = occurrences(t, s)
                if not occ:
                    errs.append("%s: keep %r not in text" % (want, s))
                if occ and not any(on_boundary(t, a, b) for a, b in occ):
                    errs.append("%s: keep %r never on word boundary" % (want, s))
                for a, b in occ:
                    if not on_boundary(t, a, b):
                        continue
                    for c, d in name_spans:
                        if a < d and c < b:
                            errs.append("%s: keep %r overlaps a name at %d" % (want, s, a))
            if not o["names"] and not o["keep"]:
                errs.append("%s: no names and no keep" % want)
    for e in errs:
        print(e)
    print("%d records, %d errors" % (n, len(errs)))
    return 1 if errs else 0


if __name__ == "__main__":
    p = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    sys.exit(main(p))
