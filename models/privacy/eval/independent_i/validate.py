#!/usr/bin/env python3
"""Standalone stdlib-only validator for names.jsonl (names corpus I, prefix ni)."""
import json, sys, os

PREFIX = "ni"
FIELDS = ["id", "text", "names", "keep", "kind"]


def is_word_char(c):
    return c.isalnum() or c == "_"


def occurrences(text, s):
    out, i = [], text.find(s)
    while i != -1:
        out.append((i, i + len(s)))
        i = text.find(s, i + 1)
    return out


def on_boundary(text, a, b, s):
    # a span "starts/ends on a word boundary" if the character outside the
    # span is not a word character whenever the span's edge character is one.
    if is_word_char(s[0]) and a > 0 and is_word_char(text[a - 1]):
        return False
    if is_word_char(s[-1]) and b < len(text) and is_word_char(text[b]):
        return False
    return True


def main(path):
    errors = []
    seen_texts = {}
    n = 0
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    for ln, line in enumerate(lines, 1):
        n += 1
        try:
            obj = json.loads(line)
        except Exception as e:
            errors.append(f"line {ln}: bad JSON: {e}")
            continue
        if not isinstance(obj, dict) or list(obj.keys()) != FIELDS:
            errors.append(f"line {ln}: fields must be exactly {FIELDS}, got {list(obj) if isinstance(obj, dict) else type(obj)}")
            continue
        want = f"{PREFIX}-{ln:04d}"
        if obj["id"] != want:
            errors.append(f"line {ln}: id {obj['id']!r} expected {want!r}")
        text, names, keep, kind = obj["text"], obj["names"], obj["keep"], obj["kind"]
        if not isinstance(text, str) or not text.strip():
            errors.append(f"{want}: text must be a non-empty string")
            continue
        if not isinstance(kind, str) or not kind.strip():
            errors.append(f"{want}: kind must be a non-empty string")
        for fld, lst in (("names", names), ("keep", keep)):
            if not isinstance(lst, list) or not all(isinstance(x, str) and x for x in lst):
                errors.append(f"{want}: {fld} must be a list of non-empty strings")
            elif len(set(lst)) != len(lst):
                errors.append(f"{want}: duplicate strings in {fld}")
        if not isinstance(names, list) or not isinstance(keep, list):
            continue
        if text in seen_texts:
            errors.append(f"{want}: text duplicates {seen_texts[text]}")
        else:
            seen_texts[text] = want
        name_spans = []
        for s in names:
            if s != s.strip():
                errors.append(f"{want}: name {s!r} has surrounding whitespace")
            occ = occurrences(text, s)
            if not occ:
                errors.append(f"{want}: name {s!r} not in text")
            for a, b in occ:
                if not on_boundary(text, a, b, s):
                    errors.append(f"{want}: name {s!r} occurs at {a} not on word boundaries")
            name_spans.extend(occ)
        for s in keep:
            if s != s.strip():
                errors.append(f"{want}: keep {s!r} has surrounding whitespace")
            occ = [o for o in occurrences(text, s) if on_boundary(text, o[0], o[1], s)]
            if not occ:
                errors.append(f"{want}: keep {s!r} not in text on word boundaries")
            for a, b in occ:
                for c, d in name_spans:
                    if a < d and c < b:
                        errors.append(f"{want}: keep {s!r} at {a} overlaps a name occurrence {text[c:d]!r}")
            if s in names:
                errors.append(f"{want}: {s!r} is both name and keep")
        if not names and not keep:
            errors.append(f"{want}: no names and no keep strings")
    if n == 0:
        errors.append("file is empty")
    for e in errors:
        print(e)
    print(f"{n} records, {len(errors)} errors")
    return 1 if errors else 0


if __name__ == "__main__":
    here = os.path.dirname(os.path.abspath(__file__))
    p = sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "names.jsonl")
    sys.exit(main(p))
