"""Serialise the hand-written comments in names_data_*.py into names.jsonl.
Only assigns ids; all texts and spans are hand-written in the data files."""
import json
import os

import names_data_a
import names_data_b
import names_data_c

HERE = os.path.dirname(os.path.abspath(__file__))
rows = names_data_a.DATA + names_data_b.DATA + names_data_c.DATA
with open(os.path.join(HERE, "names.jsonl"), "w", encoding="utf-8") as f:
    for i, (kind, text, names, keep) in enumerate(rows, 1):
        rec = {"id": f"nm-{i:04d}", "text": text, "names": list(names), "keep": list(keep), "kind": kind}
        f.write(json.dumps(rec, ensure_ascii=False) + "\n")
print(f"wrote {len(rows)} records")
