"""Assemble ``feedback_labelled_part4c.jsonl`` from the hand-written lists below (see DATASHEET_part4c.md).

Part 4c covers three gaps found by the behavioural tests of issue 13:

1. **Bare topic answers**: an answer that names a topic without judging it ("the parking", "Reception.").
   CODING.md's one rule: code the text in the light of the question. Under a what-was-good question the
   patient names what was good (4); under an improvement question, what needs improving (2, a
   suggestion); under a why / any-other-comments question a bare topic carries no evaluation (3).
2. **Text and rating pointing opposite ways** (a ticked-the-wrong-end FFT box, a 0 on NPS with warm
   thanks): the label describes the text (CODING.md), so clear praise stays 4/5 under "very poor" and
   clear criticism stays 1/2 under "very good".
3. **Short verdicts with no question** ("Awful", "Superb"): parts 1-4b have few answers without a question.

Every answer below was written by hand for this part. The script only crosses the topic answers with
question wordings, draws a question wording and a rating for each row with a seeded generator, and
writes the file; re-running writes the same bytes.

    python models/sentiment/data/part4c_assemble.py
"""

from __future__ import annotations

import json
import random
from pathlib import Path

HERE = Path(__file__).resolve().parent
OUT = HERE / "feedback_labelled_part4c.jsonl"
SEED = 4343

GOOD_QS = [
    "What was good about your experience?",
    "What was good about your visit?",
    "What was good?",
    "What did we do well?",
    "What went well during your visit?",
    "Tell us what we did well",
]
IMPROVE_QS = [
    "What could we do better?",
    "How could we improve?",
    "Is there anything we could have done better?",
    "What would have made your experience better?",
    "Is there anything we could improve?",
]
OTHER_QS = [
    "Please tell us why you gave your answer",
    "Any other comments?",
    "Is there anything else you would like to tell us?",
    "What is the main reason for your score?",
]

# (setting, bare topic answers written as patients type them: case, full stops and typos vary).
# Deliberately absent: the topics of tests/model/test_sentiment_behaviour.py (food, nurses,
# communication, waiting times, getting an appointment, chairs), so the test stays out of sample.
TOPICS: list[tuple[str, list[str]]] = [
    ("Emergency ambulance (999)", ["The paramedics", "the crew.", "Ambulance response time", "the call handler"]),
    ("NHS 111", ["The 111 call back", "the clinician on the phone", "Call back time.", "111 advice"]),
    ("Non-emergency patient transport", ["The drivers", "transport booking", "pick up times", "The transport crew."]),
    ("Emergency department (A&E)", ["Triage", "the a&e doctors", "Pain relief.", "the childrens a&e bit"]),
    ("GP out-of-hours", ["Out of hours service", "the home visit", "the OOH doctor"]),
    ("Urgent treatment centre", ["The x-ray department", "the UTC staff", "minor injuries"]),
    ("inpatient ward", ["The ward", "Cleanliness", "night staff", "Visiting hours.", "the porters", "Discharge"]),
    ("outpatients/clinic", ["The consultant", "clinic letters", "the booking system", "Reception."]),
    (
        "GP practice",
        ["The receptionists", "online booking", "the phone line", "the practice app", "Repeat prescriptions"],
    ),
    ("pharmacy", ["The pharmacist", "prescription collection", "opening hours"]),
    ("dentistry", ["The dentist.", "dental hygienist", "the check up"]),
    ("physiotherapy", ["The physio", "home exercises", "the gym sessions"]),
    ("community nursing", ["District nurses visits", "wound care", "visit times"]),
    ("mental health - community team", ["My care coordinator", "the crisis number", "Therapy sessions."]),
    ("mental health - inpatient unit", ["The activities", "ward rounds", "leave arrangements"]),
    ("maternity - labour ward", ["The midwives.", "birth partner facilities", "the birthing pool"]),
    ("maternity - postnatal ward", ["Breastfeeding support", "the postnatal ward", "partners staying overnight"]),
    ("health visiting", ["The health visitor", "baby clinic", "weighing clinic times"]),
    ("day surgery", ["Pre op assessment", "the anaesthetist", "aftercare advice"]),
    ("care for older people", ["Help at mealtimes", "the dementia team", "the day room"]),
    ("US hospital stay", ["The nursing staff", "billing", "the hospitalist", "Discharge instructions"]),
    ("US emergency room", ["The ER doctors", "the triage nurse", "wait time to be roomed"]),
    ("Walk-in centre", ["Walk in service", "the queue system"]),
    ("radiology", ["The MRI team", "scan results"]),
    ("cancer care", ["The chemo unit", "my specialist nurse", "support groups"]),
    ("children's services", ["The play specialists", "the childrens ward", "parents facilities"]),
]

