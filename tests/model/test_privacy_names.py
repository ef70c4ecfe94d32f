"""Behavioural tests of PERSON redaction with the names model (rules + model, the default).

Examples are written for these tests (not taken from any evaluation corpus). They need the built
names model (``make privacy-model``); without it the module is skipped with that instruction.
"""

from __future__ import annotations

import re

import pytest

from pipelines.privacy.namemodel import DEFAULT_BUILD_DIR, MODEL_FILE, NamesModelMissing
from pipelines.privacy.redactor import Redactor

pytestmark = pytest.mark.skipif(
    not (DEFAULT_BUILD_DIR / MODEL_FILE).is_file(),
    reason=f"names model not built in {DEFAULT_BUILD_DIR}: run `make privacy-model`",
)


@pytest.fixture(scope="module")
def redactor() -> Redactor:
    return Redactor()


def _leaks(redactor: Redactor, text: str, names: list[str]) -> list[str]:
    """Names (alphabetic characters) that are still readable in the redacted text."""
    out = redactor.redact(text).text
    return [n for n in names if re.search(rf"(?<!\w){re.escape(n)}(?!\w)", out)]


@pytest.mark.parametrize(
    ("text", "names"),
    [
        ("Signed, G. Throckmorton", ["Throckmorton"]),
        ("signed miss d. fairweather-ozturk", ["fairweather-ozturk"]),
        ("My details: Wieslaw Pietrzak, DOB 02/02/1950, ward 6", ["Wieslaw", "Pietrzak"]),
        ("staff nurse Roisin made my stay bearable", ["Roisin"]),
        ("Babajide Ogunleye the porter sang to me", ["Babajide", "Ogunleye"]),
        ("Przemyslaw Lewandowicz on reception found my letter", ["Przemyslaw", "Lewandowicz"]),
        ("dr eberechukwu came at 2am", ["eberechukwu"]),
        ("my mum Winifred Gallagher-Boyce has Alzheimer's", ["Winifred", "Gallagher-Boyce"]),
        ("MY DAD DESMOND OKORO WAS LEFT FOR HOURS", ["DESMOND", "OKORO"]),
        ("thanks to Mr O'Callaghan and Dr D'Costa", ["O'Callaghan", "D'Costa"]),
        ("Grace from the ward rang us every day", ["Grace"]),
        ("Nurse Hope was amazing on nights", ["Hope"]),
        ("Leokadia's kindness will stay with me", ["Leokadia"]),
        ("Please ring Tunde Bakare on 07700 900877", ["Tunde", "Bakare"]),
        ("thank you to siobhan and magda on the day unit", ["siobhan", "magda"]),
        ("Seen by F.X. Delacroix in the eye clinic", ["Delacroix"]),
        ("Huong and Thuy on the ward were so gentle", ["Huong", "Thuy"]),
        # issue 17: sign-offs, roles after names, numbers, repeats, other scripts, US roles
        ("Signed, H. Ollerenshaw", ["Ollerenshaw"]),
        ("yours sincerely mrs b. winterbottom-acheampong", ["winterbottom-acheampong"]),
        ("My details: Radosław Szczepański, DOB 01/01/1960", ["Radosław", "Szczepański"]),
        ("Chinedu Eze-Okafor the porter pushed my wheelchair", ["Chinedu", "Eze-Okafor"]),
        ("Wiesław on reception was kind", ["Wiesław"]),
        ("staff nurse Fenella was brilliant. Fenella Castleton is a star", ["Fenella", "Castleton"]),
        ("bed 7 (mr adeyinka) needed help with meals", ["adeyinka"]),
        ("my nan Gwladys Prothero has dementia", ["Gwladys", "Prothero"]),
        ("Our RN Shaniqua and CNA Tremaine were great", ["Shaniqua", "Tremaine"]),
        ("many thanks, tamsin", ["tamsin"]),
        ("my grandmother 陈秀英 needed an interpreter", ["陈秀英"]),
        ("the porters (esp. Dimitrios) were cheerful", ["Dimitrios"]),
        ("Rose gave me my morphine on time", ["Rose"]),
    ],
)
def test_names_written_the_way_patients_write_them_are_redacted(
    redactor: Redactor, text: str, names: list[str]
) -> None:
    assert _leaks(redactor, text, names) == []


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("Ward 7 was spotless and A&E was quick", ["Ward 7", "A&E"]),
        ("The Dr was late but the Crisis Team rang back", ["Dr", "Crisis Team"]),
        ("Transferred from the Royal Victoria to St Thomas' on Monday", ["Royal Victoria", "St Thomas'", "Monday"]),
        ("Mum has Parkinson's and was given Sinemet and Oramorph", ["Parkinson's", "Sinemet", "Oramorph"]),
        ("I hope the staff get the thanks they deserve, by the grace of God", ["hope", "grace"]),
        ("Will the consultant call me in March?", ["Will", "March"]),
        ("The Victoria Wing is tired but clean", ["Victoria Wing"]),
        ("Nightingale ward and Edith Cavell ward were both full", ["Nightingale ward", "Edith Cavell ward"]),
        ("Kind regards to everyone on Ward 9", ["Kind regards", "Ward 9"]),
        ("Rose garden outside the maternity unit was lovely", ["Rose"]),
        ("Frank conversation with the consultant. Daisy chain of referrals", ["Frank", "Daisy"]),
        ("Paracetamol and co-codamol every four hours on Ward 12", ["Paracetamol", "co-codamol", "Ward 12"]),
    ],
)
def test_clinical_and_service_words_survive(redactor: Redactor, text: str, kept: list[str]) -> None:
    out = redactor.redact(text).text
    assert [k for k in kept if k not in out] == []


