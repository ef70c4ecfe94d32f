"""Unit tests for pipelines.privacy.redactor (offline Presidio PHI redaction)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.privacy import SITE_NAMES, evaluate, make_planted_set
from pipelines.privacy.redactor import Redaction, Redactor, Span, nhs_number_is_valid

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor(allow_list=["Rainbow Ward", *SITE_NAMES])


def _types(r: Redaction) -> set[str]:
    return {s.entity_type for s in r.spans}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Dr Patel was lovely", "Dr [NAME] was lovely"),
        ("Mrs O'Brien on nights", "Mrs [NAME] on nights"),
        ("my husband john and I", "my husband [NAME] and I"),
        ("a nurse called Priya helped", "a nurse called [NAME] helped"),
        ("Nurse Joy was kind", "Nurse [NAME] was kind"),
        ("I saw Nurse Sarah Ward", "I saw Nurse [NAME] Ward"),
        ("Mr van der Berg", "Mr [NAME]"),
        ("DR KOWALCZYK WAS BRILLIANT", "DR [NAME] WAS BRILLIANT"),
        ("Thanks to Sarah and Tom", "Thanks to [NAME] and [NAME]"),
        ("My NHS number is 943 476 5919", "My NHS number is [NHS_NUMBER]"),
        ("nhs no 943-476-5919", "nhs no [NHS_NUMBER]"),
        ("ref 9434765919", "ref [NHS_NUMBER]"),
        ("hospital number K1234567", "hospital number [HOSPITAL_NUMBER]"),
        ("MRN: 01234567", "MRN: [HOSPITAL_NUMBER]"),
        ("call me on 07700 900123", "call me on [PHONE]"),
        ("ring (0161) 496 0000", "ring [PHONE]"),
        ("office 020 7946 0018", "office [PHONE]"),
        ("+44 7700 900123 anytime", "[PHONE] anytime"),
        ("US cell (555) 123-4567", "US cell [PHONE]"),
        ("or 555-123-4567", "or [PHONE]"),
        ("email jo.bloggs@example.co.uk please", "email [EMAIL] please"),
        ("I live in M1 4BT", "I live in [POSTCODE]"),
        ("postcode sw1a1aa", "postcode [POSTCODE]"),
        ("Austin, TX 78701-1234", "Austin, TX [POSTCODE]"),
        ("DOB 12/03/1954", "DOB [DATE]"),
        ("born on 3 March 1961", "born on [DATE]"),
        ("date of birth: 1954-03-12", "date of birth: [DATE]"),
        ("I live at 14 Acacia Avenue", "I live at [ADDRESS]"),
        ("Flat 2, 10 High Street", "[ADDRESS]"),
        ("see https://example.org/story/12.", "see [URL]."),
        ("www.careopinion.org.uk", "[URL]"),
    ],
)
def test_entity_examples_get_their_placeholder(redactor: Redactor, text: str, expected: str) -> None:
    assert redactor.redact(text).text == expected


def test_nhs_check_digit() -> None:
    assert nhs_number_is_valid("943 476 5919")
    assert nhs_number_is_valid("401-023-2137")
    assert not nhs_number_is_valid("943 476 5918")  # bad check digit
    assert not nhs_number_is_valid("0000000000")
    assert not nhs_number_is_valid("12345")


@pytest.mark.parametrize("text", ["NHS number 123 456 7890", "NHS number 9434765918", "NHS number 943 476 5918"])
def test_invalid_nhs_number_not_redacted_as_nhs(redactor: Redactor, text: str) -> None:
    r = redactor.redact(text)
    assert "NHS_NUMBER" not in _types(r)
    assert "[NHS_NUMBER]" not in r.text


def test_invalid_nhs_number_without_phone_shape_is_untouched(redactor: Redactor) -> None:
    assert redactor.redact("NHS number 123 456 7890").text == "NHS number 123 456 7890"


@pytest.mark.parametrize(
    "text",
    [
        "the nurse was kind",
        "The nurse was kind.",
        "Nurse was lovely and the doctors were great.",
        "The Nurse Practitioner and the Ward Manager sorted it.",
        "Matron came round. Sister on the night shift was firm.",
        "Staff were great. Parking was awful.",
        "Bill was confusing. Will the doctor call me back? May I say thanks.",
        "Hope you improve. I have faith in the NHS. It was a joy.",
        "In March on Tuesday I waited 3 hours, last week too.",
        "Moved to Ward 7 at 10:30pm, bed 14 in bay 4, paid £4.50.",
        "Given Paracetamol 500mg and Oramorph.",
        "Queen Elizabeth Hospital and Northgate General Hospital were excellent.",
        "The Emergency Department and A&E were packed.",
        "Everyone on Rainbow Ward was kind.",
        "Victoria Wing and St Mary's Hospital.",
        "Dr's were great.",
        "I've been waiting, I'm grateful.",
        "BP 140/90, open 24/7, 10/10 service.",
    ],
)
def test_job_titles_sites_and_common_words_are_kept(redactor: Redactor, text: str) -> None:
    assert redactor.redact(text).text == text


def test_allow_list_from_constructor_wins_over_name_rules() -> None:
    text = "Dr Gray's Hospital was clean"
    assert Redactor().redact(text).text != text
    assert Redactor(allow_list=["Dr Gray's Hospital"]).redact(text).text == text


def test_hostile_text_passes_through_except_phi(redactor: Redactor) -> None:
    text = "<script>alert('x')</script> call 07700 900123 {{7*7}} '; DROP TABLE feedback;-- Dr Smith"
    expected = "<script>alert('x')</script> call [PHONE] {{7*7}} '; DROP TABLE feedback;-- Dr [NAME]"
    assert redactor.redact(text).text == expected


def test_spans_are_offsets_into_the_input(redactor: Redactor) -> None:
    text = "Dr Patel, NHS 943 476 5919, email a.b@example.com"
    r = redactor.redact(text)
    assert [(s.entity_type, text[s.start : s.end]) for s in r.spans] == [
        ("PERSON", "Patel"),
        ("NHS_NUMBER", "943 476 5919"),
        ("EMAIL", "a.b@example.com"),
    ]
    assert all(isinstance(s, Span) and 0 < s.score <= 1 for s in r.spans)


def test_empty_and_blank_text(redactor: Redactor) -> None:
    assert redactor.redact("") == Redaction("", ())
    assert redactor.redact("   ") == Redaction("   ", ())
    with pytest.raises(TypeError):
        redactor.redact(None)  # type: ignore[arg-type]


def test_redact_many_dedupes_and_preserves_order(redactor: Redactor, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    original = redactor.redact

    def spy(text: str) -> Redaction:
        calls.append(text)
        return original(text)

    monkeypatch.setattr(redactor, "redact", spy)
    texts = ["Dr Patel", "fine", "Dr Patel", "call 07700 900123", "fine"]
    out = redactor.redact_many(texts)
    assert [r.text for r in out] == ["Dr [NAME]", "fine", "Dr [NAME]", "call [PHONE]", "fine"]
    assert sorted(calls) == sorted(set(texts))
    assert redactor.redact_many([]) == []


def test_version_is_stable_and_tracks_configuration(redactor: Redactor) -> None:
    again = Redactor(allow_list=["Rainbow Ward", *SITE_NAMES])
    assert again.version == redactor.version
    assert redactor.version.startswith("presidio-2.2.366/recognizers-")
    assert len(redactor.version.rsplit("-", 1)[1]) == 8
    assert Redactor(allow_list=["Some Other Site"]).version != redactor.version


def test_describe_is_an_audit_record(redactor: Redactor) -> None:
    d = redactor.describe()
    assert d["version"] == redactor.version
    assert set(d["entities"]) == {
        "PERSON",
        "NHS_NUMBER",
        "MRN",
        "PHONE",
        "EMAIL",
        "POSTCODE",
        "DATE_OF_BIRTH",
        "STREET_ADDRESS",
        "URL",
    }
    assert len(d["config_sha256"]) == 64
    assert d["name_lists"]["first_names"] > 1000
    assert {r["name"] for r in d["recognizers"]} >= {"CuesAndNameListPersonRecognizer", "RegexNhsNumberRecognizer"}
    assert "Rainbow Ward" in d["allow_list"]


def test_module_import_is_light_and_masks_are_removed() -> None:
    code = (
        "import sys, pipelines.privacy.redactor, benchmarks.privacy\n"
        "assert 'presidio_analyzer' not in sys.modules and 'spacy' not in sys.modules\n"
        "from pipelines.privacy.redactor import Redactor\n"
        "Redactor()\n"
        "assert sys.modules.get('torch', 'absent') is not None\n"
        "assert sys.modules.get('transformers', 'absent') is not None\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=120)


def test_planted_set_is_well_formed() -> None:
    items = make_planted_set(200, seed=3)
    assert len(items) == 200
    assert all(it["text"][s["start"] : s["end"]] == s["text"] for it in items for s in it["spans"])
    empty = sum(1 for it in items if not it["spans"])
    assert 0.25 <= empty / len(items) <= 0.35
    assert {s["entity_type"] for it in items for s in it["spans"]} == {
        "PERSON",
        "NHS_NUMBER",
        "MRN",
        "PHONE",
        "EMAIL",
        "POSTCODE",
        "DATE_OF_BIRTH",
        "STREET_ADDRESS",
        "URL",
    }


def test_bench_smoke_meets_targets(redactor: Redactor) -> None:
    rows = {r["entity_type"]: r for r in evaluate(redactor, make_planted_set(200, seed=7))}
    for entity in ("NHS_NUMBER", "EMAIL", "PHONE", "POSTCODE"):
        assert rows[entity]["recall"] >= 0.98, rows[entity]
    assert rows["PERSON"]["recall"] >= 0.90, rows["PERSON"]
    assert rows["ALL"]["precision"] >= 0.90, rows["ALL"]
    assert rows["ALL"]["comments_per_s"] > 0
