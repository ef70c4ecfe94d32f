#!/usr/bin/env python3
"""Standalone validator for names.jsonl (standard library only).

Checks: valid JSON per line, exact field set, id format and uniqueness,
unique texts, types, every name/keep string occurs in its text, every
occurrence of a name string sits on word boundaries (never inside a longer
word), no keep occurrence overlaps a name occurrence, no string is both a
name and a keep, comments without names carry at least one keep string.
Exit status 0 when clean, 1 on any error.
"""
import json
import re
import sys
from collections import Counter

FIELDS = {"id", "text", "names", "keep", "kind"}
ID_RE = re.compile(r"^nc-\d{4}$")


def occurrences(text, s):
    out, start = [], 0
    while True:
        i = text.find(s, start)
        if i < 0:
            return out
        out.append((i, i + len(s)))
        start = i + 1


def is_word(ch):
    return ch.isalnum()


def validate_records(recs):
    errors = []
    ids, texts = set(), set()
    for n, r in enumerate(recs, 1):
        where = r.get("id", "line %d" % n) if isinstance(r, dict) else "line %d" % n
        if not isinstance(r, dict):
            errors.append("%s: not an object" % where)
            continue
        if set(r) != FIELDS:
            errors.append("%s: fields %s != %s" % (where, sorted(r), sorted(FIELDS)))
            continue
        rid, text, names, keep, kind = r["id"], r["text"], r["names"], r["keep"], r["kind"]
        if not isinstance(rid, str) or not ID_RE.match(rid):
            errors.append("%s: bad id" % where)
        if rid in ids:
            errors.append("%s: duplicate id" % where)
        ids.add(rid)
        if not isinstance(text, str) or not text.strip():
            errors.append("%s: empty or non-string text" % where)
            continue
        if text in texts:
            errors.append("%s: duplicate text" % where)
        texts.add(text)
        if not isinstance(kind, str) or not kind:
            errors.append("%s: bad kind" % where)
        for fname, lst in (("names", names), ("keep", keep)):
            if not isinstance(lst, list) or not all(isinstance(x, str) and x.strip() for x in lst):
                errors.append("%s: %s must be a list of non-empty strings" % (where, fname))
            elif len(set(lst)) != len(lst):
                errors.append("%s: duplicate entries in %s" % (where, fname))
        if not isinstance(names, list) or not isinstance(keep, list):
            continue
        both = set(names) & set(keep)
        if both:
            errors.append("%s: strings in both names and keep: %s" % (where, sorted(both)))
        name_spans = []
        for s in names:
            occ = occurrences(text, s)
            if not occ:
                errors.append("%s: name %r not in text" % (where, s))
                continue
            for a, b in occ:
                before = text[a - 1] if a > 0 else " "
                after = text[b] if b < len(text) else " "
                if (is_word(s[0]) and is_word(before)) or (is_word(s[-1]) and is_word(after)):
                    errors.append("%s: name %r occurs inside a longer word at %d (%r)"
                                  % (where, s, a, text[max(0, a - 8):b + 8]))
            name_spans.extend(occ)
        for s in keep:
            occ = occurrences(text, s)
            if not occ:
                errors.append("%s: keep %r not in text" % (where, s))
                continue
            for a, b in occ:
                for c, d in name_spans:
                    if a < d and c < b:
                        errors.append("%s: keep %r at %d overlaps a name occurrence %r"
                                      % (where, s, a, text[c:d]))
        if not names and not keep:
            errors.append("%s: comment without names has no keep strings" % where)
    return errors


def load(path):
    recs, errors = [], []
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                errors.append("line %d: blank line" % n)
                continue
            try:
                recs.append(json.loads(line))
            except json.JSONDecodeError as e:
                errors.append("line %d: invalid JSON (%s)" % (n, e))
    return recs, errors


def main(argv):
    path = argv[1] if len(argv) > 1 else "names.jsonl"
    recs, errors = load(path)
    errors += validate_records(recs)
    good = [r for r in recs if isinstance(r, dict) and set(r) == FIELDS]
    with_names = sum(1 for r in good if r["names"])
    n_names = sum(len(r["names"]) for r in good)
    n_keep = sum(len(r["keep"]) for r in good)
    print("file: %s" % path)
    print("comments: %d  with names: %d  without names: %d" % (len(good), with_names, len(good) - with_names))
    print("name strings: %d  keep strings: %d" % (n_names, n_keep))
    for k, c in sorted(Counter(r["kind"] for r in good).items()):
        print("  %-22s %d" % (k, c))
    if errors:
        print("ERRORS (%d):" % len(errors))
        for e in errors:
            print("  " + e)
        return 1
    print("OK: no errors")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