# Clear praise and clear criticism with the respondent's rating at the other end (label = the text).
# (setting, question kind, text, label, rating scale, rating)
DISAGREE: list[tuple[str, str, str, int, str, int]] = [
    (
        "Emergency ambulance (999)",
        "why",
        "Paramedics were fantastic, so gentle with my nan and kept her laughing",
        5,
        "fft",
        5,
    ),
    ("Emergency ambulance (999)", "why", "crew were brilliant, really calm and reassuring", 5, "fft", 4),
    ("NHS 111", "why", "The nurse on 111 was lovely and sorted everything quickly", 4, "fft", 5),
    (
        "Non-emergency patient transport",
        "why",
        "Driver was so kind, helped me to my door and carried my bag",
        5,
        "fft",
        5,
    ),
    (
        "Emergency department (A&E)",
        "why",
        "Seen quickly, the doctor was excellent and explained everything",
        4,
        "fft",
        5,
    ),
    (
        "Emergency department (A&E)",
        "other",
        "Every member of staff in resus was amazing. Thank you for looking after me",
        5,
        "fft",
        5,
    ),
    ("inpatient ward", "why", "wonderful care from all the staff on ward 3, nothing was too much trouble", 5, "fft", 5),
    ("inpatient ward", "why", "The team on the ward were kind and attentive the whole week", 4, "fft", 4),
    ("GP practice", "why", "Dr Okafor is the best GP we have ever had, always listens", 5, "fft", 5),
    ("GP practice", "why", "receptionist was really helpful and got me in the same day", 4, "nps", 0),
    ("outpatients/clinic", "why", "Consultant was thorough and kind, I felt reassured", 4, "fft", 5),
    ("pharmacy", "why", "Pharmacist went above and beyond to find my medication", 5, "stars", 1),
    ("dentistry", "why", "Lovely dentist, very gentle and patient with my nerves", 4, "stars", 1),
    ("physiotherapy", "why", "Excellent physio, my knee is so much better", 5, "nps", 1),
    (
        "maternity - labour ward",
        "why",
        "The midwife who delivered my son was an angel, I will never forget her",
        5,
        "fft",
        5,
    ),
    (
        "mental health - community team",
        "why",
        "My support worker has been amazing and really helped me through",
        5,
        "fft",
        5,
    ),
    ("community nursing", "why", "The district nurses are kind, reliable and always on time", 4, "fft", 4),
    (
        "US hospital stay",
        "other",
        "The nurses on the cardiac floor were outstanding and treated me with respect",
        5,
        "hcahps",
        0,
    ),
    ("US hospital stay", "other", "Great doctors, great nurses, clean room", 4, "hcahps", 1),
    ("US emergency room", "why", "ER staff were fast, friendly and very professional", 4, "nps", 0),
    ("day surgery", "why", "Everyone was fantastic from start to finish, thank you", 5, "fft", 5),
    ("care for older people", "why", "Staff treated my mum with real dignity and kindness", 5, "fft", 4),
    ("children's services", "why", "The childrens ward team were superb with my daughter", 5, "fft", 5),
    ("Urgent treatment centre", "why", "quick efficient and friendly, in and out in an hour", 4, "fft", 5),
    ("GP out-of-hours", "why", "the out of hours doctor was very kind and came out promptly", 4, "fft", 5),
    ("health visiting", "why", "Our health visitor is brilliant, so supportive", 5, "fft", 5),
    (
        "Emergency ambulance (999)",
        "why",
        "Waited over 5 hours for an ambulance with my dad on the floor, appalling",
        1,
        "fft",
        1,
    ),
    ("Emergency ambulance (999)", "why", "crew were rude to my wife and didnt listen", 2, "fft", 1),
    ("NHS 111", "why", "111 told me someone would ring back within the hour, nobody rang", 2, "fft", 1),
    ("Non-emergency patient transport", "why", "Transport never turned up and I missed my dialysis", 1, "fft", 1),
    (
        "Emergency department (A&E)",
        "why",
        "Left on a trolley in the corridor for 14 hours, nobody checked on me",
        1,
        "fft",
        1,
    ),
    (
        "Emergency department (A&E)",
        "why",
        "Doctor was dismissive and sent me home, it turned out my wrist was broken",
        1,
        "fft",
        2,
    ),
    ("inpatient ward", "why", "The ward was filthy and call bells were ignored all night", 1, "fft", 1),
    ("inpatient ward", "why", "Staff were abrupt and nobody explained my treatment", 2, "fft", 1),
    ("GP practice", "why", "Impossible to get through on the phone, 45 minutes in a queue every time", 2, "fft", 1),
    ("GP practice", "why", "The receptionists are rude and unhelpful", 2, "nps", 10),
    ("outpatients/clinic", "why", "Clinic ran two hours late and no one told us why", 2, "fft", 1),
    ("pharmacy", "why", "My prescription was wrong for the third time, dangerous", 1, "stars", 5),
    ("dentistry", "why", "Dentist was rough and didnt wait for the numbing to work", 2, "stars", 5),
    ("physiotherapy", "why", "Physio cancelled twice with no notice, waste of time", 2, "nps", 9),
    (
        "maternity - postnatal ward",
        "why",
        "Left alone for hours after my c section, begged for pain relief",
        1,
        "fft",
        1,
    ),
    ("mental health - crisis line", "why", "Crisis line hung up on me when I was at my lowest", 1, "fft", 1),
    ("community nursing", "why", "nurses never come when they say, mum was left with a dirty dressing", 2, "fft", 1),
    ("US hospital stay", "other", "Nurses ignored the call light for over an hour, terrible", 1, "hcahps", 10),
    ("US hospital stay", "other", "The billing department is a nightmare and nobody calls back", 2, "hcahps", 9),
    ("US emergency room", "why", "Waited 9 hours in the ER waiting room with chest pain", 1, "nps", 10),
    ("day surgery", "why", "operation cancelled on the day after I had fasted, second time", 2, "fft", 1),
    ("care for older people", "why", "Dad was left in soiled sheets, no dignity at all", 1, "fft", 1),
    ("children's services", "why", "Nobody listened to us about our son's pain", 2, "fft", 1),
    ("Urgent treatment centre", "why", "4 hour wait then told to go to A&E anyway, pointless", 2, "fft", 1),
    ("GP out-of-hours", "why", "the doctor on the phone was patronising and unhelpful", 2, "fft", 2),
    ("health visiting", "why", "health visitor made me feel like a bad mum", 2, "fft", 1),
]

