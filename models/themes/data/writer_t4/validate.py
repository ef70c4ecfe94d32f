#!/usr/bin/env python3
"""Standalone validator for coded.jsonl (stdlib only)."""
import json, re, sys, os
from collections import Counter, defaultdict
HERE = os.path.dirname(os.path.abspath(__file__))
CODEBOOK = sys.argv[2] if len(sys.argv) > 2 else "/work/indep/taxonomy_table.md"
PATH = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "coded.jsonl")
ids = []
for line in open(CODEBOOK, encoding="utf-8"):
    m = re.match(r"\|\s*([a-z_]+)\s*\|", line)
    if m and m.group(1) not in ("id",):
        ids.append(m.group(1))
VALID = set(ids)
assert len(VALID) == 30, f"expected 30 codebook ids, got {len(VALID)}"
QUESTIONS = {"Please tell us why you gave your answer", "What went well?", "What could we improve?", "Anything else?", ""}
errs = []
seen = set()
cat = Counter(); pol = defaultdict(Counter); svc = Counter(); qs = Counter(); ncodes = Counter()
recs = []
for n, line in enumerate(open(PATH, encoding="utf-8"), 1):
    try:
        r = json.loads(line)
    except Exception as e:
        errs.append(f"line {n}: bad json {e}"); continue
    recs.append(r)
    if list(r.keys()) != ["id", "service", "question", "text", "categories", "polarity"]:
        errs.append(f"line {n}: keys {list(r.keys())}")
    if r.get("id") != f"tr4-{n:04d}":
        errs.append(f"line {n}: id {r.get('id')} expected tr4-{n:04d}")
    for k in ("service", "question", "text"):
        if not isinstance(r.get(k), str):
            errs.append(f"line {n}: {k} not string")
    if not r.get("service"):
        errs.append(f"line {n}: empty service")
    if r.get("question") not in QUESTIONS:
        errs.append(f"line {n}: odd question {r.get('question')!r}")
    t = " ".join(str(r.get("text", "")).lower().split())
    if not t:
        errs.append(f"line {n}: empty text")
    if t in seen:
        errs.append(f"line {n}: duplicate text {t[:60]!r}")
    seen.add(t)
    c = r.get("categories"); p = r.get("polarity")
    if not isinstance(c, list) or not isinstance(p, dict):
        errs.append(f"line {n}: categories/polarity types"); continue
    if len(c) > 3:
        errs.append(f"line {n}: more than 3 codes")
    if len(set(c)) != len(c):
        errs.append(f"line {n}: repeated code")
    for x in c:
        if x not in VALID:
            errs.append(f"line {n}: unknown category {x}")
    if set(p.keys()) != set(c):
        errs.append(f"line {n}: polarity keys != categories")
    for k, v in p.items():
        if v not in ("positive", "negative", "neutral"):
            errs.append(f"line {n}: bad polarity {v}")
    ncodes[len(c)] += 1
    svc[r.get("service")] += 1; qs[r.get("question")] += 1
    for x in c:
        cat[x] += 1; pol[x][p.get(x)] += 1
print(f"records: {len(recs)}")
print("codes per record:", dict(sorted(ncodes.items())))
print("\nper category (total / pos / neg / neu):")
for x in ids:
    print(f"  {x:24s} {cat[x]:4d}  +{pol[x]['positive']:<4d} -{pol[x]['negative']:<4d} ={pol[x]['neutral']:<4d}")
print("\nper service:")
for k, v in svc.most_common(): print(f"  {k:22s} {v}")
print("\nper question:")
for k, v in qs.most_common(): print(f"  {k!r:45s} {v}")
low = [x for x in ids if cat[x] < 8]
if low: print("\nWARNING categories under 8:", low)
if errs:
    print("\nERRORS:"); [print(" ", e) for e in errs[:200]]; print(f"{len(errs)} errors"); sys.exit(1)
print("\nOK: all checks passed")
