#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only)."""
import json, re, sys, os

FIELDS = ["id", "text", "names", "keep", "kind"]

def occurrences(text, s):
    spans = []
    start = 0
    while True:
        i = text.find(s, start)
        if i < 0:
            break
        j = i + len(s)
        before_ok = i == 0 or not re.match(r"\w", text[i - 1]) or not re.match(r"\w", s[0])
        after_ok = j == len(text) or not re.match(r"\w", text[j]) or not re.match(r"\w", s[-1])
        if before_ok and after_ok:
            spans.append((i, j))
        start = i + 1
    return spans

def main(path):
    errors = []
    seen = set()
    n = 0
    with open(path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line.strip():
                errors.append(f"line {lineno}: blank line")
                continue
            try:
                obj = json.loads(line)
            except Exception as e:
                errors.append(f"line {lineno}: bad json {e}")
                continue
            n += 1
            if list(obj.keys()) != FIELDS:
                errors.append(f"line {lineno}: fields {list(obj.keys())}")
                continue
            exp = f"nn-{n:04d}"
            if obj["id"] != exp:
                errors.append(f"line {lineno}: id {obj['id']} expected {exp}")
            text = obj["text"]
            if not isinstance(text, str) or not text:
                errors.append(f"{obj['id']}: empty text")
                continue
            if text in seen:
                errors.append(f"{obj['id']}: duplicate text")
            seen.add(text)
            if not isinstance(obj["kind"], str) or not obj["kind"].strip():
                errors.append(f"{obj['id']}: empty kind")
            for fld in ("names", "keep"):
                v = obj[fld]
                if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                    errors.append(f"{obj['id']}: {fld} must be list of non-empty strings")
                    continue
                if len(set(v)) != len(v):
                    errors.append(f"{obj['id']}: duplicate strings in {fld}")
                for s in v:
                    if s != s.strip():
                        errors.append(f"{obj['id']}: {fld} string has outer whitespace: {s!r}")
                    if not occurrences(text, s):
                        errors.append(f"{obj['id']}: {fld} string {s!r} not found on word boundaries")
            name_spans = [sp for s in obj["names"] for sp in occurrences(text, s)]
            for k in obj["keep"]:
                if k in obj["names"]:
                    errors.append(f"{obj['id']}: {k!r} in both names and keep")
                for (a, b) in occurrences(text, k):
                    for (c, d) in name_spans:
                        if a < d and c < b:
                            errors.append(f"{obj['id']}: keep {k!r} overlaps name at {c}-{d}")
            if not obj["names"] and not obj["keep"]:
                errors.append(f"{obj['id']}: no names and no keep")
    for e in errors:
        print(e)
    print(f"{n} records, {len(errors)} errors")
    return 1 if errors else 0

if __name__ == "__main__":
    p = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    sys.exit(main(p))
