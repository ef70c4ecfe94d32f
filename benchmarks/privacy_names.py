"""PERSON benchmark on a names corpus: ``python -m benchmarks.privacy names --corpus PATH``.

A corpus is JSON lines with ``id``, ``kind``, ``text``, ``names`` (every name as written) and
``keep`` (words that must survive). Three figures, defined as in the lead's ``names_eval.py``:

* **PERSON recall per comment**: a comment with names counts as caught when every alphabetic
  character of every occurrence of each name is redacted (leading title words such as "Dr" or
  "Staff Nurse", any title the redactor configures, may stay: they name no one);
* **non-identifier tokens kept**: words outside names and outside non-PERSON spans that no span
  touches;
* **keep items intact**: the first occurrence of each keep item is untouched.

Without ``--corpus`` the development corpus is used: synthetic comments of the ``dev`` split of
:mod:`pipelines.privacy.synthetic` (templates and names the names model never saw) plus the
hand-written comments in ``models/privacy/names/dev_tricky.txt``. ``--person`` picks rules,
model or their union (the production default).
"""

from __future__ import annotations

import argparse
import functools
import json
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TRICKY_PATH = Path(__file__).resolve().parents[1] / "models" / "privacy" / "names" / "dev_tricky.txt"
RECOGNIZERS_PATH = TRICKY_PATH.parents[1] / "recognizers.yaml"
_TITLES = {"dr", "mr", "mrs", "ms", "miss", "mx", "prof", "sister", "father", "nurse"}
# Letters of any script: "Señor" is one word (and a title), "está" one token, not "Se" + "or".
_WORD_RE = re.compile(r"[^\W\d_](?:[^\W\d_]|['\-])*")
_NAME_WORD_RE = re.compile(r"(?:[^\W\d_]|['\-])+")


def load_tricky(path: Path = TRICKY_PATH) -> list[dict[str, Any]]:
    """Hand-written comments: ``text || names ; ... || keep ; ...`` per line, ``#`` comments."""
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith("#"):
            continue
        text, names, keep = (part.strip() for part in line.split("||"))
        split = [[x.strip() for x in part.split(";") if x.strip()] for part in (names, keep)]
        rows.append(
            {"id": f"tricky-{len(rows):03d}", "kind": "tricky", "text": text, "names": split[0], "keep": split[1]}
        )
    return rows


def dev_corpus(n: int = 1000, seed: int = 29) -> list[dict[str, Any]]:
    """Synthetic dev-split comments plus the hand-written tricky ones."""
    from pipelines.privacy.synthetic import make_corpus

    return [*make_corpus("dev", n, seed), *load_tricky()]


@dataclass
class NameScores:
    """Counts behind the three figures, and the comments whose names leaked."""

    with_names: int = 0
    caught: int = 0
    tokens: int = 0
    tokens_kept: int = 0
    keep_total: int = 0
    keep_ok: int = 0
    misses: list[tuple[str, str, list[str], str]] = field(default_factory=list)
    dropped: list[tuple[str, str]] = field(default_factory=list)

    def figures(self) -> dict[str, float]:
        """The three figures as fractions."""
        return {
            "person_recall_per_comment": self.caught / max(self.with_names, 1),
            "non_identifier_tokens_kept": self.tokens_kept / max(self.tokens, 1),
            "keep_items_intact": self.keep_ok / max(self.keep_total, 1),
        }


@functools.cache
def _titles() -> frozenset[str]:
    """Title words: the fixed set plus every word of the redactor's strong and weak titles."""
    from pipelines.privacy.synthetic import title_words

    return frozenset(_TITLES | title_words(RECOGNIZERS_PATH))


def _name_caught(text: str, name: str, cover: list[bool], name_idx: set[int]) -> bool:
    ok, start = True, 0
    while (i := text.find(name, start)) >= 0:
        name_idx.update(range(i, i + len(name)))
        core = [j for j in range(i, i + len(name)) if text[j].isalpha()]
        words = list(_NAME_WORD_RE.finditer(name))
        lead = 0  # leading title words ("Dr", "Staff Nurse", "Rev.") may stay: they name no one
        while lead < len(words) - 1 and words[lead].group(0).lower().rstrip(".") in _titles():
            lead += 1
        if lead:
            core = [j for j in core if j >= i + words[lead].start()]
        ok = ok and all(cover[j] for j in core)
        start = i + len(name)
    return ok


