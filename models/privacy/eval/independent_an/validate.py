#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only).
Usage: python3 validate.py [path/to/names.jsonl]   exit 0 = valid."""
import json, re, sys, os

FIELDS = ["id", "text", "names", "keep", "kind"]

def occurrences(s, text):
    """Start offsets of s in text where it sits on word boundaries."""
    pat = re.compile(r'(?<!\w)' + re.escape(s) + r'(?!\w)')
    out, pos = [], 0
    while True:
        m = pat.search(text, pos)
        if not m:
            return out
        out.append(m.start())
        pos = m.start() + 1

def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    errors = []
    seen_texts = {}
    n_rows = 0
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                errors.append(f"line {lineno}: blank line")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as e:
                errors.append(f"line {lineno}: bad JSON ({e})")
                continue
            n_rows += 1
            where = f"line {lineno}"
            if not isinstance(obj, dict) or list(obj.keys()) != FIELDS:
                errors.append(f"{where}: fields must be exactly {FIELDS}, got {list(obj) if isinstance(obj, dict) else type(obj)}")
                continue
            want = f"nan-{n_rows:04d}"
            if obj["id"] != want:
                errors.append(f"{where}: id {obj['id']!r}, expected {want!r}")
            where = f"{obj['id']}"
            text = obj["text"]
            if not isinstance(text, str) or not text.strip():
                errors.append(f"{where}: text must be a non-empty string")
                continue
            if text in seen_texts:
                errors.append(f"{where}: duplicate text (same as {seen_texts[text]})")
            seen_texts[text] = obj["id"]
            if not isinstance(obj["kind"], str) or not obj["kind"].strip():
                errors.append(f"{where}: kind must be a non-empty string")
            spans = {}
            for field in ("names", "keep"):
                lst = obj[field]
                if not isinstance(lst, list) or not all(isinstance(x, str) and x for x in lst):
                    errors.append(f"{where}: {field} must be a list of non-empty strings")
                    lst = []
                if len(set(lst)) != len(lst):
                    errors.append(f"{where}: {field} has duplicates")
                spans[field] = []
                for s in lst:
                    if not (re.match(r'\w', s) and re.search(r'\w$', s)):
                        errors.append(f"{where}: {field} string {s!r} must start and end with a word character")
                    occ = occurrences(s, text)
                    if not occ:
                        errors.append(f"{where}: {field} string {s!r} not found on word boundaries in text")
                    spans[field] += [(o, o + len(s), s) for o in occ]
            for ks, ke, k in spans["keep"]:
                for ns, ne, n in spans["names"]:
                    if ks < ne and ns < ke:
                        errors.append(f"{where}: keep {k!r} overlaps name occurrence {n!r} at {ns}")
            if not obj["names"] and not obj["keep"]:
                errors.append(f"{where}: no names, so at least one keep string is required")
    for e in errors:
        print(e)
    print(f"{n_rows} rows, {len(errors)} errors")
    return 1 if errors or n_rows == 0 else 0

if __name__ == "__main__":
    sys.exit(main())
