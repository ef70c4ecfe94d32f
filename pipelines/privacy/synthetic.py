"""Synthetic patient comments with planted names, for training and measuring the names model.

Pure Python (Faker's person providers as data, PyYAML): no model, no network. Templates live
in ``models/privacy/names/templates.yaml``; each template and each name belongs to the
``train`` or the ``dev`` split by a stable hash, and some Faker locales are ``dev`` only, so the
development figures are measured on sentences and names the model never saw.

A row has the fields that ``benchmarks.privacy names`` reads: ``id``, ``kind``, ``text``,
``names`` (every name as written; titles excluded), ``keep`` (clinical and service words that
must survive) and ``spans`` (character offsets of each planted name, for BIO labels).
"""

from __future__ import annotations

import hashlib
import importlib
import itertools
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pipelines.privacy.names import ascii_fold

TEMPLATES_PATH = Path(__file__).resolve().parents[2] / "models" / "privacy" / "names" / "templates.yaml"

# Latin-script (or romanised) Faker person providers, grouped so every origin is sampled often.
ORIGINS: dict[str, tuple[str, ...]] = {
    "british_irish": ("en_GB", "en_IE", "ga_IE", "en_NZ", "en_US"),
    "south_asian": ("en_IN", "en_PK"),
    "african": ("yo_NG", "ig_NG", "ha_NG", "en_NG", "tw_GH", "en_KE", "zu_ZA"),
    "european": (
        *("pl_PL", "ro_RO", "pt_PT", "es_ES", "es_MX", "it_IT", "fr_FR", "de_DE", "nl_NL", "cs_CZ", "hr_HR"),
        *("pt_BR", "lv_LV", "sv_SE", "nl_BE", "de_AT", "sl_SI"),
    ),
    "central_asian": ("az_AZ", "uz_UZ"),
    "east_asian": ("zh_CN", "ja_JP", "vi_VN", "zh_TW"),
    "southeast_asian": (),
    "arabic": (),
    "celtic": (),
    "caribbean": (),
}
# Locales whose names appear only in the dev split (never in training).
DEV_ONLY_LOCALES: tuple[str, ...] = ("hu_HU", "fi_FI", "id_ID", "sw", "lt_LT", "tr_TR", "sk_SK")
_SURNAME_PREFIXES = ("O'", "Mc", "Mac", "D'", "Fitz")
_TITLES_BEFORE = re.compile(r"(?:dr|mr|mrs|ms|miss|mx|prof|professor|sister|matron)\.?\s+$", re.IGNORECASE)
_SLOT_RE = re.compile(r"\{(\w+)\}")
NAME_SLOTS = (
    *("first", "last", "full", "init_last", "word_first", "word_last", "nick", "pet"),
    *("first1", "last1", "full1", "nick1"),
)
# Hand-written development corpora: their name words never enter the train split, so the
# figures on them measure names the model never saw. The former independent corpora (now dev)
# are here too: their names and the words of their texts stay out of the new word pools.
HANDWRITTEN_DEV = (
    TEMPLATES_PATH.parent / "dev_tricky.txt",
    TEMPLATES_PATH.parents[1] / "eval" / "names_dev_handwritten.jsonl",
    TEMPLATES_PATH.parents[1] / "eval" / "independent1_dev" / "names.jsonl",
    TEMPLATES_PATH.parents[1] / "eval" / "independent2_dev" / "names.jsonl",
)
# Keep slots added for issue 17's second independent corpus (towns, shops, brands, media): an
# item sharing a word with any dev corpus text never enters the train split, so the dev figures
# measure words the model never saw as keep words.
DEV_FREE_KEEP_SLOTS = ("town", "shop", "otc", "media")


def split_of(key: str, dev_share: float = 0.3) -> str:
    """``"dev"`` or ``"train"`` for ``key`` by a stable hash (same answer on every machine)."""
    h = int.from_bytes(hashlib.sha256(key.encode()).digest()[:4], "big") / 2**32
    return "dev" if h < dev_share else "train"