def score(rows: Sequence[dict[str, Any]], results: Sequence[Any]) -> NameScores:
    """Score redactions of ``rows`` (the same rules as names_eval.py)."""
    sc = NameScores()
    for r, out in zip(rows, results, strict=True):
        text = r["text"]
        cover = [False] * len(text)
        for s in out.spans:
            cover[s.start : s.end] = [True] * (s.end - s.start)
        name_idx: set[int] = set()
        ok = all([_name_caught(text, n, cover, name_idx) for n in r["names"]])
        if r["names"]:
            sc.with_names += 1
            sc.caught += ok
            if not ok:
                sc.misses.append((r["id"], r["kind"], r["names"], out.text[:160]))
        for m in _WORD_RE.finditer(text):
            rng = range(m.start(), m.end())
            if any(j in name_idx for j in rng):
                continue
            if any(s.start <= m.start() < s.end and s.entity_type != "PERSON" for s in out.spans):
                continue
            sc.tokens += 1
            kept = not any(cover[j] for j in rng)
            sc.tokens_kept += kept
            if not kept:
                sc.dropped.append((r["id"], m.group()))
        for k in r["keep"]:
            i = text.find(k)
            sc.keep_total += 1
            sc.keep_ok += not any(cover[j] for j in range(i, i + len(k)))
    return sc


def speed_texts(n: int = 2000, min_words: int = 24, seed: int = 31) -> list[str]:
    """``n`` distinct comments of at least ``min_words`` words (about 30 on average), joined from dev comments."""
    from pipelines.privacy.synthetic import make_corpus

    pieces = [r["text"] for r in make_corpus("dev", 4 * n, seed)]
    texts, cur = [], []
    for p in pieces:
        cur.append(p)
        if sum(len(x.split()) for x in cur) >= min_words:
            texts.append(" ".join(cur))
            cur = []
    return list(dict.fromkeys(texts))[:n]


def measure_speed(person: str, n: int, names_model: Path | None = None) -> dict[str, float]:
    """Comments per second (wall clock and per CPU-second) of ``redact_many`` on ~30-word comments."""
    import os

    from pipelines.privacy.namemodel import words
    from pipelines.privacy.redactor import Redactor

    redactor = Redactor(person=person, names_model=names_model)  # type: ignore[arg-type]
    texts = speed_texts(n)
    redactor.redact_many(texts[:50])  # warm-up: onnxruntime session, Presidio caches
    load = os.getloadavg()[0]
    wall, cpu = time.perf_counter(), time.process_time()
    redactor.redact_many(texts)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    return {
        "comments": len(texts),
        "mean_words": round(sum(len(words(t)) for t in texts) / len(texts), 1),
        "comments_per_s": round(len(texts) / wall, 1),
        "comments_per_cpu_s": round(len(texts) / cpu, 1),
        "load_average_1m": round(load, 2),
    }


def sweep(
    rows: Sequence[dict[str, Any]],
    settings: Sequence[dict[str, Any]],
    person: str = "union",
    names_model: Path | None = None,
) -> list[dict]:
    """The three figures under each ``names_model:`` setting (see ``recognizers.yaml``).

    The names model runs once (word probabilities are kept) and the rules once per text (their
    results are copied for each setting), so a setting costs only decoding and overlap resolution.
    """
    import copy

    from pipelines.privacy.namemodel import Decoding, decode_words
    from pipelines.privacy.redactor import Redactor

    if person == "rules":
        raise ValueError("--sweep needs the names model (--person union or model)")
    redactor = Redactor(person=person, names_model=names_model)  # type: ignore[arg-type]
    analyze, cache = redactor._analyzer.analyze, {}

    def cached(text: str, **kw: Any) -> list[Any]:
        if text not in cache:
            cache[text] = analyze(text=text, **kw)
        return [copy.copy(r) for r in cache[text]]  # the redactor merges results in place

    redactor._analyzer.analyze = cached
    texts = [r["text"] for r in rows]
    probs = redactor._names.word_probs_many(texts)
    out = []
    for setting in settings:
        how = Decoding.from_config(setting)
        results = [redactor._redact(t, decode_words(t, wp, how)) for t, wp in zip(texts, probs, strict=True)]
        sc = score(rows, results)
        out.append(
            {
                "names_model": setting,
                **sc.figures(),
                "missed": sc.with_names - sc.caught,
                "dropped": sc.tokens - sc.tokens_kept,
            }
        )
    return out


