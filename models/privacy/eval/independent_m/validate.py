#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only).
Usage: python3 validate.py [path/to/names.jsonl]
Exits 0 if all checks pass, 1 otherwise."""
import json, re, sys, os

FIELDS = ["id", "text", "names", "keep", "kind"]

def occurrences(text, s):
    """Start/end of every occurrence of s in text that sits on word boundaries
    (no word character immediately before or after)."""
    pat = re.compile(r"(?<!\w)" + re.escape(s) + r"(?!\w)")
    return [(m.start(), m.end()) for m in pat.finditer(text)]

def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    errors = []
    texts = set()
    n_rows = 0
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                errors.append(f"line {lineno}: blank line")
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as ex:
                errors.append(f"line {lineno}: bad JSON ({ex})")
                continue
            n_rows += 1
            if list(obj.keys()) != FIELDS:
                errors.append(f"line {lineno}: fields {list(obj.keys())} != {FIELDS}")
                continue
            want = "nm-%04d" % n_rows
            if obj["id"] != want:
                errors.append(f"line {lineno}: id {obj['id']} expected {want}")
            t = obj["text"]
            if not isinstance(t, str) or not t.strip():
                errors.append(f"{obj['id']}: empty text")
                continue
            if t in texts:
                errors.append(f"{obj['id']}: duplicate text")
            texts.add(t)
            if not isinstance(obj["kind"], str) or not obj["kind"].strip():
                errors.append(f"{obj['id']}: empty kind")
            for fld in ("names", "keep"):
                v = obj[fld]
                if not isinstance(v, list) or not all(isinstance(s, str) and s for s in v):
                    errors.append(f"{obj['id']}: {fld} must be a list of non-empty strings")
                elif len(set(v)) != len(v):
                    errors.append(f"{obj['id']}: duplicate strings in {fld}")
            if errors and errors[-1].startswith(obj["id"] + ": names must") or errors and errors[-1].startswith(obj["id"] + ": keep must"):
                continue
            name_spans = []
            for s in obj["names"]:
                occ = occurrences(t, s)
                if not occ:
                    errors.append(f"{obj['id']}: name {s!r} not found on word boundaries")
                if not (re.match(r"\w", s) and re.search(r"\w$", s)):
                    errors.append(f"{obj['id']}: name {s!r} does not start and end with a word character")
                name_spans += occ
            for s in obj["keep"]:
                occ = occurrences(t, s)
                if not occ:
                    errors.append(f"{obj['id']}: keep {s!r} not found on word boundaries")
                if not (re.match(r"\w", s) and re.search(r"\w$", s)):
                    errors.append(f"{obj['id']}: keep {s!r} does not start and end with a word character")
                for a, b in occ:
                    for c, d in name_spans:
                        if a < d and c < b:
                            errors.append(f"{obj['id']}: keep {s!r} at {a} overlaps a name occurrence at {c}")
            if not obj["names"] and not obj["keep"]:
                errors.append(f"{obj['id']}: no names and no keep strings")
    if n_rows == 0:
        errors.append("no rows")
    for err in errors:
        print(err)
    print(f"{n_rows} rows, {len(errors)} errors")
    return 1 if errors else 0

if __name__ == "__main__":
    sys.exit(main())