def _provider_names(loc: str) -> tuple[list[str], list[str]]:
    provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
    if hasattr(provider, "first_romanized_names"):
        firsts, lasts = provider.first_romanized_names, provider.last_romanized_names
    else:
        firsts = [
            n
            for attr in ("first_names", "first_names_male", "first_names_female")
            for n in (getattr(provider, attr, ()) or ())
        ]
        lasts = list(getattr(provider, "last_names", ()) or ())

    firsts = [n.title() if isinstance(n, str) and n.isupper() else n for n in firsts]  # zh_TW: "CHE-WEI"
    lasts = [n.title() if isinstance(n, str) and n.isupper() else n for n in lasts]

    def ok(n: Any) -> bool:
        return isinstance(n, str) and 2 <= len(n) <= 20 and n[:1].isupper() and all(c.isalpha() or c in "'-" for c in n)

    return sorted({n for n in firsts if ok(n)}), sorted({n for n in lasts if ok(n)})


def dev_text_words(paths: Sequence[Path] = HANDWRITTEN_DEV) -> frozenset[str]:
    """Lower-cased, accent-folded words of every text in the hand-written dev corpora."""
    import json

    words: set[str] = set()
    for path in paths:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if path.suffix == ".jsonl" and line.strip():
                text = json.loads(line)["text"]
            elif line.strip() and not line.startswith("#"):
                text = line.split("||")[0]
            else:
                continue
            words.update(re.findall(r"[^\W\d_]{2,}", ascii_fold(text).lower()))
    return frozenset(words)


def handwritten_name_words(paths: Sequence[Path] = HANDWRITTEN_DEV) -> frozenset[str]:
    """Lower-cased, accent-folded words of every name in the hand-written dev corpora."""
    import json

    names: list[str] = []
    for path in paths:
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            if path.suffix == ".jsonl" and line.strip():
                names.extend(json.loads(line)["names"])
            elif line.strip() and not line.startswith("#") and line.count("||") == 2:
                names.extend(line.split("||")[1].split(";"))
    return frozenset(ascii_fold(w).lower() for n in names for w in re.findall(r"[^\W\d_]{2,}", n))


@dataclass
class NamePool:
    """First names and surnames by origin for one split."""

    first: dict[str, list[str]]
    last: dict[str, list[str]]
    word_first: tuple[str, ...]  # first names that are English words (Hope, Will): learnt from context
    nicknames: tuple[str, ...] = ()
    word_last: tuple[str, ...] = ()  # surnames that are English words (Baker, Bell): learnt from context
    pets: tuple[str, ...] = ()  # pet names (annotated as names: they identify the owner)

    @classmethod
    def build(cls, split: str, path: Path = TEMPLATES_PATH) -> NamePool:
        """Names of ``split``: each name string is train or dev by hash; dev adds dev-only locales."""
        import yaml

        extra = yaml.safe_load(path.read_text(encoding="utf-8"))["names"]
        seen = handwritten_name_words() if split == "train" else frozenset()
        first: dict[str, list[str]] = {}
        last: dict[str, list[str]] = {}
        origins = dict(ORIGINS)
        if split == "dev":
            origins["held_out"] = DEV_ONLY_LOCALES
        for origin, locales in origins.items():
            f: set[str] = set()
            la: set[str] = set()
            for loc in locales:
                lf, ll = _provider_names(loc)
                f.update(lf)
                la.update(ll)
            if origin == "arabic":  # Faker's ar_* providers are in Arabic script
                f.update(extra["arabic_first"])
                la.update(extra["arabic_last"])
            f.update(extra.get("extra_first", {}).get(origin, ()))
            la.update(extra.get("extra_last", {}).get(origin, ()))
            if origin != "held_out":
                f = {n for n in f if split_of("first:" + n) == split}
                la = {n for n in la if split_of("last:" + n) == split}
            if split == "train":
                f, la = _without(f, seen), _without(la, seen)
            first[origin], last[origin] = sorted(f), sorted(la)
        nicks = tuple(n for n in extra.get("nicknames", ()) if split_of("nick:" + n) == split or split == "dev")
        if split == "train":
            nicks = tuple(_without(set(nicks), seen))
        word_last = tuple(
            n for n in extra.get("word_last_names", ()) if split_of("wlast:" + n) == split or split == "dev"
        )
        pets = tuple(n for n in extra.get("pet_names", ()) if split_of("pet:" + n) == split or split == "dev")
        if split == "train":
            word_last, pets = tuple(sorted(_without(set(word_last), seen))), tuple(sorted(_without(set(pets), seen)))
        return cls(first, last, tuple(extra["word_first_names"]), tuple(sorted(nicks)), word_last, pets)

    def person(self, rng: random.Random) -> tuple[str, str]:
        """A (first, last) pair of one origin, sometimes with an O'/Mc prefix or a double-barrel."""
        origin = rng.choice([o for o in self.first if self.first[o] and self.last[o]])
        first, last = rng.choice(self.first[origin]), rng.choice(self.last[origin])
        r = rng.random()
        if r < 0.06 and origin in ("british_irish", "celtic"):
            last = rng.choice(_SURNAME_PREFIXES) + last
        elif r < 0.09:
            last = f"{last}-{rng.choice(self.last[origin])}"
        elif r < 0.14 and origin == "arabic":
            last = rng.choice(("Al-", "El-", "al-", "el-", "Bin ", "Abu ")) + last.removeprefix("Al-").removeprefix(
                "El-"
            )
        if rng.random() < 0.5:
            first, last = ascii_fold(first), ascii_fold(last)
        if origin == "east_asian" and rng.random() < 0.4:  # family name first: "Zhang Wei", "Chan Siu Fong"
            first, last = last, first
        return first, last


