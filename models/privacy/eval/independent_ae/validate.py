#!/usr/bin/env python3
"""Standalone stdlib-only validator for names.jsonl (names corpus AE)."""
import json, os, sys

HERE = os.path.dirname(os.path.abspath(__file__))
PATH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "names.jsonl")
FIELDS = ["id", "text", "names", "keep", "kind"]


def is_word(c):
    return c.isalnum() or c == "_"


def occurrences(text, s):
    out, i = [], text.find(s)
    while i != -1:
        out.append((i, i + len(s)))
        i = text.find(s, i + 1)
    return out


def on_boundary(text, a, b):
    s = text[a:b]
    left_ok = a == 0 or not is_word(text[a - 1]) or not is_word(s[0])
    right_ok = b == len(text) or not is_word(text[b]) or not is_word(s[-1])
    return left_ok and right_ok


def main():
    errors = []
    seen = set()
    n = 0
    with open(PATH, encoding="utf-8") as f:
        for ln, line in enumerate(f, 1):
            n += 1
            try:
                obj = json.loads(line)
            except Exception as e:
                errors.append(f"line {ln}: bad json {e}")
                continue
            if list(obj.keys()) != FIELDS:
                errors.append(f"line {ln}: fields {list(obj.keys())}")
                continue
            rid, text, names, keep, kind = (obj[k] for k in FIELDS)
            if rid != f"nae-{ln:04d}":
                errors.append(f"line {ln}: id {rid} out of order")
            if not isinstance(text, str) or not text.strip():
                errors.append(f"{rid}: empty text")
                continue
            if text in seen:
                errors.append(f"{rid}: duplicate text")
            seen.add(text)
            if not isinstance(kind, str) or not kind.strip():
                errors.append(f"{rid}: empty kind")
            for lst, lab in ((names, "names"), (keep, "keep")):
                if not isinstance(lst, list) or not all(isinstance(x, str) and x for x in lst):
                    errors.append(f"{rid}: {lab} must be list of non-empty strings")
                if len(set(lst)) != len(lst):
                    errors.append(f"{rid}: duplicate strings in {lab}")
            name_spans = []
            for s in names:
                occ = occurrences(text, s)
                if not occ:
                    errors.append(f"{rid}: name {s!r} not in text")
                if s != s.strip():
                    errors.append(f"{rid}: name {s!r} has outer whitespace")
                for a, b in occ:
                    if not on_boundary(text, a, b):
                        errors.append(f"{rid}: name {s!r} at {a} not on word boundary")
                    name_spans.append((a, b))
            for s in keep:
                occ = occurrences(text, s)
                if not occ:
                    errors.append(f"{rid}: keep {s!r} not in text")
                for a, b in occ:
                    if not on_boundary(text, a, b):
                        errors.append(f"{rid}: keep {s!r} at {a} not on word boundary")
                    for c, d in name_spans:
                        if a < d and c < b:
                            errors.append(f"{rid}: keep {s!r} overlaps name {text[c:d]!r}")
            if not names and not keep:
                errors.append(f"{rid}: no names and no keep")
    for e in errors:
        print(e)
    print(f"{n} records, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
