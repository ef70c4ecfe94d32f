"""Presidio glue, fully offline: blank spaCy NLP engine, our recognizers and Presidio's own.

Presidio is imported inside functions only (``import pipelines.privacy.engine`` stays light);
:func:`presidio_classes` defines the Presidio subclasses once, after :func:`import_presidio`.

Recognizers come from ``models/privacy/recognizers.yaml``:

* ``patterns:`` -> one :func:`~pipelines.privacy.patterns.find_matches` recognizer per entity;
* ``presidio_recognizers:`` -> Presidio's predefined recognizers (``presidio_analyzer.
  predefined_recognizers``), used where the privacy benchmark measured them as good as ours;
* PERSON -> :class:`~pipelines.privacy.person.PersonFinder`.
"""

from __future__ import annotations

import importlib
import re
import sys
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from pipelines.heavy import gc_paused
from pipelines.privacy.patterns import CompiledPattern, compile_patterns, find_matches
from pipelines.privacy.person import PersonFinder


def import_presidio() -> None:
    """Import Presidio without dragging in torch/transformers.

    presidio_analyzer imports its optional Hugging Face engine (and, through thinc, torch) when
    those packages are installed: ~6 s and ~1 GB we never use, since this redactor has no NER
    model. While Presidio is first imported, both are masked so their optional imports fail
    fast; the masks are removed straight after, so later ``import torch`` elsewhere works.
    """
    if "presidio_analyzer.nlp_engine" in sys.modules:
        return
    masked = [m for m in ("torch", "transformers") if m not in sys.modules]
    for m in masked:
        sys.modules[m] = None  # type: ignore[assignment]
    try:
        with gc_paused():  # a heavy import: see pipelines.heavy
            importlib.import_module("presidio_analyzer")
            importlib.import_module("presidio_analyzer.nlp_engine")
            importlib.import_module("presidio_analyzer.predefined_recognizers")
            importlib.import_module("presidio_anonymizer")
    finally:
        for m in masked:
            if sys.modules.get(m, 0) is None:
                del sys.modules[m]


@dataclass(frozen=True)
class PresidioClasses:
    """The Presidio subclasses this redactor uses (defined once Presidio is imported)."""

    nlp: type
    regex: type
    person: type
    email: type
    phone: type
    no_context: type


@lru_cache(maxsize=1)
def presidio_classes() -> PresidioClasses:
    """Import Presidio (torch masked) and define the subclasses; cached after the first call."""
    import_presidio()
    return PresidioClasses(
        nlp=_blank_nlp_engine(),
        regex=_regex_recognizer(),
        person=_person_recognizer(),
        email=_offline_email_recognizer(),
        phone=_scored_phone_recognizer(),
        no_context=_no_context_enhancer(),
    )


def _blank_nlp_engine() -> type:
    from presidio_analyzer.nlp_engine import SpacyNlpEngine

    class BlankSpacyNlpEngine(SpacyNlpEngine):
        """Presidio NLP engine over ``spacy.blank('en')`` (tokenizer only, nothing to download)."""

        def load(self) -> None:  # noqa: D102
            import spacy

            self.nlp = {"en": spacy.blank("en")}

    return BlankSpacyNlpEngine


def _regex_recognizer() -> type:
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    class RegexRecognizer(EntityRecognizer):
        """Config-driven regex recognizer for one entity (see :mod:`pipelines.privacy.patterns`)."""

        def __init__(self, entity: str, patterns: list[CompiledPattern]) -> None:
            self.patterns = patterns
            super().__init__(
                supported_entities=[entity],
                name=f"Regex{entity.title().replace('_', '')}Recognizer",
                supported_language="en",
                version="1.0.0",
            )

        def load(self) -> None:  # noqa: D102
            pass

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list:  # noqa: D102
            entity = self.supported_entities[0]
            return [
                RecognizerResult(
                    entity,
                    m.start,
                    m.end,
                    m.score,
                    recognition_metadata={"recognizer_name": self.name, "pattern_name": m.pattern_name},
                )
                for m in find_matches(text, self.patterns)
            ]

    return RegexRecognizer


def _person_recognizer() -> type:
    from presidio_analyzer import EntityRecognizer, RecognizerResult

    class PersonRecognizer(EntityRecognizer):
        """Presidio wrapper around :class:`~pipelines.privacy.person.PersonFinder`."""

        def __init__(self, finder: PersonFinder) -> None:
            self.finder = finder
            super().__init__(
                supported_entities=["PERSON"],
                name="CuesAndNameListPersonRecognizer",
                supported_language="en",
                version="1.0.0",
            )

        def load(self) -> None:  # noqa: D102
            pass

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list:  # noqa: D102
            return [
                RecognizerResult("PERSON", s, e, sc, recognition_metadata={"recognizer_name": self.name})
                for s, e, sc in self.finder.find(text)
            ]

    return PersonRecognizer


