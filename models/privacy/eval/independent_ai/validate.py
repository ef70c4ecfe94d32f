#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only).

Checks: ids in order without gaps, exact field set and types, unique texts,
every name/keep string occurs in its text on word boundaries, no keep
occurrence overlaps a name occurrence, and comments without names carry at
least one keep string. Exit code 0 when everything passes.
"""
import json
import os
import sys

PREFIX = "nai"
FIELDS = ["id", "text", "names", "keep", "kind"]


def is_word(ch):
    return ch.isalnum() or ch == "_"


def occurrences(text, s):
    """All start offsets of s in text (case-sensitive, overlapping allowed)."""
    out, i = [], text.find(s)
    while i != -1:
        out.append(i)
        i = text.find(s, i + 1)
    return out


def on_boundary(text, start, s):
    end = start + len(s)
    if is_word(s[0]) and start > 0 and is_word(text[start - 1]):
        return False
    if is_word(s[-1]) and end < len(text) and is_word(text[end]):
        return False
    return True


def main(path):
    errors = []
    seen_texts = {}
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    for n, line in enumerate(lines, 1):
        where = "line %d" % n
        try:
            obj = json.loads(line)
        except ValueError as exc:
            errors.append("%s: bad JSON (%s)" % (where, exc))
            continue
        if not isinstance(obj, dict) or list(obj.keys()) != FIELDS:
            errors.append("%s: fields must be exactly %s in that order" % (where, FIELDS))
            continue
        want = "%s-%04d" % (PREFIX, n)
        if obj["id"] != want:
            errors.append("%s: id %r, expected %r" % (where, obj["id"], want))
        text = obj["text"]
        if not isinstance(text, str) or not text.strip():
            errors.append("%s: empty or non-string text" % where)
            continue
        if text in seen_texts:
            errors.append("%s: duplicate text of line %d" % (where, seen_texts[text]))
        seen_texts.setdefault(text, n)
        if not isinstance(obj["kind"], str) or not obj["kind"].strip():
            errors.append("%s: kind must be a non-empty string" % where)
        spans = {}
        for field in ("names", "keep"):
            vals = obj[field]
            if not isinstance(vals, list) or not all(isinstance(v, str) and v for v in vals):
                errors.append("%s: %s must be a list of non-empty strings" % (where, field))
                vals = []
            if len(set(vals)) != len(vals):
                errors.append("%s: duplicate strings in %s" % (where, field))
            ranges = []
            for v in vals:
                if v != v.strip():
                    errors.append("%s: %s string %r has outer whitespace" % (where, field, v))
                occ = occurrences(text, v)
                if not occ:
                    errors.append("%s: %s string %r not in text" % (where, field, v))
                for st in occ:
                    if not on_boundary(text, st, v):
                        errors.append("%s: %s string %r at %d not on word boundaries" % (where, field, v, st))
                    ranges.append((st, st + len(v), v))
            spans[field] = ranges
        for a0, a1, kv in spans["keep"]:
            for b0, b1, nv in spans["names"]:
                if a0 < b1 and b0 < a1:
                    errors.append("%s: keep %r overlaps name %r" % (where, kv, nv))
        if not obj["names"] and not obj["keep"]:
            errors.append("%s: no names and no keep strings" % where)
    if not lines:
        errors.append("file is empty")
    for e in errors:
        print(e)
    print("%d comments checked, %d problems" % (len(lines), len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    default = os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else default))
