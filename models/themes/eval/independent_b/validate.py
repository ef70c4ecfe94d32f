#!/usr/bin/env python3
"""Standalone validator for coded.jsonl (stdlib only).

Usage: python3 validate.py [path/to/coded.jsonl]
Exits 0 when valid, 1 otherwise. Prints counts per code (with polarity split),
per service, per question and codes-per-comment.
"""
import json
import os
import re
import sys
from collections import Counter, defaultdict

CODES = [
    "staff_attitude", "staff_competence", "waiting", "access_appointments",
    "kept_informed", "information_clarity", "involvement", "care_treatment",
    "impact_of_treatment", "continuity", "staffing_levels", "environment",
    "food_drink", "transport_parking", "medication", "discharge",
    "mental_health_specific", "equality_dignity", "cost_billing",
    "general_praise_thanks",
]
POLARITIES = {"positive", "negative", "neutral"}
FIELDS = ["id", "service", "question", "text", "codes", "polarity"]
ID_RE = re.compile(r"^ind2-(\d{4})$")
MIN_PER_CODE = 20


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "coded.jsonl")
    errors = []
    records = []
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                errors.append(f"line {lineno}: blank line")
                continue
            try:
                rec = json.loads(line)
            except json.JSONDecodeError as exc:
                errors.append(f"line {lineno}: invalid JSON ({exc})")
                continue
            if not isinstance(rec, dict):
                errors.append(f"line {lineno}: not a JSON object")
                continue
            if list(rec.keys()) != FIELDS:
                if set(rec.keys()) != set(FIELDS):
                    errors.append(f"line {lineno}: fields {sorted(rec.keys())} != {FIELDS}")
                    continue
            for f in ("id", "service", "question", "text"):
                if not isinstance(rec[f], str):
                    errors.append(f"line {lineno}: {f} is not a string")
            if not isinstance(rec["codes"], list) or not all(isinstance(c, str) for c in rec["codes"]):
                errors.append(f"line {lineno}: codes is not a list of strings")
                continue
            if not isinstance(rec["polarity"], dict):
                errors.append(f"line {lineno}: polarity is not an object")
                continue
            records.append((lineno, rec))

    seen_text = {}
    for idx, (lineno, rec) in enumerate(records, 1):
        m = ID_RE.match(rec["id"]) if isinstance(rec["id"], str) else None
        if not m:
            errors.append(f"line {lineno}: bad id {rec['id']!r}")
        elif int(m.group(1)) != idx:
            errors.append(f"line {lineno}: id {rec['id']} out of order (expected ind2-{idx:04d})")
        if not rec["service"].strip():
            errors.append(f"line {lineno}: empty service")
        if not rec["text"].strip():
            errors.append(f"line {lineno}: empty text")
        if rec["text"] in seen_text:
            errors.append(f"line {lineno}: duplicate text (also line {seen_text[rec['text']]}): {rec['text']!r}")
        seen_text.setdefault(rec["text"], lineno)
        codes = rec["codes"]
        if len(set(codes)) != len(codes):
            errors.append(f"line {lineno}: duplicate codes {codes}")
        for c in codes:
            if c not in CODES:
                errors.append(f"line {lineno}: unknown code {c!r}")
        if set(rec["polarity"].keys()) != set(codes):
            errors.append(f"line {lineno}: polarity keys {sorted(rec['polarity'])} != codes {sorted(codes)}")
        for k, v in rec["polarity"].items():
            if v not in POLARITIES:
                errors.append(f"line {lineno}: polarity value {v!r} for {k}")

    # counts
    per_code = Counter()
    per_pol = defaultdict(Counter)
    per_service = Counter()
    per_question = Counter()
    n_codes = Counter()
    for _, rec in records:
        per_service[rec["service"]] += 1
        per_question[rec["question"] or "(comment card, empty)"] += 1
        n_codes[len(rec["codes"])] += 1
        for c in rec["codes"]:
            per_code[c] += 1
            per_pol[c][rec["polarity"].get(c)] += 1

    print(f"records: {len(records)}")
    print("\ncounts per code (total / positive / negative / neutral):")
    for c in CODES:
        p = per_pol[c]
        flag = "" if per_code[c] >= MIN_PER_CODE else f"   <-- below {MIN_PER_CODE}"
        print(f"  {c:24s} {per_code[c]:4d}  +{p['positive']:<4d} -{p['negative']:<4d} ={p['neutral']:<4d}{flag}")
    print("\nper service:")
    for s, n in per_service.most_common():
        print(f"  {s:42s} {n:4d}")
    print("\nper question:")
    for q, n in per_question.most_common():
        print(f"  {q:42s} {n:4d}")
    print("\ncodes per comment:")
    for k in sorted(n_codes):
        print(f"  {k}: {n_codes[k]}")
    low = [c for c in CODES if per_code[c] < MIN_PER_CODE]
    if low:
        print(f"\nWARNING: codes used fewer than {MIN_PER_CODE} times: {low}")

    if errors:
        print(f"\nINVALID: {len(errors)} error(s)")
        for e in errors[:200]:
            print("  " + e)
        sys.exit(1)
    print("\nVALID")


if __name__ == "__main__":
    main()
