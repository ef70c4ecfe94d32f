#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only).

Checks:
  * every line is a JSON object with exactly the fields id, text, names, keep, kind
  * ids are nw-0001, nw-0002, ... in order with no gaps
  * text is a non-empty string, and all texts are unique
  * names / keep are lists of distinct non-empty strings; kind is a non-empty string
  * every name and keep string occurs in its text, and EVERY (case-sensitive)
    occurrence of it starts and ends on a word boundary
  * no occurrence of a keep string overlaps an occurrence of a name string
  * a comment with no names has at least one keep string

Usage: python3 validate.py [path/to/names.jsonl]
Exit status 0 when everything passes, 1 otherwise.
"""
import json
import os
import re
import sys

FIELDS = ["id", "text", "names", "keep", "kind"]
PREFIX = "nw"
WORD = re.compile(r"\w")


def is_word(ch):
    return bool(WORD.match(ch))


def occurrences(text, s):
    out = []
    i = text.find(s)
    while i != -1:
        out.append((i, i + len(s)))
        i = text.find(s, i + 1)
    return out


def on_boundary(text, start, end):
    s = text[start:end]
    if is_word(s[0]) and start > 0 and is_word(text[start - 1]):
        return False
    if is_word(s[-1]) and end < len(text) and is_word(text[end]):
        return False
    return True


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    errors = []
    seen_texts = {}
    n = 0
    with open(path, encoding="utf-8") as fh:
        lines = fh.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for lineno, line in enumerate(lines, 1):
        def err(msg):
            errors.append("line %d: %s" % (lineno, msg))
        try:
            obj = json.loads(line)
        except ValueError as e:
            err("bad JSON: %s" % e)
            continue
        if not isinstance(obj, dict) or list(obj.keys()) != FIELDS:
            err("fields must be exactly %s in that order, got %s" % (
                FIELDS, list(obj.keys()) if isinstance(obj, dict) else type(obj)))
            continue
        n += 1
        want = "%s-%04d" % (PREFIX, n)
        if obj["id"] != want:
            err("id %r, expected %r" % (obj["id"], want))
        text = obj["text"]
        if not isinstance(text, str) or not text.strip():
            err("text must be a non-empty string")
            continue
        if text in seen_texts:
            err("duplicate text (same as line %d)" % seen_texts[text])
        seen_texts[text] = lineno
        if not isinstance(obj["kind"], str) or not obj["kind"].strip():
            err("kind must be a non-empty string")
        spans = {}
        for field in ("names", "keep"):
            vals = obj[field]
            if not isinstance(vals, list) or not all(isinstance(v, str) and v for v in vals):
                err("%s must be a list of non-empty strings" % field)
                vals = []
            if len(set(vals)) != len(vals):
                err("%s has duplicates" % field)
            spans[field] = []
            for v in vals:
                if v != v.strip():
                    err("%s string %r has surrounding whitespace" % (field, v))
                occ = occurrences(text, v)
                if not occ:
                    err("%s string %r not found in text" % (field, v))
                for (a, b) in occ:
                    if not on_boundary(text, a, b):
                        err("%s string %r at %d not on word boundaries" % (field, v, a))
                spans[field].extend((a, b, v) for (a, b) in occ)
        for (a, b, k) in spans["keep"]:
            for (c, d, nm) in spans["names"]:
                if a < d and c < b:
                    err("keep %r overlaps name %r" % (k, nm))
        if set(obj["names"]) & set(obj["keep"]):
            err("a string is in both names and keep")
        if not obj["names"] and not obj["keep"]:
            err("comment without names has no keep string")
    if n == 0:
        errors.append("no records")
    for e in errors:
        print(e)
    print("%d records, %d errors" % (n, len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
