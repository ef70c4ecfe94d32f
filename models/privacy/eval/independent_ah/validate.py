#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only)."""
import json, sys, os

def is_word(ch):
    return ch.isalnum() or ch == '_'

def occurrences(text, s):
    """Start offsets of s in text that sit on word boundaries."""
    out = []
    i = text.find(s)
    while i != -1:
        j = i + len(s)
        left_ok = i == 0 or not (is_word(text[i-1]) and is_word(s[0]))
        right_ok = j == len(text) or not (is_word(text[j]) and is_word(s[-1]))
        if left_ok and right_ok:
            out.append((i, j))
        i = text.find(s, i + 1)
    return out

def main(path):
    errors = []
    seen = set()
    fields = ["id", "text", "names", "keep", "kind"]
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    for n, line in enumerate(lines, 1):
        try:
            obj = json.loads(line)
        except Exception as e:
            errors.append(f"line {n}: bad json {e}"); continue
        if list(obj.keys()) != fields:
            errors.append(f"line {n}: fields {list(obj.keys())}"); continue
        exp = f"nah-{n:04d}"
        if obj["id"] != exp:
            errors.append(f"line {n}: id {obj['id']} expected {exp}")
        t = obj["text"]
        if not isinstance(t, str) or not t.strip():
            errors.append(f"{exp}: empty text")
        if t in seen:
            errors.append(f"{exp}: duplicate text")
        seen.add(t)
        if not isinstance(obj["kind"], str) or not obj["kind"].strip():
            errors.append(f"{exp}: empty kind")
        for fld in ("names", "keep"):
            v = obj[fld]
            if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                errors.append(f"{exp}: {fld} must be list of non-empty strings")
                obj[fld] = []
            if len(set(v)) != len(v):
                errors.append(f"{exp}: duplicate strings in {fld}")
        name_spans = []
        for s in obj["names"]:
            occ = occurrences(t, s)
            if not occ:
                errors.append(f"{exp}: name {s!r} not found on word boundaries")
            if s != s.strip():
                errors.append(f"{exp}: name {s!r} has outer whitespace")
            name_spans += occ
        for s in obj["keep"]:
            occ = occurrences(t, s)
            if not occ:
                errors.append(f"{exp}: keep {s!r} not found on word boundaries")
            for a, b in occ:
                for c, d in name_spans:
                    if a < d and c < b:
                        errors.append(f"{exp}: keep {s!r} overlaps a name occurrence")
                        break
        if not obj["names"] and not obj["keep"]:
            errors.append(f"{exp}: no names and no keep strings")
    for e in errors:
        print(e)
    print(f"{len(lines)} records, {len(errors)} errors")
    return 1 if errors else 0

if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    sys.exit(main(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "names.jsonl")))
