#!/usr/bin/env python3
"""Standalone validator for coded.jsonl (stdlib only)."""
import json,sys,re,collections,os
CODES=["staff_attitude","staff_competence","waiting","access_appointments","kept_informed","information_clarity","involvement","care_treatment","impact_of_treatment","continuity","staffing_levels","environment","food_drink","transport_parking","medication","discharge","mental_health_specific","equality_dignity","cost_billing","general_praise_thanks"]
POL={"positive","negative","neutral"}
FIELDS=["id","service","question","text","codes","polarity"]
path=sys.argv[1] if len(sys.argv)>1 else os.path.join(os.path.dirname(os.path.abspath(__file__)),"coded.jsonl")
errs=[];texts={};n=0
pc=collections.Counter();pp=collections.defaultdict(collections.Counter)
route=collections.Counter();svc=collections.Counter();per=collections.Counter()
with open(path,encoding="utf-8") as f:
    for i,line in enumerate(f,1):
        if not line.strip(): errs.append(f"line {i}: blank line");continue
        try:o=json.loads(line)
        except Exception as e: errs.append(f"line {i}: bad JSON {e}");continue
        n+=1
        if not isinstance(o,dict) or list(o.keys())!=FIELDS: errs.append(f"line {i}: fields {list(o) if isinstance(o,dict) else type(o)}");continue
        if o["id"]!="ind3-%04d"%n: errs.append(f"line {i}: id {o['id']} expected ind3-{n:04d}")
        for k in ("service","question","text"):
            if not isinstance(o[k],str): errs.append(f"line {i}: {k} not str")
        if not o["service"].strip(): errs.append(f"line {i}: empty service")
        t=o["text"]
        if isinstance(t,str):
            if t=="" : errs.append(f"line {i}: empty text")
            key=t.strip()
            if key in texts: errs.append(f"line {i}: duplicate text of line {texts[key]}")
            texts[key]=i
        c=o["codes"];p=o["polarity"]
        if not isinstance(c,list) or not isinstance(p,dict): errs.append(f"line {i}: codes/polarity types");continue
        if len(set(c))!=len(c): errs.append(f"line {i}: duplicate codes")
        for x in c:
            if x not in CODES: errs.append(f"line {i}: unknown code {x}")
        if set(p)!=set(c): errs.append(f"line {i}: polarity keys {sorted(p)} != codes {sorted(c)}")
        for k,v in p.items():
            if v not in POL: errs.append(f"line {i}: bad polarity {k}={v}")
        for x in c:
            pc[x]+=1; pp[x][p.get(x)]+=1
        route[o["question"] or '(comment card "")']+=1; svc[o["service"]]+=1; per[len(c)]+=1
print(f"items: {n}")
print("\nper code (total  pos/neg/neu):")
for x in CODES: print(f"  {x:24s}{pc[x]:5d}   {pp[x]['positive']}/{pp[x]['negative']}/{pp[x]['neutral']}")
print("\nper route (question):")
for k,v in route.most_common(): print(f"  {v:5d}  {k}")
print("\nper service:")
for k,v in svc.most_common(): print(f"  {v:5d}  {k}")
print("\ncodes per item:")
for k in sorted(per): print(f"  {k}: {per[k]}")
low=[x for x in CODES if pc[x]<20]
if low: print("\nWARNING codes under 20 uses:",low)
if errs:
    print(f"\nFAILED: {len(errs)} errors");[print("  "+e) for e in errs[:50]];sys.exit(1)
print("\nOK: all checks passed")
