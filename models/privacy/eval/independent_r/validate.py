#!/usr/bin/env python3
"""Standalone stdlib-only validator for names.jsonl (names corpus R).

Checks: ids nr-0001.. in order without gaps; exactly the fields id,text,names,keep,kind;
texts unique; every names/keep string occurs in its text on word boundaries;
every raw occurrence of a name string is on word boundaries or lies inside an
occurrence of another name string; no keep occurrence overlaps a name occurrence;
comments without names have at least one keep string. Exit 0 if all good.
"""
import json, os, sys

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
    if a > 0 and is_word(text[a - 1]) and is_word(text[a]):
        return False
    if b < len(text) and is_word(text[b - 1]) and is_word(text[b]):
        return False
    return True


def main(path):
    errors = []
    seen = set()
    n = 0
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    for ln, line in enumerate(lines, 1):
        n += 1
        try:
            obj = json.loads(line)
        except Exception as e:
            errors.append(f"line {ln}: bad json {e}")
            continue
        if list(obj.keys()) != FIELDS:
            errors.append(f"line {ln}: fields {list(obj.keys())}")
            continue
        want = f"nr-{ln:04d}"
        if obj["id"] != want:
            errors.append(f"line {ln}: id {obj['id']} != {want}")
        t = obj["text"]
        if not isinstance(t, str) or not t.strip():
            errors.append(f"{want}: empty text")
            continue
        if t in seen:
            errors.append(f"{want}: duplicate text")
        seen.add(t)
        if not isinstance(obj["kind"], str) or not obj["kind"].strip():
            errors.append(f"{want}: empty kind")
        for fld in ("names", "keep"):
            v = obj[fld]
            if not isinstance(v, list) or not all(isinstance(x, str) and x for x in v):
                errors.append(f"{want}: {fld} must be list of non-empty strings")
            elif len(set(v)) != len(v):
                errors.append(f"{want}: duplicate strings in {fld}")
        names, keep = obj["names"], obj["keep"]
        name_spans = []
        for s in names:
            occ = occurrences(t, s)
            if not occ:
                errors.append(f"{want}: name {s!r} not in text")
            name_spans.extend(occ)
        for s in names:
            occ = occurrences(t, s)
            if occ and not any(on_boundary(t, a, b) for a, b in occ):
                errors.append(f"{want}: name {s!r} never on word boundaries")
            for a, b in occ:
                if on_boundary(t, a, b):
                    continue
                if not any(x <= a and b <= y and (x, y) != (a, b) for x, y in name_spans):
                    errors.append(f"{want}: name {s!r} occurs inside a word at {a} (not covered by another name)")
        for s in keep:
            occ = occurrences(t, s)
            if not occ:
                errors.append(f"{want}: keep {s!r} not in text")
            elif not any(on_boundary(t, a, b) for a, b in occ):
                errors.append(f"{want}: keep {s!r} never on word boundaries")
            for a, b in occ:
                for x, y in name_spans:
                    if a < y and x < b:
                        errors.append(f"{want}: keep {s!r} overlaps a name at {a}")
        if not names and not keep:
            errors.append(f"{want}: no names and no keep strings")
    for e in errors:
        print(e)
    print(f"{n} comments checked, {len(errors)} errors")
    return 1 if errors or n == 0 else 0


if __name__ == "__main__":
    p = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    sys.exit(main(p))
