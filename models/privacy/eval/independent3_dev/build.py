#!/usr/bin/env python3
"""Parse the hand-written src/*.txt files into names.jsonl and validate.

Source format (one record per block, blocks separated by a line '---'):
    @@kind <label>      file-level default kind (optional, anywhere before records)
    @k <label>          kind for this record (overrides the default)
    <text lines>        everything else, verbatim (right-stripped), may span lines
    @n a | b | c        names (use \\n inside a name for a line break)
    @p x | y            keep strings (same escaping)
Exit status is non-zero on any parse or validation error.
"""
import json
import os
import sys
from collections import Counter

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
from validate import validate_records  # noqa: E402


def split_field(v):
    v = v.strip()
    if not v:
        return []
    return [p.strip().replace("\\n", "\n") for p in v.split(" | ") if p.strip()]


def parse_file(path):
    recs, errors = [], []
    default_kind = None
    blocks, cur = [], []
    with open(path, encoding="utf-8") as fh:
        for raw in fh:
            line = raw.rstrip("\n").rstrip()
            if line.startswith("@@kind "):
                default_kind = line[7:].strip()
                continue
            if line == "---":
                blocks.append(cur)
                cur = []
            else:
                cur.append(line)
    blocks.append(cur)
    for bi, block in enumerate(blocks):
        kind, names, keep, text_lines = default_kind, [], [], []
        seen_n = seen_p = False
        for line in block:
            if line.startswith("@k "):
                kind = line[3:].strip()
            elif line.startswith("@n") and (line == "@n" or line[2] == " "):
                names, seen_n = split_field(line[2:]), True
            elif line.startswith("@p") and (line == "@p" or line[2] == " "):
                keep, seen_p = split_field(line[2:]), True
            else:
                if seen_n or seen_p:
                    if line.strip():
                        errors.append("%s block %d: text after @n/@p: %r" % (path, bi, line))
                    continue
                text_lines.append(line)
        while text_lines and not text_lines[0].strip():
            text_lines.pop(0)
        while text_lines and not text_lines[-1].strip():
            text_lines.pop()
        if not text_lines and not names and not keep:
            continue  # empty block (e.g. header)
        if not text_lines:
            errors.append("%s block %d: no text" % (path, bi))
            continue
        if not kind:
            errors.append("%s block %d: no kind" % (path, bi))
        recs.append({"text": "\n".join(text_lines), "names": names, "keep": keep,
                     "kind": kind or "", "_src": "%s#%d" % (os.path.basename(path), bi)})
    return recs, errors


def main():
    src = os.path.join(HERE, "src")
    files = sorted(f for f in os.listdir(src) if f.endswith(".txt"))
    allrecs, errors = [], []
    for f in files:
        r, e = parse_file(os.path.join(src, f))
        allrecs += r
        errors += e
    out = []
    for i, r in enumerate(allrecs, 1):
        out.append({"id": "nc-%04d" % i, "text": r["text"], "names": r["names"],
                    "keep": r["keep"], "kind": r["kind"]})
    verrs = validate_records(out)
    src_of = {"nc-%04d" % i: r["_src"] for i, r in enumerate(allrecs, 1)}
    for e in verrs:
        rid = e.split(":")[0]
        errors.append("%s [%s]" % (e, src_of.get(rid, "?")))
    with open(os.path.join(HERE, "names.jsonl"), "w", encoding="utf-8") as fh:
        for r in out:
            fh.write(json.dumps(r, ensure_ascii=False) + "\n")
    with_names = sum(1 for r in out if r["names"])
    print("source files: %d" % len(files))
    print("comments: %d  with names: %d  without names: %d" % (len(out), with_names, len(out) - with_names))
    print("name strings: %d  keep strings: %d" % (sum(len(r["names"]) for r in out), sum(len(r["keep"]) for r in out)))
    print("counts by kind:")
    for k, c in sorted(Counter(r["kind"] for r in out).items()):
        print("  %-22s %d" % (k, c))
    if errors:
        print("ERRORS (%d):" % len(errors))
        for e in errors:
            print("  " + e)
        return 1
    print("OK")
    return 0


if __name__ == "__main__":
    sys.exit(main())