def _without(names: set[str], words: frozenset[str]) -> set[str]:
    """``names`` minus those sharing a (folded, lower-case) word with ``words``."""
    return {n for n in names if not any(w in words for w in re.findall(r"[^\W\d_]{2,}", ascii_fold(n).lower()))}


@dataclass(frozen=True)
class Templates:
    """The template bank: named sentences, filler sentences and keep-word lists."""

    named: tuple[str, ...]
    filler: tuple[str, ...]
    keep: dict[str, tuple[str, ...]]

    @classmethod
    def load(cls, split: str, path: Path = TEMPLATES_PATH) -> Templates:
        """Templates of ``split`` (by a stable hash of each template's text)."""
        import yaml

        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        named = tuple(t for t in raw["named"] if split_of("tpl:" + t, 0.25) == split)
        filler = tuple(t for t in raw["filler"] if split_of("tpl:" + t, 0.25) == split)
        keep = {k: tuple(v) for k, v in raw["keep"].items()}
        if split == "train":
            dev_words = dev_text_words()
            for slot in DEV_FREE_KEEP_SLOTS:
                keep[slot] = tuple(_without(set(keep.get(slot, ())), dev_words))
                keep[slot] = tuple(sorted(keep[slot]))
        return cls(named, filler, keep)


class _Builder:
    """Builds one comment left to right, recording name and keep offsets."""

    def __init__(self) -> None:
        self.text = ""
        self.spans: list[tuple[int, int]] = []
        self.keep: list[str] = []

    def fill(self, template: str, values: dict[str, list[str]], rng: random.Random, keep: dict) -> None:
        pos = 0
        for m in _SLOT_RE.finditer(template):
            self.text += template[pos : m.start()]
            slot = m.group(1)
            if slot in NAME_SLOTS:
                value = values[slot].pop(0)
                self.spans.append((len(self.text), len(self.text) + len(value)))
            else:
                value = rng.choice(keep[slot])
                self.keep.append(value)
            self.text += value
            pos = m.end()
        self.text += template[pos:]


