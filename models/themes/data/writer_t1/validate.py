#!/usr/bin/env python3
"""Standalone validator for coded.jsonl (stdlib only)."""
import json, re, sys, os, collections
HERE=os.path.dirname(os.path.abspath(__file__))
CODEBOOK=sys.argv[2] if len(sys.argv)>2 else "/work/indep/taxonomy_table.md"
DATA=sys.argv[1] if len(sys.argv)>1 else os.path.join(HERE,"coded.jsonl")
ids=[]
for line in open(CODEBOOK,encoding="utf-8"):
    m=re.match(r"\|\s*([a-z_]+)\s*\|",line)
    if m and m.group(1)!="id": ids.append(m.group(1))
IDS=set(ids); errs=[]
KEYS={"id","service","question","text","categories","polarity"}
POL={"positive","negative","neutral"}
QUESTIONS={"Please tell us why you gave your answer","What was good about your care?",
           "Is there anything we could have done better?","What is the main reason for your score?",""}
seen=set(); cat=collections.Counter(); pol=collections.defaultdict(collections.Counter)
svc=collections.Counter(); q=collections.Counter(); nonans=0; short=0; rows=0
for i,line in enumerate(open(DATA,encoding="utf-8"),1):
    rows+=1
    try: o=json.loads(line)
    except Exception as e: errs.append(f"line {i}: bad json {e}"); continue
    if set(o)!=KEYS: errs.append(f"line {i}: keys {sorted(o)}")
    if o.get("id")!=f"tr1-{i:04d}": errs.append(f"line {i}: id {o.get('id')} expected tr1-{i:04d}")
    t=o.get("text","")
    if not isinstance(t,str) or not t.strip(): errs.append(f"line {i}: empty text")
    norm=" ".join(t.lower().split())
    if norm in seen: errs.append(f"line {i}: duplicate text {t!r}")
    seen.add(norm)
    c=o.get("categories",[]); p=o.get("polarity",{})
    if not isinstance(c,list) or len(c)>3: errs.append(f"line {i}: categories must be list of <=3")
    if len(set(c))!=len(c): errs.append(f"line {i}: repeated category")
    for k in c:
        if k not in IDS: errs.append(f"line {i}: unknown category {k}")
    if set(p)!=set(c): errs.append(f"line {i}: polarity keys != categories")
    for k,v in p.items():
        if v not in POL: errs.append(f"line {i}: bad polarity {v}")
        else: pol[k][v]+=1
    for k in c: cat[k]+=1
    if not c: nonans+=1
    if len(t.split())<10: short+=1
    if not isinstance(o.get("service"),str) or not o.get("service","").strip(): errs.append(f"line {i}: empty service")
    if o.get("question") not in QUESTIONS: errs.append(f"line {i}: unexpected question {o.get('question')!r}")
    svc[o.get("service")]+=1; q[o.get("question")]+=1
print(f"rows {rows}; non-answers {nonans}; under 10 words {short} ({100*short/max(rows,1):.0f}%)")
print("\nper category (total: pos/neg/neu):")
for k in ids:
    print(f"  {k:22s} {cat[k]:4d}  +{pol[k]['positive']} -{pol[k]['negative']} ={pol[k]['neutral']}" + ("   <12!" if cat[k]<12 else ""))
    if cat[k]<12: errs.append(f"category {k} has only {cat[k]} (<12)")
print("\nper service:"); [print(f"  {v:4d} {k}") for k,v in svc.most_common()]
print("\nper question:"); [print(f"  {v:4d} {k!r}") for k,v in q.most_common()]
if errs:
    print(f"\nFAIL: {len(errs)} problems"); [print("  "+e) for e in errs[:50]]; sys.exit(1)
print("\nPASS")