def _offline_email_recognizer() -> type:
    import tldextract
    from presidio_analyzer.predefined_recognizers import EmailRecognizer

    offline_tld = tldextract.TLDExtract(suffix_list_urls=(), cache_dir=None, fallback_to_snapshot=True)

    class OfflineEmailRecognizer(EmailRecognizer):
        """Presidio's email recognizer, validating the domain against the bundled suffix snapshot."""

        def validate_result(self, pattern_text: str) -> bool:  # noqa: D102
            return offline_tld(pattern_text).fqdn != ""

    return OfflineEmailRecognizer


def _scored_phone_recognizer() -> type:
    from presidio_analyzer.predefined_recognizers import PhoneRecognizer

    class ScoredPhoneRecognizer(PhoneRecognizer):
        """Presidio's python-phonenumbers recognizer with a configurable base score.

        Skips texts without a run of 7+ digits (most comments): phonenumbers' matcher is the
        most expensive recognizer and can only match such runs.
        """

        SCORE = 0.6
        _DIGITS = re.compile(r"\d(?:[\s().+\-]{0,3}\d){6}")

        def analyze(self, text: str, entities: list[str], nlp_artifacts: Any = None) -> list:  # noqa: D102
            if not self._DIGITS.search(text):
                return []
            return super().analyze(text, entities, nlp_artifacts)

    return ScoredPhoneRecognizer


def _no_context_enhancer() -> type:
    from presidio_analyzer.context_aware_enhancers import ContextAwareEnhancer

    class NoContextEnhancer(ContextAwareEnhancer):
        """Cue words are handled inside our recognizers (cue_regex); skip Presidio's lemma pass."""

        def __init__(self) -> None:
            super().__init__(0.0, 0.0, 0, 0)

        def enhance_using_context(
            self, text: str, raw_results: list, nlp_artifacts: Any, recognizers: list, context: list[str] | None = None
        ) -> list:  # noqa: D102
            return raw_results

    return NoContextEnhancer


# ---------------------------------------------------------------------------------------------
# Building the recognizer set and the analyzer
# ---------------------------------------------------------------------------------------------
def predefined_recognizer(entity: str, spec: dict[str, Any]) -> Any:
    """Build one of Presidio's predefined recognizers for ``entity`` from its config entry.

    ``spec["recognizer"]`` names a class in ``presidio_analyzer.predefined_recognizers``.
    ``EmailRecognizer`` validates domains offline; ``PhoneRecognizer`` takes ``regions``,
    ``leniency`` and ``score``; a pattern recognizer takes ``score``, which replaces the shipped
    pattern scores (those assume Presidio's context enhancer, which needs spaCy lemmas we do
    not have).

    Raises:
        ValueError: if the class does not exist or is not supported here.
    """
    classes = presidio_classes()
    from presidio_analyzer import Pattern, PatternRecognizer, predefined_recognizers

    name = spec["recognizer"]
    if name == "EmailRecognizer":
        return classes.email(supported_entity=entity)
    if name == "PhoneRecognizer":
        phone = classes.phone(
            supported_entity=entity,
            supported_regions=tuple(spec["regions"]),
            leniency=int(spec.get("leniency", 1)),
        )
        phone.SCORE = float(spec.get("score", classes.phone.SCORE))
        return phone
    cls = getattr(predefined_recognizers, name, None)
    if not (isinstance(cls, type) and issubclass(cls, PatternRecognizer)):
        raise ValueError(f"unsupported Presidio recognizer {name!r} for {entity}")
    patterns = [Pattern(p.name, p.regex, float(spec["score"])) for p in cls.PATTERNS] if "score" in spec else None
    return cls(supported_entity=entity, patterns=patterns)


def build_recognizers(cfg: dict[str, Any], finder: PersonFinder, stop_words: frozenset[str]) -> list[Any]:
    """Return the recognizer set: PERSON, one regex recognizer per entity, then Presidio's own.

    Args:
        cfg: The parsed recognizer YAML.
        finder: The PERSON rule engine.
        stop_words: Words a lower-case street name never contains (spaCy's English stop words).
    """
    classes = presidio_classes()
    recognizers: list[Any] = [classes.person(finder)]
    for entity, patterns in compile_patterns(cfg, stop_words).items():
        recognizers.append(classes.regex(entity, patterns))
    for entity, spec in (cfg.get("presidio_recognizers") or {}).items():
        recognizers.append(predefined_recognizer(entity, spec))
    return recognizers


def build_analyzer(recognizers: list[Any], threshold: float) -> Any:
    """Return a Presidio ``AnalyzerEngine`` over ``recognizers``: blank spaCy, no context pass."""
    classes = presidio_classes()
    from presidio_analyzer import AnalyzerEngine, RecognizerRegistry

    nlp_engine = classes.nlp(models=[{"lang_code": "en", "model_name": "blank:en"}])
    nlp_engine.load()
    return AnalyzerEngine(
        registry=RecognizerRegistry(recognizers=recognizers, supported_languages=["en"]),
        nlp_engine=nlp_engine,
        supported_languages=["en"],
        default_score_threshold=threshold,
        context_aware_enhancer=classes.no_context(),
    )