def main(argv: Sequence[str] | None = None) -> int:
    """Print the three figures for one corpus (``names`` sub-command of benchmarks.privacy)."""
    parser = argparse.ArgumentParser(prog="python -m benchmarks.privacy names", description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=None, help="JSON-lines corpus (default: the dev corpus)")
    parser.add_argument("--person", choices=("union", "rules", "model"), default="union")
    parser.add_argument("--names-model", type=Path, default=None, help="names model folder (default: the build)")
    parser.add_argument("--n", type=int, default=1000, help="synthetic dev comments (without --corpus)")
    parser.add_argument("--write-dev", type=Path, default=None, help="write the dev corpus here and stop")
    parser.add_argument("-v", "--verbose", action="store_true", help="list leaked names and dropped words")
    parser.add_argument("--json", action="store_true")
    parser.add_argument("--speed", type=int, default=0, metavar="N", help="time N ~30-word comments instead")
    parser.add_argument(
        "--sweep",
        default=None,
        metavar="JSON",
        help='figures under each names_model setting, e.g. \'[{"threshold": 0.5}, {"threshold": 0.1}]\'',
    )
    args = parser.parse_args(argv)
    if args.speed:
        print(json.dumps({"person": args.person, **measure_speed(args.person, args.speed, args.names_model)}))
        return 0

    if args.corpus is not None:
        rows = [json.loads(line) for line in args.corpus.read_text(encoding="utf-8").splitlines() if line.strip()]
    else:
        rows = dev_corpus(args.n)
    if args.write_dev is not None:
        args.write_dev.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
        print(f"wrote {len(rows)} comments to {args.write_dev}")
        return 0

    if args.sweep is not None:
        for line in sweep(rows, json.loads(args.sweep), args.person, args.names_model):
            print(
                json.dumps(line)
                if args.json
                else f"{json.dumps(line['names_model'])}: recall {line['person_recall_per_comment']:.4f} "
                f"({line['missed']} missed), tokens kept {line['non_identifier_tokens_kept']:.4f} "
                f"({line['dropped']} dropped), keep items {line['keep_items_intact']:.3f}"
            )
        return 0

    from pipelines.privacy.redactor import Redactor

    redactor = Redactor(person=args.person, names_model=args.names_model)
    t0 = time.perf_counter()
    results = redactor.redact_many([r["text"] for r in rows])
    seconds = time.perf_counter() - t0
    sc = score(rows, results)
    fig = sc.figures()
    if args.json:
        print(json.dumps({"redactor": redactor.version, "comments": len(rows), **fig, "seconds": seconds}))
        return 0
    print(f"redactor {redactor.version} ({args.person}); {len(rows)} comments in {seconds:.1f} s")
    print(f"comments with names {sc.with_names}; PERSON recall per comment {fig['person_recall_per_comment']:.3f}")
    print(
        f"non-identifier tokens kept {sc.tokens_kept}/{sc.tokens} = {fig['non_identifier_tokens_kept']:.4f}; "
        f"keep items intact {sc.keep_ok}/{sc.keep_total} = {fig['keep_items_intact']:.3f}"
    )
    if args.verbose:
        for miss in sc.misses:
            print("MISS", miss)
        for drop in sc.dropped:
            print("DROP", drop)
    return 0