def _name_values(template: str, pool: NamePool, rng: random.Random) -> dict[str, list[str]]:
    """One value per name slot of ``template``; ``first1``/``full1``/``last1``/``nick1`` are one person."""
    values: dict[str, list[str]] = {s: [] for s in NAME_SLOTS}
    same = pool.person(rng)
    for slot in _SLOT_RE.findall(template):
        if slot not in NAME_SLOTS:
            continue
        first, last = same if slot.endswith("1") else pool.person(rng)
        if slot in ("nick", "nick1"):
            values[slot].append(rng.choice(pool.nicknames) if pool.nicknames else first)
            continue
        if slot == "word_last":
            values[slot].append(rng.choice(pool.word_last) if pool.word_last else last)
            continue
        if slot == "pet":
            values[slot].append(rng.choice(pool.pets) if pool.pets else first)
            continue
        if slot.endswith("1"):
            values[slot].append({"first1": first, "last1": last, "full1": f"{first} {last}"}[slot])
            continue
        if slot == "word_first" or (slot == "first" and rng.random() < 0.08):
            first = rng.choice(pool.word_first)
            if slot == "word_first":
                slot_value = first
                values[slot].append(slot_value)
                continue
        if slot == "first":
            values[slot].append(first)
        elif slot == "last":
            values[slot].append(last)
        elif slot == "full":
            values[slot].append(f"{first} {last}")
        else:
            sep = rng.choice([". ", " ", "."]) if rng.random() < 0.8 else ". "
            initials = first[0] if rng.random() < 0.8 else f"{first[0]}.{rng.choice('ABCDEJKMPRST')}"
            values[slot].append(f"{initials}{sep}{last}")
    return values


def _case(row_text: str, spans: list[tuple[int, int]], rng: random.Random) -> tuple[str, str]:
    """Apply a casing style: as written, all lower, ALL CAPS, or names alone in lower case."""
    r = rng.random()
    if r < 0.08:
        return row_text.lower(), "lower"
    if r < 0.12:
        return row_text.upper(), "upper"
    if r < 0.2 and spans:
        chars = list(row_text)
        for s, e in spans:
            chars[s:e] = list(row_text[s:e].lower())
        return "".join(chars), "names_lower"
    return row_text, "as_written"


def _consistent(text: str, spans: list[tuple[int, int]], names: list[str], keep: list[str]) -> bool:
    """Each name occurs only where planted, and keep items never overlap a name."""
    covered = set()
    for s, e in spans:
        covered.update(range(s, e))
    for n in names:
        for m in re.finditer(re.escape(n), text):
            if not set(range(m.start(), m.end())) <= covered:
                return False
    for k in keep:
        i = text.find(k)
        if i < 0 or covered & set(range(i, i + len(k))):
            return False
    return True


def make_comment(templates: Templates, pool: NamePool, rng: random.Random, with_name: bool) -> dict[str, Any]:
    """One synthetic comment: a named sentence (or none) between 0-2 filler sentences."""
    sentences = [rng.choice(templates.filler) for _ in range(rng.choice([0, 1, 1, 2]))]
    kind = "negative"
    if with_name:
        named = rng.choice(templates.named)
        sentences.insert(rng.randrange(len(sentences) + 1), named)
        kind = "named"
    elif not sentences:
        sentences = [rng.choice(templates.filler)]
    b = _Builder()
    for k, sentence in enumerate(sentences):
        if k:
            b.text += rng.choice([" ", " ", "  ", "\n", ". "]) if not b.text.endswith((".", "!", "?")) else " "
        b.fill(sentence, _name_values(sentence, pool, rng), rng, templates.keep)
    text, style = _case(b.text, b.spans, rng)
    if style == "upper":
        b.keep = [k.upper() for k in b.keep]
    elif style == "lower":
        b.keep = [k.lower() for k in b.keep]
    names = list(dict.fromkeys(text[s:e] for s, e in b.spans))
    return {
        "kind": f"{kind}:{style}",
        "text": text,
        "names": names,
        "spans": b.spans,
        "keep": list(dict.fromkeys(b.keep)),
    }


def make_corpus(split: str, n: int, seed: int, name_share: float = 0.7) -> list[dict[str, Any]]:
    """``n`` comments of ``split`` (``train`` or ``dev``); about ``name_share`` of them carry names."""
    templates = Templates.load(split)
    pool = NamePool.build(split)
    rng = random.Random(f"{split}:{seed}")
    rows: list[dict[str, Any]] = []
    while len(rows) < n:
        row = make_comment(templates, pool, rng, rng.random() < name_share)
        if _consistent(row["text"], row["spans"], row["names"], row["keep"]):
            rows.append({"id": f"{split}-{len(rows):05d}", **row})
    return rows


def spans_to_names(text: str, spans: Sequence[tuple[int, int]]) -> list[str]:
    """Distinct name strings at ``spans`` in ``text``, in order."""
    return list(dict.fromkeys(text[s:e] for s, e in spans))


