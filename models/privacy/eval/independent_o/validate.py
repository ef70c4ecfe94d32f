#!/usr/bin/env python3
"""Standalone stdlib-only validator for names.jsonl (corpus O)."""
import json, re, sys, os

FIELDS = ["id", "text", "names", "keep", "kind"]


def occurrences(text, s):
    """Start offsets of s in text that sit on word boundaries."""
    res = []
    start = 0
    while True:
        i = text.find(s, start)
        if i < 0:
            break
        j = i + len(s)
        before_ok = i == 0 or not (text[i - 1].isalnum() or text[i - 1] == "_")
        after_ok = j == len(text) or not (text[j].isalnum() or text[j] == "_")
        if before_ok and after_ok:
            res.append((i, j))
        start = i + 1
    return res


def main(path):
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
            if list(obj.keys()) != FIELDS:
                errors.append(f"line {lineno}: fields {list(obj.keys())} != {FIELDS}")
                continue
            want = "no-%04d" % n
            if obj["id"] != want:
                errors.append(f"line {lineno}: id {obj['id']} expected {want}")
            text = obj["text"]
            if not isinstance(text, str) or not text.strip():
                errors.append(f"{obj['id']}: empty text")
                continue
            if text in seen_texts:
                errors.append(f"{obj['id']}: duplicate text of {seen_texts[text]}")
            seen_texts[text] = obj["id"]
            if not isinstance(obj["kind"], str) or not obj["kind"].strip():
                errors.append(f"{obj['id']}: empty kind")
            for fld in ("names", "keep"):
                v = obj[fld]
                if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                    errors.append(f"{obj['id']}: {fld} must be list of non-empty strings")
                if len(set(v)) != len(v):
                    errors.append(f"{obj['id']}: duplicate strings in {fld}")
            name_spans = []
            for s in obj["names"]:
                if s != s.strip():
                    errors.append(f"{obj['id']}: name {s!r} has outer whitespace")
                occ = occurrences(text, s)
                if not occ:
                    errors.append(f"{obj['id']}: name {s!r} not found on word boundaries")
                if text.count(s) != len(occ):
                    errors.append(f"{obj['id']}: name {s!r} also occurs inside another word")
                name_spans.extend(occ)
            for s in obj["keep"]:
                if s != s.strip():
                    errors.append(f"{obj['id']}: keep {s!r} has outer whitespace")
                occ = occurrences(text, s)
                if not occ:
                    errors.append(f"{obj['id']}: keep {s!r} not found on word boundaries")
                for (a, b) in occ:
                    for (c, d) in name_spans:
                        if a < d and c < b:
                            errors.append(f"{obj['id']}: keep {s!r} at {a} overlaps a name at {c}-{d}")
            if s_in := set(obj["names"]) & set(obj["keep"]):
                errors.append(f"{obj['id']}: strings in both names and keep: {s_in}")
            if not obj["names"] and not obj["keep"]:
                errors.append(f"{obj['id']}: no names and no keep")
    for e in errors:
        print(e)
    print(f"{n} records, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    p = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    sys.exit(main(p))
