#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only).
Usage: python3 validate.py [path/to/names.jsonl]
Exit 0 when valid, 1 otherwise."""
import json, re, sys, os

FIELDS = ["id", "text", "names", "keep", "kind"]
PREFIX = "nad"


def is_word(c):
    return c.isalnum() or c == "_"


def occurrences(text, s):
    """All raw (case-sensitive) occurrence start offsets of s in text."""
    out, i = [], text.find(s)
    while i != -1:
        out.append(i)
        i = text.find(s, i + 1)
    return out


def bounded(text, start, s):
    end = start + len(s)
    before_ok = start == 0 or not is_word(text[start - 1])
    after_ok = end == len(text) or not is_word(text[end])
    return before_ok and after_ok


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    errors = []
    seen_texts = {}
    n = 0
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                errors.append(f"line {lineno}: blank line")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"line {lineno}: bad JSON: {e}")
                continue
            n += 1
            if not isinstance(obj, dict) or list(obj.keys()) != FIELDS:
                errors.append(f"line {lineno}: fields must be exactly {FIELDS} in order, got {list(obj.keys()) if isinstance(obj, dict) else type(obj)}")
                continue
            want = f"{PREFIX}-{n:04d}"
            if obj["id"] != want:
                errors.append(f"line {lineno}: id {obj['id']!r}, expected {want!r}")
            text = obj["text"]
            if not isinstance(text, str) or not text.strip():
                errors.append(f"{obj['id']}: text must be a non-empty string")
                continue
            if text in seen_texts:
                errors.append(f"{obj['id']}: duplicate text of {seen_texts[text]}")
            seen_texts[text] = obj["id"]
            if not isinstance(obj["kind"], str) or not obj["kind"].strip():
                errors.append(f"{obj['id']}: kind must be a non-empty string")
            for field in ("names", "keep"):
                v = obj[field]
                if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                    errors.append(f"{obj['id']}: {field} must be a list of non-empty strings")
                    continue
                if len(set(v)) != len(v):
                    errors.append(f"{obj['id']}: {field} has duplicates")
                for s in v:
                    if s != s.strip():
                        errors.append(f"{obj['id']}: {field} string {s!r} has outer whitespace")
                    if not (is_word(s[0]) and is_word(s[-1])):
                        errors.append(f"{obj['id']}: {field} string {s!r} must start and end with a word character")
                    occ = occurrences(text, s)
                    if not occ:
                        errors.append(f"{obj['id']}: {field} string {s!r} not in text")
                        continue
                    if not any(bounded(text, i, s) for i in occ):
                        errors.append(f"{obj['id']}: {field} string {s!r} never occurs on word boundaries")
                    bad = [i for i in occ if not bounded(text, i, s)]
                    if bad and field == "names":
                        errors.append(f"{obj['id']}: name {s!r} also occurs inside another word at {bad}")
            names = obj["names"] if isinstance(obj["names"], list) else []
            keep = obj["keep"] if isinstance(obj["keep"], list) else []
            name_spans = []
            for s in names:
                for i in occurrences(text, s):
                    if bounded(text, i, s):
                        name_spans.append((i, i + len(s), s))
            for k in keep:
                for i in occurrences(text, k):
                    if not bounded(text, i, k):
                        continue
                    for a, b, s in name_spans:
                        if i < b and a < i + len(k):
                            errors.append(f"{obj['id']}: keep {k!r} at {i} overlaps name {s!r} at {a}")
            if not names and not keep:
                errors.append(f"{obj['id']}: no names and no keep strings")
    if n == 0:
        errors.append("no records")
    for e in errors:
        print(e)
    print(f"{n} records, {len(errors)} errors")
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
