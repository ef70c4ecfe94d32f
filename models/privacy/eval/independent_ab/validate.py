#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only).

Checks: ids in order without gaps, exact field set, texts unique, every
name/keep string occurs in its text on word boundaries, no keep occurrence
overlaps a name occurrence, comments without names carry a keep string.
Exit code 0 when everything passes.
"""
import json
import os
import re
import sys

FIELDS = ["id", "text", "names", "keep", "kind"]
PREFIX = "nab"


def occurrences(text, s):
    """Spans of s in text that start and end on word boundaries (case-sensitive)."""
    pat = (r"(?<!\w)" if re.match(r"\w", s[0]) else "") + re.escape(s) + (r"(?!\w)" if re.match(r"\w", s[-1]) else "")
    return [(m.start(), m.end()) for m in re.finditer(pat, text)]


def main(path):
    errors = []
    seen_texts = {}
    n = 0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                errors.append("line %d: blank line" % lineno)
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append("line %d: bad JSON: %s" % (lineno, e))
                continue
            n += 1
            if list(obj.keys()) != FIELDS:
                errors.append("line %d: fields %r != %r" % (lineno, list(obj.keys()), FIELDS))
                continue
            want = "%s-%04d" % (PREFIX, n)
            if obj["id"] != want:
                errors.append("line %d: id %r, expected %r" % (lineno, obj["id"], want))
            text = obj["text"]
            if not isinstance(text, str) or not text.strip():
                errors.append("%s: empty text" % obj["id"])
                continue
            if text in seen_texts:
                errors.append("%s: duplicate text of %s" % (obj["id"], seen_texts[text]))
            seen_texts[text] = obj["id"]
            if not isinstance(obj["kind"], str) or not obj["kind"].strip():
                errors.append("%s: empty kind" % obj["id"])
            for fld in ("names", "keep"):
                v = obj[fld]
                if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                    errors.append("%s: %s must be a list of non-empty strings" % (obj["id"], fld))
                elif len(set(v)) != len(v):
                    errors.append("%s: duplicate strings in %s" % (obj["id"], fld))
                elif any(x != x.strip() for x in v):
                    errors.append("%s: leading/trailing space in %s" % (obj["id"], fld))
            if errors and errors[-1].startswith(obj["id"] + ": names must") or errors and errors[-1].startswith(obj["id"] + ": keep must"):
                continue
            name_spans = []
            for s in obj["names"]:
                occ = occurrences(text, s)
                if not occ:
                    errors.append("%s: name %r not found on word boundaries" % (obj["id"], s))
                name_spans.extend(occ)
            for s in obj["keep"]:
                occ = occurrences(text, s)
                if not occ:
                    errors.append("%s: keep %r not found on word boundaries" % (obj["id"], s))
                for a, b in occ:
                    for c, d in name_spans:
                        if a < d and c < b:
                            errors.append("%s: keep %r at %d overlaps a name occurrence at %d-%d" % (obj["id"], s, a, c, d))
            if not obj["names"] and not obj["keep"]:
                errors.append("%s: no names and no keep string" % obj["id"])
    for e in errors:
        print(e)
    print("%d comments checked, %d errors" % (n, len(errors)))
    return 1 if errors else 0


if __name__ == "__main__":
    p = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    sys.exit(main(p))
