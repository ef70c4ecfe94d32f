#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only).

Usage: python3 validate.py [path/to/names.jsonl]
Exits 0 when every check passes, 1 otherwise.
"""
import json
import os
import re
import sys

FIELDS = ["id", "text", "names", "keep", "kind"]
PREFIX = "nam"


def occurrences(text, s):
    """Start/end spans of s in text where s sits on word boundaries."""
    pat = re.compile(r"(?<!\w)" + re.escape(s) + r"(?!\w)")
    return [(m.start(), m.end()) for m in pat.finditer(text)]


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
            errors.append(f"line {lineno}: {msg}")
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as ex:
            err(f"invalid JSON: {ex}")
            continue
        if not isinstance(obj, dict) or list(obj.keys()) != FIELDS:
            err(f"fields must be exactly {FIELDS}, got {list(obj.keys()) if isinstance(obj, dict) else type(obj)}")
            continue
        n += 1
        want = f"{PREFIX}-{n:04d}"
        if obj["id"] != want:
            err(f"id {obj['id']!r}, expected {want!r}")
        text = obj["text"]
        if not isinstance(text, str) or not text.strip():
            err("text must be a non-empty string")
            continue
        if text in seen_texts:
            err(f"duplicate text (same as line {seen_texts[text]})")
        seen_texts.setdefault(text, lineno)
        if not isinstance(obj["kind"], str) or not obj["kind"].strip():
            err("kind must be a non-empty string")
        spans = {}
        for field in ("names", "keep"):
            vals = obj[field]
            if not isinstance(vals, list) or not all(isinstance(v, str) and v for v in vals):
                err(f"{field} must be a list of non-empty strings")
                vals = []
            if len(set(vals)) != len(vals):
                err(f"{field} has duplicates")
            if set(vals) & set(spans.get("names_set", set())):
                err(f"string in both names and keep: {set(vals) & spans['names_set']}")
            occ = []
            for v in vals:
                if v != v.strip():
                    err(f"{field} string has surrounding whitespace: {v!r}")
                o = occurrences(text, v)
                if not o:
                    err(f"{field} string {v!r} not found on word boundaries")
                occ.extend(o)
            spans[field] = occ
            spans[field + "_set"] = set(vals)
        for ks, ke in spans["keep"]:
            for ns, ne in spans["names"]:
                if ks < ne and ns < ke:
                    err(f"keep {text[ks:ke]!r} overlaps name {text[ns:ne]!r}")
        if not obj["names"] and not obj["keep"]:
            err("comment without names has no keep string")
    if n == 0:
        errors.append("no records")
    for e in errors:
        print(e)
    print(f"{n} records checked, {len(errors)} error(s)")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