# Hand-written, hand-annotated corpora that the names model also trains on: real people's ways of
# writing names that templates do not reach. Seven writers from the start; since 2026-12-07 the
# corpora E to AF of later writers, once each had been measured as a judge (spent as independent
# figures), and Y, Z, AA, AB and AG to AJ, written for training. AK to AN stay out: they are the
# independent figures of this model (``tests/unit/test_privacy.py`` checks it).
HANDWRITTEN_TRAIN = tuple(
    TEMPLATES_PATH.parents[1] / "eval" / rel
    for rel in (
        "names_dev_handwritten.jsonl",
        "independent1_dev/names.jsonl",
        "independent2_dev/names.jsonl",
        "independent3_dev/names.jsonl",
        "independentB_dev/names.jsonl",
        "independentD_dev/names.jsonl",
        "independent_c/names.jsonl",
        *(f"independent_{x}/names.jsonl" for x in [*"efghijklmnopqrstuvwxyz", *(f"a{y}" for y in "abcdefghij")]),
    )
)
_WORD = re.compile(r"[^\W_]+(?:['’\-][^\W_]+)*")
_ARTICLES = frozenset({"the"})  # "The Dalys" (a writer's span for a family): the name is "Dalys"


def name_spans(text: str, names: Sequence[str], titles: frozenset[str]) -> list[tuple[int, int]]:
    """Character spans of every occurrence of each name string, as the model is taught names.

    Leading title words ("Dr", "Staff Nurse", "Sister") and articles ("The Dalys") are left out,
    as in the templates, where a title is text before the name slot; a span is widened to whole
    words ("Banerjee's" is one word, and a name word labelled only in part would teach the model
    it is not a name). Occurrences inside a longer word are skipped.
    """
    covered = [False] * len(text)
    leading = titles | _ARTICLES
    for name in names:
        words = list(_WORD.finditer(name))
        lead = 0
        while lead < len(words) - 1 and words[lead].group().lower().rstrip(".") in leading:
            lead += 1
        offset = words[lead].start() if words else 0
        for m in re.finditer(re.escape(name), text):
            s, e = m.start(), m.end()
            if (s and text[s - 1].isalnum() and name[:1].isalnum()) or (e < len(text) and text[e].isalnum()):
                continue
            for j in range(s + offset, e):
                covered[j] = True
    for w in _WORD.finditer(text):
        if any(covered[w.start() : w.end()]):
            covered[w.start() : w.end()] = [True] * (w.end() - w.start())
    spans: list[tuple[int, int]] = []
    start = 0
    for flag, run in itertools.groupby(covered):
        length = len(list(run))
        if flag:
            spans.append((start, start + length))
        start += length
    return spans


def title_words(path: Path | None = None) -> frozenset[str]:
    """Lower-case words of the PERSON rules' strong and weak titles (``recognizers.yaml``): "dr", "staff", "nurse"."""
    import yaml

    path = path or TEMPLATES_PATH.parents[1] / "recognizers.yaml"
    cfg = yaml.safe_load(Path(path).read_text(encoding="utf-8"))["person"]
    return frozenset(w.lower().rstrip(".") for t in (*cfg["strong_titles"], *cfg["weak_titles"]) for w in t.split())


def handwritten_rows(paths: Sequence[Path] = HANDWRITTEN_TRAIN, titles: frozenset[str] | None = None) -> list[dict]:
    """Training rows (``text``, ``spans``, ``names``, ``keep``, ``kind``) from hand-annotated names corpora.

    ``titles``: words left out of the front of a name's span (default: :func:`title_words`).
    """
    import json

    titles = title_words() if titles is None else titles
    rows: list[dict[str, Any]] = []
    for path in paths:
        for line in Path(path).read_text(encoding="utf-8").splitlines():
            if not line.strip():
                continue
            r = json.loads(line)
            spans = name_spans(r["text"], r["names"], titles)
            rows.append(
                {
                    "id": r["id"],
                    "kind": f"handwritten:{r.get('kind', '')}",
                    "text": r["text"],
                    "names": r["names"],
                    "spans": spans,
                    "keep": r.get("keep", []),
                }
            )
    return rows
