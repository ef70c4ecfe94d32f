#!/usr/bin/env python3
"""Standalone validator for coded.jsonl (stdlib only)."""
import json, re, sys, collections, os
HERE = os.path.dirname(os.path.abspath(__file__))
CODEBOOK = sys.argv[2] if len(sys.argv) > 2 else "/work/indep/taxonomy_table.md"
PATH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "coded.jsonl")
ids = []
for line in open(CODEBOOK, encoding="utf-8"):
    m = re.match(r"^\|\s*([a-z_]+)\s*\|", line)
    if m and m.group(1) != "id":
        ids.append(m.group(1))
IDS = set(ids)
errs = []
KEYS = {"id", "service", "question", "text", "categories", "polarity"}
seen = {}
cat_pol = collections.defaultdict(collections.Counter)
serv, ques = collections.Counter(), collections.Counter()
n = 0; nonans = 0
for ln, line in enumerate(open(PATH, encoding="utf-8"), 1):
    try:
        r = json.loads(line)
    except Exception as e:
        errs.append(f"line {ln}: bad json {e}"); continue
    n += 1
    if set(r) != KEYS: errs.append(f"line {ln}: keys {sorted(r)}")
    if r.get("id") != f"tr2-{n:04d}": errs.append(f"line {ln}: id {r.get('id')} expected tr2-{n:04d}")
    for k in ("service", "question", "text"):
        if not isinstance(r.get(k), str): errs.append(f"line {ln}: {k} not str")
    t = r.get("text", "")
    if not t.strip(): errs.append(f"line {ln}: empty text")
    norm = " ".join(t.lower().split())
    if norm in seen: errs.append(f"line {ln}: duplicate text of line {seen[norm]}")
    seen[norm] = ln
    cats, pol = r.get("categories"), r.get("polarity")
    if not isinstance(cats, list) or not isinstance(pol, dict):
        errs.append(f"line {ln}: categories/polarity types"); continue
    if len(cats) > 3: errs.append(f"line {ln}: more than 3 categories")
    if len(set(cats)) != len(cats): errs.append(f"line {ln}: repeated category")
    for c in cats:
        if c not in IDS: errs.append(f"line {ln}: unknown category {c}")
    if set(pol) != set(cats): errs.append(f"line {ln}: polarity keys != categories")
    for c, p in pol.items():
        if p not in ("positive", "negative", "neutral"): errs.append(f"line {ln}: bad polarity {p}")
        cat_pol[c][p] += 1
    if not cats: nonans += 1
    serv[r.get("service")] += 1; ques[r.get("question")] += 1
print(f"records: {n}  non-answers: {nonans}  codebook ids: {len(ids)}")
print("\nper category (total  pos/neg/neu):")
for c in ids:
    cp = cat_pol[c]; tot = sum(cp.values())
    flag = "  <12" if tot < 12 else ""
    print(f"  {c:22s} {tot:4d}  {cp['positive']:3d}/{cp['negative']:3d}/{cp['neutral']:3d}{flag}")
print("\nper service:")
for s, k in serv.most_common(): print(f"  {k:4d}  {s}")
print("\nper question:")
for s, k in ques.most_common(): print(f"  {k:4d}  {s!r}")
if errs:
    print(f"\nFAILED: {len(errs)} errors"); [print("  " + e) for e in errs[:50]]; sys.exit(1)
print("\nPASSED")
