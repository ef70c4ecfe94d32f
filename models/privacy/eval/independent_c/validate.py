#!/usr/bin/env python3
"""Standalone validator for names.jsonl (stdlib only).

Usage: python3 validate.py [path/to/names.jsonl]
Exit code 0 if all checks pass, 1 otherwise.
"""
import json, re, sys, os
from collections import Counter

FIELDS = {"id", "text", "names", "keep", "kind"}
ID_RE = re.compile(r"^ne-(\d{4})$")


def is_word_char(ch):
    return ch.isalnum() or ch == "_"


def occurrences(text, s):
    """All (start, end) spans of case-sensitive occurrences of s in text."""
    out, i = [], text.find(s)
    while i != -1:
        out.append((i, i + len(s)))
        i = text.find(s, i + 1)
    return out


def on_boundary(text, s, e):
    needle = text[s:e]
    left_ok = s == 0 or not (is_word_char(text[s - 1]) and is_word_char(needle[0]))
    right_ok = e == len(text) or not (is_word_char(text[e]) and is_word_char(needle[-1]))
    return left_ok and right_ok


def main(path):
    errors = []
    stats = Counter()
    seen_ids, seen_texts = set(), {}
    expected = 1
    kinds = Counter()
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    if lines and lines[-1] == "":
        lines = lines[:-1]
    for ln, line in enumerate(lines, 1):
        where = f"line {ln}"
        try:
            o = json.loads(line)
        except Exception as ex:
            errors.append(f"{where}: invalid JSON ({ex})")
            expected += 1
            continue
        if not isinstance(o, dict) or set(o) != FIELDS:
            errors.append(f"{where}: field set {sorted(o) if isinstance(o, dict) else type(o)} != {sorted(FIELDS)}")
            expected += 1
            continue
        rid, text, names, keep, kind = o["id"], o["text"], o["names"], o["keep"], o["kind"]
        where = f"line {ln} ({rid})"
        m = ID_RE.match(rid) if isinstance(rid, str) else None
        if not m:
            errors.append(f"{where}: bad id format")
        elif int(m.group(1)) != expected:
            errors.append(f"{where}: id out of order, expected ne-{expected:04d}")
        expected += 1
        if rid in seen_ids:
            errors.append(f"{where}: duplicate id")
        seen_ids.add(rid)
        if not isinstance(text, str) or not text.strip():
            errors.append(f"{where}: text must be a non-empty string")
            continue
        if text in seen_texts:
            errors.append(f"{where}: duplicate text (also {seen_texts[text]})")
        seen_texts[text] = rid
        if not isinstance(kind, str) or not kind.strip():
            errors.append(f"{where}: kind must be a non-empty string")
        kinds[kind] += 1
        ok_lists = True
        for fld, lst in (("names", names), ("keep", keep)):
            if not isinstance(lst, list) or not all(isinstance(x, str) and x for x in lst):
                errors.append(f"{where}: {fld} must be a list of non-empty strings")
                ok_lists = False
            elif len(set(lst)) != len(lst):
                errors.append(f"{where}: duplicate strings in {fld}")
        if not ok_lists:
            continue
        both = set(names) & set(keep)
        if both:
            errors.append(f"{where}: strings in both names and keep: {sorted(both)}")
        name_spans = []
        for n in names:
            occ = occurrences(text, n)
            if not occ:
                errors.append(f"{where}: name {n!r} not in text")
            for s, e in occ:
                if not on_boundary(text, s, e):
                    errors.append(f"{where}: name {n!r} occurs inside a longer word at {s}")
            name_spans.extend(occ)
            if n != n.strip():
                errors.append(f"{where}: name {n!r} has surrounding whitespace")
        for k in keep:
            occ = occurrences(text, k)
            if not occ:
                errors.append(f"{where}: keep {k!r} not in text")
            for s, e in occ:
                if not on_boundary(text, s, e):
                    errors.append(f"{where}: keep {k!r} occurs inside a longer word at {s}")
                for ns, ne in name_spans:
                    if s < ne and ns < e:
                        errors.append(f"{where}: keep {k!r} at {s} overlaps a name occurrence {text[ns:ne]!r}")
                        break
            if k != k.strip():
                errors.append(f"{where}: keep {k!r} has surrounding whitespace")
        if not names and not keep:
            errors.append(f"{where}: comment without names has no keep string")
        stats["comments"] += 1
        stats["with_names"] += bool(names)
        stats["name_strings"] += len(names)
        stats["keep_strings"] += len(keep)
    for e in errors:
        print("ERROR", e)
    print(f"comments={stats['comments']} with_names={stats['with_names']} "
          f"without_names={stats['comments'] - stats['with_names']} "
          f"name_strings={stats['name_strings']} keep_strings={stats['keep_strings']}")
    for k, v in sorted(kinds.items()):
        print(f"  kind {k!r}: {v}")
    print("PASS" if not errors else f"FAIL ({len(errors)} errors)")
    return 0 if not errors else 1


if __name__ == "__main__":
    p = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(os.path.abspath(__file__)), "names.jsonl")
    sys.exit(main(p))