# One-word or short verdicts, often with no question at all (a free-text box without a prompt, a
# suggestion card): the verdict is the label (CODING.md: 1-2 criticism, 4-5 praise; 1 and 5 when
# strong). Kept out: the verdicts of the behavioural tests ("Excellent", "Terrible", "It was ok").
# (text, label, question kind: "" = no question, "why", "other")
VERDICTS: list[tuple[str, int, str]] = [
    ("Awful", 1, ""),
    ("Dreadful.", 1, ""),
    ("Appalling", 1, ""),
    ("shocking", 1, ""),
    ("Rubbish", 1, ""),
    ("Horrendous!", 1, ""),
    ("Disgraceful", 1, "why"),
    ("Atrocious", 1, ""),
    ("Abysmal.", 1, "why"),
    ("Useless", 1, ""),
    ("Pathetic", 1, "other"),
    ("Awful service", 1, "why"),
    ("Horrible", 1, ""),
    ("Poor", 2, ""),
    ("Very poor", 2, "why"),
    ("Not good", 2, ""),
    ("Bad experience", 2, ""),
    ("Pretty poor", 2, "other"),
    ("Not great", 2, ""),
    ("Disappointing", 2, ""),
    ("Really rude", 2, ""),
    ("Superb", 5, ""),
    ("Outstanding", 5, ""),
    ("Fantastic!", 5, ""),
    ("Brilliant", 5, "why"),
    ("Amazing", 5, ""),
    ("Wonderful", 5, "other"),
    ("Faultless", 5, ""),
    ("Exceptional", 5, ""),
    ("Top notch", 5, "why"),
    ("Lovely", 4, ""),
    ("Very nice", 4, ""),
    ("Pleasant", 4, ""),
    ("Spot on", 4, ""),
    ("Helpful", 4, "why"),
    ("Efficient", 4, ""),
    ("Quick and easy", 4, "other"),
]