@pytest.mark.parametrize(
    "name",
    [
        "Agata Wrobel",
        "Chiamaka Eze",
        "Nguyen Thi Hoa",
        "Rajinder Kaur",
        "Siobhan Kavanagh",
        "Yusuf Al-Hashimi",
        "Kenji Watanabe",
        "Ioana Munteanu",
    ],
)
def test_invariance_to_the_origin_of_the_name(redactor: Redactor, name: str) -> None:
    text = f"The receptionist {name} was patient and kind"
    assert _leaks(redactor, text, name.split()) == []


@pytest.mark.parametrize("case", [str.lower, str.upper, lambda s: s])
def test_invariance_to_case(redactor: Redactor, case) -> None:
    text = case("Signed, Marianne Kowalczyk-Reid (daughter of the patient on Ward 4)")
    out = redactor.redact(text).text
    assert case("Kowalczyk-Reid") not in out and case("Marianne") not in out
    assert case("Ward 4") in out


def test_model_finds_names_that_the_rules_miss() -> None:
    # (was "... on reception was very welcoming": since issue 17 the rules catch a name before "on reception")
    text = "Radomir Szczepanik was very welcoming"
    rules = Redactor(person="rules").redact(text).text
    union = Redactor().redact(text).text
    assert "Szczepanik" in rules  # no cue and not in the name lists
    assert "Szczepanik" not in union and "was very welcoming" in union


def test_redact_many_matches_redact(redactor: Redactor) -> None:
    texts = ["Dr Adeyemi-Cole was kind", "Ward 7 was clean", "Dr Adeyemi-Cole was kind", "signed t. ramsbottom"]
    assert redactor.redact_many(texts) == [redactor.redact(t) for t in texts]


def test_version_and_audit_record_carry_the_model_hash(redactor: Redactor) -> None:
    d = redactor.describe()
    sha = d["names_model"]["sha256"]
    assert len(sha) == 64 and redactor.version.endswith(f"/names-{sha[:8]}")
    assert d["names_model"]["manifest"]["model_sha256"] == sha
    assert Redactor(person="rules").version.endswith("/names-none")


def test_missing_model_is_a_clear_error(tmp_path) -> None:
    with pytest.raises(NamesModelMissing, match="make privacy-model"):
        Redactor(names_model=tmp_path)


