"""PHI redaction with Microsoft Presidio, fully offline: the :class:`Redactor` facade.

Presidio's default engine needs a downloaded spaCy NER model, which cannot be had here. The
redactor wraps a blank spaCy ``en`` pipeline (tokenizer only) as Presidio's NLP engine and
registers only the recognizers configured in ``models/privacy/recognizers.yaml``:

* our regex recognizers (:mod:`pipelines.privacy.patterns`): NHS numbers (mod-11 check digit),
  hospital numbers, UK/US phones, US ZIPs, full dates, street addresses and URLs;
* Presidio's own recognizers where the privacy benchmark measured them as good as ours
  (:mod:`pipelines.privacy.engine`): emails, UK postcodes, phones via python-phonenumbers;
* PERSON from title/relation/role cues and packaged first-name/surname lists (Faker's person
  providers), see :class:`~pipelines.privacy.person.PersonFinder`.

Heavy imports (presidio, spacy, faker) happen in :class:`Redactor.__init__`, never at import.

Example::

    redactor = Redactor(allow_list=["Rainbow Ward"])
    redactor.redact("Dr Patel on Rainbow Ward rang 07700 900123").text
    # 'Dr [NAME] on Rainbow Ward rang [PHONE]'
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path
from typing import Any

__all__ = ["DEFAULT_CONFIG_PATH", "Redaction", "Redactor", "Span", "load_config"]

DEFAULT_CONFIG_PATH = Path(__file__).resolve().parents[2] / "models" / "privacy" / "recognizers.yaml"
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
    """Case-insensitive whole-phrase regex for the allow-list (any whitespace, either apostrophe)."""
    phrases = sorted(allow, key=len, reverse=True)
    if not phrases:
        return None
    body = "|".join(re.escape(a).replace(r"\ ", r"\s+").replace("'", "['’]") for a in phrases)
    return re.compile(rf"(?<!\w)(?:{body})(?!\w)", re.IGNORECASE)


def _recognizer_set_sha256(raw: bytes, first: Iterable[str], last: Iterable[str], allow: Iterable[str]) -> str:
    """Hash of everything that decides the output: config bytes, name lists, allow-list."""
    digest = hashlib.sha256()
    digest.update(raw)
    for group in (sorted(first), sorted(last), sorted(a.casefold() for a in allow)):
        digest.update(b"\x00" + "\n".join(group).encode())
    return digest.hexdigest()


class Redactor:
    """Offline PHI redactor built on Presidio's AnalyzerEngine and AnonymizerEngine.

    Args:
        config_path: Recognizer YAML (default ``models/privacy/recognizers.yaml``).
        allow_list: Site/service names never redacted (merged with the YAML allow-list).
    """

    def __init__(self, config_path: Path | None = None, allow_list: Iterable[str] = ()) -> None:
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
        self._hash = _recognizer_set_sha256(raw, first, last, allow)
        self._config_sha256 = hashlib.sha256(raw).hexdigest()
        self._n_names = (len(first), len(last))

        self._recognizers = engine.build_recognizers(self._cfg, finder, stop_words)
        self._analyzer = engine.build_analyzer(self._recognizers, self._threshold)
        self._build_anonymizer()

    def _person_finder(self) -> tuple[Any, frozenset[str], tuple[frozenset[str], frozenset[str]]]:
        """PERSON rules over Faker's name lists; common words include spaCy stop words and lorem words."""
        from faker.providers.lorem.en_US import Provider as LoremProvider
        from spacy.lang.en.stop_words import STOP_WORDS

        from pipelines.privacy.names import load_name_lists
        from pipelines.privacy.person import PersonFinder

        first, last = load_name_lists(self._cfg)
        finder = PersonFinder(self._cfg, first, last, extra_common=[*STOP_WORDS, *LoremProvider.word_list])
        return finder, frozenset(STOP_WORDS), (first, last)

    def _build_anonymizer(self) -> None:
        from presidio_anonymizer import AnonymizerEngine
        from presidio_anonymizer.entities import OperatorConfig

        self._anonymizer = AnonymizerEngine()
        self._operators = {e: OperatorConfig("replace", {"new_value": ph}) for e, ph in self._placeholders.items()}

    # -- audit ---------------------------------------------------------------------------------
    @property
    def version(self) -> str:
        """Stable id of the recognizer set: presidio version + hash of config, name lists, allow-list."""
        return f"presidio-{_pkg_version('presidio-analyzer')}/recognizers-{self._hash[:8]}"

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
            },
            "nlp_engine": f"spacy {_pkg_version('spacy')} blank('en') tokenizer, no NER",
            "packages": {name: _pkg_version(name) for name in _AUDITED_PACKAGES},
            "recognizers": [
                {"name": r.name, "version": r.version, "entities": list(r.supported_entities)}
                for r in self._recognizers
            ],
        }

    # -- redaction -----------------------------------------------------------------------------
    def _analyze(self, text: str) -> list[Span]:
        results = self._analyzer.analyze(
            text=text, language="en", entities=list(self.entities), score_threshold=self._threshold
        )
        blocked = [m.span() for m in self._allow_re.finditer(text)] if self._allow_re else []
        cands = [r for r in results if r.end > r.start and not any(r.start < be and bs < r.end for bs, be in blocked)]
        # Overlaps: highest score wins, then the longer span.
        cands.sort(key=lambda r: (-r.score, -(r.end - r.start), r.start))
        kept: list[Any] = []
        for r in cands:
            if all(r.end <= k.start or k.end <= r.start for k in kept):
                kept.append(r)
        kept.sort(key=lambda r: r.start)
        return [Span(r.entity_type, r.start, r.end, round(float(r.score), 4)) for r in kept]

    def redact(self, text: str) -> Redaction:
        """Redact one text: every detected span is replaced by its entity placeholder.

        Raises:
            TypeError: if ``text`` is not a ``str`` (e.g. a missing value).
        """
        if not isinstance(text, str):
            raise TypeError(f"Redactor.redact expects str, got {type(text).__name__}")
        if not text.strip():
            return Redaction(text, ())
        spans = self._analyze(text)
        if not spans:
            return Redaction(text, ())
        from presidio_anonymizer.entities import RecognizerResult as AnonResult

        res = self._anonymizer.anonymize(
            text=text,
            analyzer_results=[AnonResult(s.entity_type, s.start, s.end, s.score) for s in spans],
            operators=self._operators,
        )
        return Redaction(res.text, tuple(spans))

    def redact_many(self, texts: Sequence[str], progress: bool = False) -> list[Redaction]:
        """Redact many texts; identical texts are analysed once, output order matches input."""
        unique = list(dict.fromkeys(texts))
        iterator: Iterable[str] = unique
        if progress:
            from rich.progress import track

            iterator = track(unique, description="redact")
        done = {t: self.redact(t) for t in iterator}
        return [done[t] for t in texts]

    def __repr__(self) -> str:
        return f"Redactor({self.version!r})"