_SCALE_RANGE = {"fft": (1, 2, 3, 4, 5), "nps": tuple(range(11)), "hcahps": tuple(range(11)), "stars": (1, 2, 3, 4, 5)}


def _rating_for(kind: str, rng: random.Random) -> tuple[str, int | None]:
    # Ratings of the topic rows: what-was-good answers come mostly from satisfied respondents,
    # improvement answers from all of them (FFT "very good" with a suggestion is the common case).
    scale = rng.choice(["fft", "fft", "fft", "nps", "none", "none"])
    if scale == "none":
        return "none", None
    if scale == "fft":
        weights = {"good": (6, 3, 1, 0.5, 0.5), "improve": (4, 3, 1.5, 1, 0.5), "other": (3, 2, 2, 1.5, 1.5)}[kind]
        return "fft", rng.choices((1, 2, 3, 4, 5), weights=weights)[0]
    weights_nps = {"good": 8, "improve": 6, "other": 5}[kind]
    low, high = (0, 6) if rng.random() > weights_nps / 10 else (7, 10)
    return "nps", rng.randint(low, high)


def rows() -> list[dict]:
    """All part 4c rows, in the order they are written (ids assigned after a seeded shuffle)."""
    rng = random.Random(SEED)
    out: list[dict] = []
    for setting, answers in TOPICS:
        for answer in answers:
            kinds = ["good", "improve"] + (["other"] if rng.random() < 0.4 else [])
            for kind in kinds:
                question = rng.choice({"good": GOOD_QS, "improve": IMPROVE_QS, "other": OTHER_QS}[kind])
                label = {"good": 4, "improve": 2, "other": 3}[kind]
                scale, rating = _rating_for(kind, rng)
                out.append(_row(question, answer, label, setting, scale, rating))
    for setting, kind, text, label, scale, rating in DISAGREE:
        if rating not in _SCALE_RANGE[scale]:
            raise ValueError(f"rating {rating} outside {scale}: {text}")
        question = rng.choice(OTHER_QS[:1] if kind == "why" else OTHER_QS[1:3])
        out.append(_row(question, text, label, setting, scale, rating))
    for text, label, kind in VERDICTS:
        question = "" if not kind else rng.choice(OTHER_QS[:1] if kind == "why" else OTHER_QS[1:3])
        scale, rating = ("none", None) if not question else _rating_for("other", rng)
        out.append(_row(question, text, label, "any", scale, rating))
    rng.shuffle(out)
    for i, row in enumerate(out, 1):
        row["id"] = f"p4c-{i:04d}"
    return [{"id": r.pop("id"), **r} for r in out]


def _row(question: str, text: str, label: int, setting: str, scale: str, rating: int | None) -> dict:
    return {
        "question": question,
        "text": text,
        "label": label,
        "mixed": False,
        "informative": True,
        "setting": setting,
        "channel": "survey",
        "source": "project-written-4c",
        "rating_scale": scale,
        "rating": rating,
    }


def main() -> int:
    data = rows()
    texts = [(r["question"], r["text"]) for r in data]
    if len(set(texts)) != len(texts):
        raise ValueError("duplicate (question, text) pairs")
    OUT.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in data), encoding="utf-8")
    print(f"wrote {len(data)} rows to {OUT.name}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
