"""Validate names.jsonl. Exit code 1 on any error."""
import collections
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
KINDS = {"signature", "my_details", "staff_role_first_name", "staff_title_surname", "relative",
         "initials_surname", "lower_case", "name_next_to_number", "multiple_people",
         "unusual_origin", "no_name_tricky", "no_name_plain"}
NO_NAME = {"no_name_tricky", "no_name_plain"}

def spans(text, s):
    out, i = [], text.find(s)
    while i != -1:
        out.append((i, i + len(s)))
        i = text.find(s, i + 1)
    return out

errors, ids, kinds = [], set(), collections.Counter()
n_named = n_keep = n_lines = 0
texts = collections.Counter()
for ln, line in enumerate(open(os.path.join(HERE, "names.jsonl"), encoding="utf-8"), 1):
    n_lines += 1
    r = json.loads(line)
    rid = r.get("id")
    if set(r) != {"id", "text", "names", "keep", "kind"}:
        errors.append(f"{rid}: bad keys {sorted(r)}")
    if rid in ids:
        errors.append(f"{rid}: duplicate id")
    ids.add(rid)
    t = r["text"]
    texts[t] += 1
    kinds[r["kind"]] += 1
    if r["kind"] not in KINDS:
        errors.append(f"{rid}: unknown kind {r['kind']}")
    if r["kind"] in NO_NAME and r["names"]:
        errors.append(f"{rid}: no-name kind but names given")
    if r["kind"] not in NO_NAME and not r["names"]:
        errors.append(f"{rid}: named kind but names empty")
    if len(set(r["names"])) != len(r["names"]) or len(set(r["keep"])) != len(r["keep"]):
        errors.append(f"{rid}: duplicate entry in names/keep")
    name_spans = []
    for s in r["names"]:
        sp = spans(t, s)
        if not s.strip() or not sp:
            errors.append(f"{rid}: name {s!r} not a substring")
        name_spans += sp
    for s in r["keep"]:
        sp = spans(t, s)
        if not s.strip() or not sp:
            errors.append(f"{rid}: keep {s!r} not a substring")
            continue
        # at least one occurrence of each keep item must lie outside every name span
        free = [a for a in sp if not any(a[0] < b[1] and b[0] < a[1] for b in name_spans)]
        if not free:
            errors.append(f"{rid}: keep {s!r} only occurs inside a name span")
    n_named += bool(r["names"])
    n_keep += bool(r["keep"])
for t, c in texts.items():
    if c > 1:
        errors.append(f"duplicate text x{c}: {t[:60]!r}")
if n_lines < 420: errors.append(f"only {n_lines} lines (< 420)")
if n_named < 300: errors.append(f"only {n_named} comments with names (< 300)")
print(f"lines={n_lines} with_names={n_named} without_names={n_lines-n_named} with_keep={n_keep}")
for k in sorted(KINDS):
    print(f"  {k:24s} {kinds[k]}")
for e in errors:
    print("ERROR", e)
sys.exit(1 if errors else 0)