def test_names_found_do_not_depend_on_the_texts_run_beside_them() -> None:
    # The int8 model is quantised dynamically (activation scales over the whole batch), so a
    # text's spans and probabilities must come from runs of that text alone: the same comment in
    # another delivery, beside other comments, is redacted the same way.
    from pipelines.privacy.namemodel import NameModel

    model = NameModel()
    people = ["Amara Okafor", "Dr Lindqvist", "nurse Bronagh", "Mr Featherstonehaugh", "Tomasz", "Priya Raman"]
    tails = ["was kind", "explained everything twice to my elderly father on the ward", "did not listen", "rang me"]
    texts = [
        f"{p} {t}" + " and the ward was clean" * (i % 4)
        for i, (p, t) in enumerate(zip(people * 8, tails * 12, strict=True))
    ]
    alone = [model.find(t) for t in texts]
    assert any(alone)
    assert model.find_many(texts) == alone
    assert model.find_many(texts[::-1]) == alone[::-1]
    assert model.find_many(texts[:7]) + model.find_many(texts[7:]) == alone


def test_two_runs_side_by_side_give_the_same_probabilities_as_one_at_a_time() -> None:
    # The model runs two texts at once on a 2-core machine (one onnxruntime session, two threads):
    # every word's probability must be what a single run gives, in the texts' own order.
    from pipelines.privacy.namemodel import NameModel

    texts = [
        "Staff nurse Bernadette was lovely",
        "thanks to dr okonkwo and his team",
        "my mum Margaret Pemberton waited 4 hours",
        "Signed, T. Ramsbottom",
        "the ward was clean",
    ] * 5
    one, two = NameModel(workers=1), NameModel(workers=2)
    assert two.workers == 2
    assert two.word_probs_many(texts) == one.word_probs_many(texts)
    assert two.find_many(texts) == one.find_many(texts) and any(one.find_many(texts))


def test_a_partition_worker_process_runs_the_names_model_on_one_thread(monkeypatch) -> None:
    # `--workers N` starts N processes with FEEDBACK_WORKER_THREADS=1: each must not start two runs.
    from pipelines.privacy.redactor import Redactor

    monkeypatch.setenv("FEEDBACK_WORKER_THREADS", "1")
    assert Redactor._names_model(None).workers == 1
    monkeypatch.delenv("FEEDBACK_WORKER_THREADS")
    assert Redactor._names_model(None).workers == 2


def test_the_built_model_scales_activations_per_token_and_runs_texts_batched() -> None:
    # make models quantises with one activation scale per token (pipelines.int8), so chunks of
    # equal length run together, and each gets what a run of it alone gives.
    from pipelines.privacy.namemodel import NameModel

    model = NameModel(workers=1)
    assert model.per_token and model.manifest()["int8"]["activations"] == "per_token"
    sizes: list[int] = []
    run = model._run
    model._run = lambda batch: sizes.append(len(batch)) or run(batch)  # type: ignore[method-assign]
    texts = [f"thanks to nurse {n} on the ward" for n in ("Bernadette", "Priya", "Tomasz", "Ngozi", "Amara")] * 4
    batched = model.word_probs_many(texts)
    assert max(sizes) > 1 and len(sizes) < len(texts)
    model._run = run  # type: ignore[method-assign]
    assert batched == model.word_probs_many(texts, batch_size=1)


@pytest.mark.parametrize(
    ("text", "names", "kept"),
    [
        (
            "la enfermera Rocío fue muy amable con mi mamá, gracias a todo el equipo del cuarto piso",
            ["Rocío"],
            ["fue", "piso"],
        ),
        ("Todo bien, la doctora Ramírez muy atenta.", ["Ramírez"], ["atenta"]),
        (
            "RN Lupe was great pero the night nurse no me hizo caso cuando pedí agua.",
            ["Lupe"],
            ["caso", "cuando", "agua"],
        ),
        ("Halina z rejestracji była bardzo pomocna.", ["Halina"], ["rejestracji"]),
    ],
)
def test_words_of_another_language_are_not_taken_for_names(
    redactor: Redactor, text: str, names: list[str], kept: list[str]
) -> None:
    out = redactor.redact(text).text
    assert _leaks(redactor, text, names) == []
    assert all(re.search(rf"(?<!\w){w}(?!\w)", out) for w in kept), out


def test_text_speak_is_not_read_as_another_language(redactor: Redactor) -> None:
    # "u", "r", "x" are stop words somewhere, but only 3+ letter words the English vocabulary lacks count
    text = "thank u 2 the paramedics mo and jonno they r stars x"
    assert not redactor._finder.foreign_text(text)  # noqa: SLF001 - the rule's own predicate
    assert _leaks(redactor, text, ["jonno"]) == []
