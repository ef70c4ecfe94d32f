"""Synthetic demo data with planted, documented patterns.

``generate`` writes the four demo source files (FFT survey, NPS survey, suggestion box,
complaints) plus ``manifest.json``. The manifest describes every planted pattern with its
exact parameters and the rates actually realised, so the analysis stages can be tested on
whether they recover known signal (see ``docs/planted-patterns.md``).

Everything is derived from one seed through ``numpy.random.default_rng``; the output is
byte-identical for the same arguments. Free text is built compositionally from topic
phrase pools written for this project; the planted identifiers are fictional (Ofcom drama
phone ranges, ``example.*`` e-mail domains, NHS numbers in the unissued 9xx range).

Run ``python -m pipelines.demo.generator OUT_DIR --rows 5000`` to write a data set by hand.
"""

from __future__ import annotations

import argparse
import bisect
import calendar
import csv
import json
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

GENERATOR_VERSION = "1.0"

SITES: tuple[str, ...] = ("Northgate General Hospital", "Riverside Infirmary", "Hillcrest Community Hospital")
SERVICES: tuple[str, ...] = (
    "Emergency Department",
    "Maternity",
    "Outpatients",
    "Inpatient Surgery",
    "Radiology",
    "Pharmacy",
    "Mental Health",
    "Children's Services",
)
FFT_RATINGS: tuple[str, ...] = ("Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know")
COMPLAINT_CATEGORIES: tuple[str, ...] = (
    "Clinical treatment",
    "Staff attitude",
    "Communication",
    "Waiting times",
    "Appointments",
    "Billing and charges",
    "Facilities",
    "Discharge",
    "Medication",
    "Car parking",
    "Other",
)
SEVERITIES: tuple[str, ...] = ("low", "moderate", "high", "extreme")
AGE_BANDS: tuple[str, ...] = ("16-24", "25-34", "35-44", "45-54", "55-64", "65-74", "75+")
MODES: tuple[str, ...] = ("online", "SMS", "paper", "kiosk")

FILES: dict[str, str] = {
    "fft": "fft_survey.csv",
    "nps": "nps_survey.csv",
    "suggestions": "suggestions.jsonl",
    "complaints": "complaints.csv",
}
FFT_COLUMNS: tuple[str, ...] = (
    "response_id",
    "submitted_at",
    "site",
    "service",
    "fft_rating",
    "what_was_good",
    "what_could_improve",
    "age_band",
    "mode",
)
NPS_COLUMNS: tuple[str, ...] = ("response_id", "submitted_at", "site", "service", "nps_score", "reason")
SUGGESTION_KEYS: tuple[str, ...] = ("entry_id", "submitted_at", "site", "location", "text")
COMPLAINT_COLUMNS: tuple[str, ...] = (
    "complaint_ref",
    "received_date",
    "site",
    "service",
    "category",
    "severity",
    "status",
    "acknowledged_date",
    "closed_date",
    "contact_count",
    "handling_minutes",
    "description",
)

SOURCE_SHARES: dict[str, float] = {"fft": 0.62, "nps": 0.13, "suggestions": 0.10, "complaints": 0.15}

# Planted-pattern parameters (documented in docs/planted-patterns.md; copied into the manifest).
PARKING_SITE = "Northgate General Hospital"
PARKING_BASELINE = 0.02
PARKING_SURGE = 0.15
PARKING_KEYWORDS: tuple[str, ...] = ("parking", "car park")
FOOD_SHARE = 0.04
FOOD_KEYWORDS: tuple[str, ...] = (
    "food",
    "meal",
    "meals",
    "menu",
    "sandwich",
    "sandwiches",
    "breakfast",
    "lunch",
    "dinner",
    "canteen",
    "cafe",
    "tea",
    "toast",
    "snacks",
    "coffee",
)
ED_SERVICE = "Emergency Department"
ED_WEEKEND_WAIT_SHARE = 0.55
ED_WEEKDAY_WAIT_SHARE = 0.10
ED_WAIT_KEYWORDS: tuple[str, ...] = ("wait", "waited", "waiting", "hours", "trolley", "corridor", "updates")
BILLING_CATEGORY = "Billing and charges"
BILLING_KEYWORDS: tuple[str, ...] = ("invoice", "bill", "charged", "charges")
NONINF_IMPROVE_SHARE = 0.10
NONINF_GOOD_SHARE = 0.03
PHI_SHARE = 0.03

NONINF_IMPROVE_VALUES: tuple[str, ...] = (
    "Nothing",
    "nothing",
    "Nothing.",
    "nothing really",
    "Nothing really",
    "N/A",
    "n/a",
    "no",
    "No",
    "-",
    "Nothing to improve",
    "nothing to improve",
    "can't think of anything",
    "Can't think of anything",
    "all good",
    "All good",
)
NONINF_GOOD_VALUES: tuple[str, ...] = ("Nothing", "nothing", "N/A", "n/a", "Nothing at all", "nothing.")
HOSTILE_PAYLOADS: tuple[str, ...] = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "[click](javascript:alert(1))",
    '=HYPERLINK("http://x")',
    "+cmd|' /C calc'!A0",
    "@SUM(1+1)",
)

_WEIGHTS_FFT_BASE = (0.52, 0.25, 0.07, 0.06, 0.06, 0.04)
_WEIGHTS_FFT_HILLCREST = (0.58, 0.24, 0.06, 0.045, 0.04, 0.035)
_WEIGHTS_FFT_ED = (0.45, 0.26, 0.08, 0.09, 0.08, 0.04)
_WEIGHTS_FFT_WAIT = (0.03, 0.07, 0.12, 0.38, 0.37, 0.03)
_WEIGHTS_NPS_BASE = (2, 1, 1, 2, 2, 3, 5, 9, 15, 24, 36)
_WEIGHTS_NPS_ED = (3, 2, 2, 3, 3, 4, 6, 10, 15, 22, 30)
_WEIGHTS_NPS_WAIT = (10, 8, 10, 12, 12, 12, 11, 8, 7, 5, 5)
_COMPLAINT_CATEGORY_WEIGHTS = (16, 12, 13, 10, 9, 18, 5, 5, 5, 4, 3)

_TEXT, _EMPTY, _NONINF, _HOSTILE = 1, 0, 2, 3

# ---------------------------------------------------------------------------------------
# Phrase pools. Clauses are written lower-case so they can be joined; ``{slot}`` markers are
# filled per record; a leading "!" marks a harsh phrasing that is never used for a mild
# improvement point under a good rating. Parking and food words appear ONLY in their own
# topics (the planted shares are measured with keyword regexes).
# ---------------------------------------------------------------------------------------

_TOPICS: dict[str, dict[str, tuple[str, ...]]] = {
    "waiting": {
        "pos": (
            "<clinic,surg>I was seen bang on time",
            "hardly any wait at all",
            "in and out within {mins} minutes",
            "the wait was much shorter than I expected",
            "seen promptly even though it was busy",
            "<clinic>called in before my appointment time",
            "no hanging about, everything ran like clockwork",
            "they kept us updated on how long it would be, which really helped",
            "seen within {mins} minutes of arriving",
            "quick and efficient from check-in to leaving",
            "didn't have to sit around for long at all",
            "<clinic>the clinic ran to time for once",
            "the whole visit took less than an hour",
        ),
        "neg": (
            "<clinic,mat>waited {wait_short} past my appointment time",
            "<clinic,mat>the clinic was running {wait_short} late and nobody explained why",
            "sat in the waiting area for {wait_short} with no idea when I'd be called",
            "<rx>the wait for my prescription at the end was ridiculous",
            "waiting times are far too long",
            "<scan,mat>I was kept waiting {wait_short} for a scan that took five minutes",
            "<stay>waited {wait_short} between being told I could go and actually leaving",
            "too much waiting around between each step",
            "no one tells you how long the wait will be",
            "<clinic,surg>had to wait {weeks} for this appointment in the first place",
            "<ward>waited {wait_short} for the doctor to come round",
            "<clinic,surg>the waiting list for a follow up is months long",
            "the waiting room was overflowing and the delay was {wait_short}",
            "<surg>waited most of the day on the ward to go down to theatre",
            "being kept waiting without an update is stressful",
            "!the delays are a joke",
            "<rx>the queue at the pharmacy hatch took {wait_short}",
        ),
        "sug": (
            "put a screen up showing how long the wait is",
            "text people when the clinic is running late",
            "tell patients roughly how long the wait is when they check in",
            "stagger appointment times so everyone isn't booked in for 9am",
            "put more staff on at busy times to cut the waits",
            "let people go for a walk and text them when they are next",
        ),
    },
    "ed_wait": {
        "neg": (
            "waited {hours} hours in the waiting room before anyone saw us",
            "{relative} spent {hours} hours on a trolley in the corridor",
            "we sat in A&E for {hours} hours with no updates at all",
            "nobody told us how long the wait would be",
            "the wait to be seen was over {hours} hours",
            "{hours} hours in the waiting room with a poorly child and no updates",
            "{relative} was left on a trolley in the corridor overnight",
            "the waiting room was packed and the wait just kept getting longer",
            "we waited {hours} hours just to be triaged",
            "after triage we waited another {hours} hours for a doctor",
            "no updates for hours, we had to keep asking at the desk",
            "the screen said a {hours} hour wait and it was even longer",
            "spent the whole night waiting on a plastic chair",
            "waited so long that {relative} nearly gave up and went home",
            "!a {hours} hour wait to see a doctor is not acceptable",
            "patients on trolleys lined the corridor and we waited hours for a cubicle",
            "we were in the waiting room from teatime until {time_night}",
            "!{hours} hours waiting with chest pain and nobody checked on me",
            "waited hours for a bed and ended up on a trolley in the corridor",
            "the wait for results took another {hours} hours and nobody gave us updates",
        ),
    },
    "staff_kindness": {
        "pos": (
            "the staff were so kind and caring",
            "{staff_pl} were absolutely wonderful with {relative}",
            "every member of staff treated us with real kindness",
            "{staff} held my hand when I was scared",
            "lovely caring staff who went above and beyond",
            "<stay>{staff_pl} on {ward} were kind, patient and reassuring",
            "nothing was too much trouble for {staff_pl}",
            "everyone was friendly and put me at ease",
            "{staff} took the time to sit and chat with {relative}",
            "the kindness shown to {relative} was amazing",
            "really compassionate care from start to finish",
            "{staff_pl} made a frightening day bearable",
            "staff were warm and welcoming even though they were rushed off their feet",
            "<stay>{staff} remembered my name and checked on me all night",
            "the team were gentle and respectful",
            "{staff} was a credit to the hospital",
            "{staff_pl} treated {relative} like one of their own",
        ),
        "neg": (
            "some of {staff_pl} seemed like they didn't care",
            "felt like a number rather than a person",
            "nobody came to check on {relative} for ages",
            "the care felt cold and rushed",
            "{staff_pl} looked exhausted and had no time for anyone",
            "a bit more compassion would go a long way",
            "nobody asked how I was coping",
        ),
        "sug": (
            "thank the staff properly, they deserve it",
            "recognise the staff who go the extra mile",
            "give {staff_pl} more time to actually talk to patients",
        ),
    },
    "rudeness": {
        "neg": (
            "{staff} was really rude to me",
            "the receptionist was dismissive and unhelpful",
            "{staff} rolled their eyes when I asked a question",
            "spoken to like I was an idiot",
            "one of {staff_pl} was abrupt and sarcastic",
            "!{staff} shouted at {relative} in front of everyone",
            "!the attitude of {staff} was appalling",
            "I was made to feel like I was wasting their time",
            "{staff} was on their phone and ignored us",
            "the night staff were short-tempered and rude",
            "rude staff at the front desk",
            "!when I complained {staff} just laughed",
            "a complete lack of manners from {staff}",
            "{staff} told {relative} to stop making a fuss",
            "{staff} was patronising and talked down to {relative}",
        ),
        "sug": (
            "give the reception staff some customer service training",
            "make sure staff introduce themselves and are polite",
        ),
    },
    "communication": {
        "pos": (
            "everything was explained clearly",
            "{staff} explained what was happening at every stage",
            "kept us informed the whole way through",
            "the doctor listened and answered all my questions",
            "good communication between the team and the family",
            "{staff} spoke to {relative} in a way they could understand",
            "we were always told what the plan was",
            "the consultant took time to talk things through",
            "they rang me with updates which I really appreciated",
            "no jargon, just plain honest answers",
            "I always knew what was coming next",
            "they involved me in every decision",
            "{staff} explained the results properly",
        ),
        "neg": (
            "nobody explained what was going on",
            "different staff told us different things",
            "I had to chase for every bit of information",
            "the doctors talked over {relative} as if they weren't there",
            "<stay>no one told the family {relative} had been moved to {ward}",
            "poor communication between departments",
            "we were left in the dark about the plan",
            "<stay>the handover between shifts was poor and things got missed",
            "<clinic,surg,mat>letters arrived after the appointment they were about",
            "I was never told the results of my tests",
            "too much medical jargon and not enough plain English",
            "promised a call back that never came",
            "nobody listened to what I was trying to tell them",
            "the ward and the GP clearly do not talk to each other",
            "!it was like talking to a brick wall",
        ),
        "sug": (
            "give families a named contact on the ward",
            "ring relatives with a daily update",
            "write the plan on the whiteboard by the bed",
            "make sure results are explained before people leave",
        ),
    },
    "information": {
        "pos": (
            "plenty of useful information to take home",
            "<surg,scan,clinic>the leaflets explained everything about my procedure",
            "I was given clear aftercare advice",
            "they printed off information about my condition",
            "<surg>I was told exactly what to expect before the operation",
            "the website had all the information I needed before coming in",
            "good advice about what to do if things got worse",
            "<surg>the pre-op information was really thorough",
            "helpful information about support groups",
            "<clinic,surg,mat,ward>clear instructions about my follow-up",
            "information was available in my own language",
            "the booklet they gave us was really helpful",
        ),
        "neg": (
            "not enough information about what happens next",
            "no written information to take home",
            "the aftercare advice was vague",
            "<surg,scan,clinic>nobody told me what to expect after the procedure",
            "the leaflet I was given was out of date",
            "information about my condition was hard to come by",
            "I found out more from Google than from the staff",
            "no information in other languages for {relative}",
            "<scan,surg>the instructions for the bowel prep were confusing",
            "could not find any information about the follow-up process",
            "<clinic,surg,mat>the appointment letter did not say which building to go to",
            "told to look it up online, which is no use to {relative}",
        ),
        "sug": (
            "hand out a simple leaflet explaining what happens on the day",
            "put the pre-op information on the website",
            "send easy read versions of letters",
        ),
    },
    "appointments": {
        "pos": (
            "<appt>booking the appointment was easy",
            "<appt>got an appointment much sooner than I expected",
            "<appt>the text reminder was really useful",
            "<appt>they fitted me in at short notice",
            "<appt>I was able to choose a time that suited me",
            "<appt>rebooking online was simple",
            "<appt>the follow-up was arranged before I left",
            "<appt>offered an earlier slot when one came up",
            "<appt>the appointment letter was clear about where to go",
            "<appt>an evening appointment meant I didn't have to miss work",
            "<appt>everything was booked in one visit",
            "<appt>the appointment went exactly as planned",
        ),
        "neg": (
            "<appt>my appointment was cancelled {n_times}",
            "<appt>cancelled on the day after I'd taken time off work",
            "<surg>the operation was cancelled the night before",
            "<appt>impossible to rebook once they cancelled",
            "<appt>waited {weeks} for an appointment",
            "<appt>got a letter for an appointment that had already passed",
            "<appt>I was booked into the wrong clinic",
            "<appt>I turned up and they had no record of my appointment",
            "<appt>the appointment was moved without anyone telling me",
            "<appt>the follow-up was meant to be in {weeks} and never happened",
            "<appt>double booked with another patient",
            "<appt>the appointment times do not suit anyone who works",
            "<scan,clinic,mat>my scan kept getting postponed",
            "<appt>they cancelled by text with no explanation",
            "!<appt>third cancellation in a row, it's a disgrace",
        ),
        "sug": (
            "let people book and change appointments online",
            "run evening and weekend clinics",
            "send a text reminder the day before",
            "tell people about cancellations earlier",
        ),
    },
    "phone_lines": {
        "pos": (
            "the phone was answered straight away",
            "<ward>the ward rang me back when they said they would",
            "easy to get through on the phone",
            "<appt>the lady on the appointments line was really helpful",
            "<ward>I could ring the ward any time for an update",
            "the switchboard put me straight through",
            "the advice line was brilliant",
            "they called back within the hour",
        ),
        "neg": (
            "the phone just rings and rings",
            "<ward>tried calling the ward {n_times} and nobody picked up",
            "<appt>on hold for {wait_short} to the appointments line",
            "the switchboard put me through to the wrong department twice",
            "impossible to get through on the phone",
            "the number on the letter goes to a voicemail that is always full",
            "cut off after holding for ages",
            "<ward>nobody answers the phone on {ward}",
            "the automated phone options go round in circles",
            "had to ring every morning at 8 just to get through",
            "left three messages and never got a call back",
            "the phone line closes at 4pm which is useless",
            "the results line is never staffed",
        ),
        "sug": (
            "offer a callback option instead of holding",
            "put more people on the phones in the morning",
            "give us an email address as an alternative to the phone",
        ),
    },
    "parking": {
        "neg": (
            "no parking spaces at all, I was circling the car park for ages",
            "drove round the car park for {mins} minutes looking for a space",
            "the parking is a nightmare",
            "the pay machines in the car park were broken again",
            "got a parking fine because the machine wouldn't take my card",
            "!parking costs are a disgrace when you are visiting every day",
            "the car park was full by 9am",
            "<appt>missed my appointment because I couldn't find parking",
            "{amount_small} for parking is daylight robbery",
            "the parking app doesn't work and the machines only take coins",
            "the disabled parking bays are always taken",
            "had to leave the car miles away because the car park was full",
            "the car park barrier was stuck and there was a huge queue",
            "got a parking charge notice even though I paid",
            "the car park signs are confusing and the spaces are tiny",
            "<scan,mat>circled the car park for half an hour and was late for my scan",
            "the new parking system is a shambles",
            "<clinic,scan>spent longer looking for parking than in the appointment",
            "the parking situation has got so much worse recently",
            "not a single space in the car park {when}",
        ),
        "sug": (
            "build more parking spaces",
            "fix the pay machines in the car park",
            "make parking free for people visiting every day",
            "build a multi-storey car park",
            "let people pay for parking by card or app",
            "stop fining people when the parking machines are broken",
            "stop staff parking taking up half of the car park",
            "run a shuttle from the overflow car park",
        ),
    },
    "transport": {
        "pos": (
            "hospital transport was on time and the drivers were lovely",
            "the shuttle bus from the station was handy",
            "<stay,clinic>transport home was arranged quickly",
            "the volunteer drivers were fantastic",
            "easy to get to by bus",
            "the drop-off point right by the door made it easy",
        ),
        "neg": (
            "<stay>hospital transport left {relative} waiting {wait_short} to go home",
            "the bus only runs once an hour to the hospital",
            "patient transport never turned up",
            "no buses after 6pm so getting home was a struggle",
            "the drop-off area outside the entrance is chaos",
            "<clinic,surg,scan>transport picked {relative} up three hours early",
            "the taxi rank is nowhere near the main entrance",
            "had to pay for a taxi because transport was cancelled",
            "the shuttle bus between sites is unreliable",
            "ambulance transport home took all day",
            "hard to get here by public transport",
            "no transport was offered even though {relative} can't drive",
        ),
        "sug": (
            "get a bus that comes here from the town centre",
            "make patient transport easier to book",
            "add more drop-off spaces by the entrance",
        ),
    },
    "food": {
        "pos": (
            "the food was surprisingly good",
            "<ward>lovely hot meals",
            "<ward>good choice on the menu",
            "<ward>the tea trolley lady was a ray of sunshine",
            "<mat>they brought me toast and a cup of tea after the birth",
            "<ward>the food catered for my dietary needs",
            "the canteen does a decent breakfast",
            "<ward>meals came on time and were tasty",
            "they found a sandwich for me even though it was late",
            "<ward>the menu had plenty of choice",
            "<ward>the food on {ward} was better than I expected",
            "<ward>proper home cooked style food",
            "the cafe by the main entrance does lovely food",
            "the cafe sandwiches were fresh and reasonably priced",
            "a volunteer brought round tea and biscuits",
        ),
        "neg": (
            "<ward>the food was cold by the time it reached {relative}",
            "hospital food is still pretty grim",
            "<ward>no vegetarian meal options left by the time they got to us",
            "<ward>meals were left out of reach so {relative} couldn't eat them",
            "<ward>the sandwiches on the ward were stale",
            "<ward>breakfast came at 6am and then nothing until lunch",
            "<ward>nothing on the menu suitable for a diabetic",
            "<ward>the food portions were tiny",
            "<surg>missed a meal because I was in theatre and nobody saved me anything",
            "the canteen closes far too early",
            "<ward>no halal food available at the weekend",
            "!<ward>dinner was inedible",
            "asked for a cup of tea {n_times} and never got one",
            "<ward>the meals are bland and overcooked",
            "the cafe prices are ridiculous",
            "<ward>the food on {ward} was awful",
            "nowhere to get hot food after 4pm",
            "the vending machines are the only option for food in the evening",
            "no healthy snacks anywhere in the building",
            "the coffee shop queue was massive",
        ),
        "sug": (
            "improve the food for patients",
            "offer a proper hot meal in the evening",
            "keep the cafe open later",
            "put more allergy friendly options on the menu",
            "have snacks available overnight on the ward",
        ),
    },
    "cleanliness": {
        "pos": (
            "spotlessly clean",
            "<stay>the ward was immaculate",
            "very clean and tidy throughout",
            "the cleaners were in constantly",
            "everything was clean and well kept",
            "<ward>the bathroom was cleaned several times a day",
            "hand gel everywhere and staff actually used it",
            "clean modern rooms",
            "I felt safe because it was so clean",
            "the domestic staff do a brilliant job",
        ),
        "neg": (
            "!the toilets were filthy",
            "<stay>the ward was dirty and the bins were overflowing",
            "!blood left on the floor of the cubicle",
            "dust everywhere on {ward}",
            "<ward>no hand gel at the entrance to the ward",
            "the bathroom hadn't been cleaned all day",
            "<ward>the sheets weren't changed for {n_days} days",
            "the waiting area was grubby",
            "used gloves left lying around",
            "the cleaners only seem to come once a day",
            "!the shower room was disgusting",
            "stains on the chairs in the waiting room",
            "<stay>the bay smelled awful",
        ),
        "sug": (
            "clean the toilets more often",
            "put hand gel at every door",
            "deep clean the waiting room chairs",
        ),
    },
    "noise": {
        "pos": (
            "<ward>nice and quiet at night",
            "<ward>they gave me earplugs and an eye mask",
            "<ward>staff kept the noise down overnight",
            "<ward>the side room was peaceful",
            "<ward>the lights were dimmed at a sensible time",
            "<ward>I actually got some sleep",
            "a calm, quiet waiting room",
        ),
        "neg": (
            "<ward>too noisy at night to get any sleep",
            "<ward>staff chatting loudly at the nurses' station all night",
            "<ward>machines beeping all night long",
            "<ward>the lights were left on all night",
            "<ward>woken up {n_times} in the night for obs",
            "<ward>the bins banging at 5am woke the whole bay",
            "<stay>other patients shouting through the night",
            "<stay>doors slamming {time_night}",
            "<ward>phones ringing and nobody answering them overnight",
            "<ward>no earplugs or eye masks available",
            "<ward>I didn't sleep a wink with all the noise",
            "<ward>the ward was like a building site {time_night}",
            "<ward>a loud TV in the day room until late",
            "the TV in the waiting room was blaring",
            "people shouting into their phones in the waiting area",
        ),
        "sug": (
            "bring in quiet hours on the wards at night",
            "hand out eye masks and earplugs",
            "fit soft-close bins on the wards",
        ),
    },
    "pain_relief": {
        "pos": (
            "pain relief was given quickly",
            "my pain was well managed",
            "<stay>they checked regularly that I was comfortable",
            "<surg,mat>the anaesthetist explained the pain options really well",
            "<mat>the epidural was sorted quickly",
            "I was never left in pain",
            "they acted quickly when my pain got worse",
            "<surg>good pain control after the operation",
        ),
        "neg": (
            "waited {wait_short} for pain relief",
            "my pain was not taken seriously",
            "asked for painkillers {n_times} before anyone came",
            "!{relative} was left in agony {time_night}",
            "<mat>the epidural came far too late",
            "<surg>sent home with only paracetamol after major surgery",
            "no one checked if the pain relief was working",
            "<ward>the pain medication round was missed",
            "<ward>told to hang on for the drug round while in severe pain",
            "pain relief was not given on time",
            "had to beg for something stronger",
            "my pain score was written down but nothing was done",
        ),
        "sug": (
            "do regular pain checks, especially at night",
            "make pain relief quicker to get hold of",
        ),
    },
    "medication": {
        "pos": (
            "the pharmacist explained my new medication clearly",
            "my medication was ready in good time",
            "they went through all my medicines with me",
            "<ward>medication was given on time every time",
            "the pharmacy team were quick and helpful",
            "clear instructions on the new tablets",
            "they sorted out a problem with my prescription straight away",
            "I was given a chart explaining when to take everything",
        ),
        "neg": (
            "<ward>my regular medication wasn't given for {n_days} days",
            "waited {wait_short} for my medication to take home",
            "!I was given the wrong dose",
            "<ward>they ran out of my medication on the ward",
            "nobody explained the side effects of the new tablets",
            "the pharmacy lost my prescription",
            "my medication was changed without anyone telling me",
            "<stay,rx>discharge medication wasn't ready so I had to come back",
            "<ward>told to bring my own medication and then it went missing",
            "the tablets I was sent home with were the wrong strength",
            "conflicting advice about which medicines to stop",
            "the prescription was sent to the wrong chemist",
        ),
        "sug": (
            "get take-home medication ready the day before",
            "have a pharmacist on the wards at weekends",
            "text people when their prescription is ready",
        ),
    },
    "discharge": {
        "pos": (
            "<stay>discharge was quick and well organised",
            "<stay>they arranged everything for going home",
            "<ward>the discharge nurse went through everything with us",
            "<surg>home the same day as the op",
            "<stay>a clear plan for going home",
            "<stay>follow-up support at home was arranged before I left",
            "<stay>a smooth discharge with everything explained",
            "<stay>the discharge letter was clear and detailed",
        ),
        "neg": (
            "<ward>discharge took all day",
            "<stay>sent home without a care plan",
            "!<stay>discharged {time_night} with no way home",
            "<ward>told I could go at 10am and didn't leave until 7pm",
            "<stay>{relative} was discharged before they were ready",
            "<stay>no discharge letter was sent to the GP",
            "<ward>sat around all day for the discharge paperwork",
            "<ward>discharged without the equipment {relative} needed at home",
            "<stay>nobody told the care home {relative} was coming back",
            "!<stay>readmitted two days after being sent home too early",
            "<ward>the discharge lounge was freezing and we were there for hours",
            "<stay>discharge was chaotic and disorganised",
        ),
        "sug": (
            "start discharge planning earlier in the day",
            "give families a checklist at discharge",
        ),
    },
    "facilities": {
        "pos": (
            "the new building is lovely",
            "comfortable waiting area",
            "free wifi was a bonus",
            "good signage, easy to find my way",
            "the facilities were modern and well kept",
            "the family room was a godsend",
            "<child,clinic,ed>the play area for the kids was great",
            "<ward>a comfortable reclining chair so I could stay with {relative}",
        ),
        "neg": (
            "the toilets were out of order",
            "not enough seats in the waiting room",
            "<ward>the ward was boiling hot",
            "no wifi and no phone signal",
            "the signs around the hospital are confusing",
            "the lifts were broken",
            "<ward>the chairs for relatives staying overnight are awful",
            "the building is tired and needs updating",
            "nowhere to charge your phone",
            "the only toilet in the department was locked",
            "the water fountain was broken",
            "freezing cold in the waiting area",
            "<ward>the TV by the bed costs a fortune to use",
            "<clinic,child>no baby changing facilities near the clinic",
        ),
        "sug": (
            "put more seating in the waiting area",
            "provide free wifi for patients",
            "install phone charging points",
            "put better signs up from the main entrance",
            "fix the water fountains",
        ),
    },
    "privacy_dignity": {
        "pos": (
            "privacy and dignity were respected throughout",
            "they always drew the curtains",
            "we were given a private room to talk",
            "{relative} was treated with dignity",
            "they asked before examining me",
            "I never felt embarrassed",
            "a chaperone was offered",
        ),
        "neg": (
            "<ward>the curtains were left open while {relative} was being washed",
            "my personal details were discussed where everyone could hear",
            "{relative} was left in a gown that didn't close",
            "!examined in a corridor with no privacy",
            "<ward>a mixed-sex bay which made {relative} very uncomfortable",
            "confidential conversations at the reception desk that everyone could hear",
            "nowhere private to get bad news",
            "!<stay>{relative} was left sitting in soiled sheets",
            "!no dignity at all",
            "asked very personal questions in front of other patients",
            "the door was left open during my examination",
            "<stay>my notes were left on the end of the bed for anyone to read",
        ),
        "sug": (
            "set aside a private room for difficult conversations",
            "put a screen up at the reception desk",
        ),
    },
    "clinical_outcome": {
        "pos": (
            "<surg>the operation went brilliantly",
            "they found out what was wrong straight away",
            "I feel so much better",
            "{relative} is back to their old self",
            "the treatment worked",
            "they caught it early",
            "<surg>the surgeon did an amazing job",
            "excellent care that probably saved {relative}'s life",
            "a quick diagnosis and a clear treatment plan",
            "fully recovered thanks to the team",
            "<surg,ward>the physio got me back on my feet",
            "<scan,clinic,ed>the scan picked up the problem and it was dealt with",
        ),
        "neg": (
            "!my condition was misdiagnosed",
            "<ed,scan,clinic>the fracture was missed on the first X-ray",
            "<surg,clinic>still in pain weeks after the procedure",
            "<surg>the operation didn't fix the problem",
            "!sent home and came back worse the next day",
            "<surg,mat>the wound got infected",
            "nobody could tell me what was wrong",
            "my symptoms were dismissed as anxiety",
            "<surg,ed,mat>the stitches came undone",
            "<ward>{relative} caught an infection on the ward",
            "I feel worse than before I came in",
            "tests were repeated because the first lot were lost",
        ),
    },
    "billing": {
        "pos": (
            "the finance team sorted my bill out quickly",
            "charges were explained clearly up front",
        ),
        "neg": (
            "I received a bill that I didn't understand",
            "charged for a private room I never asked for",
            "the overseas visitor charges were not explained",
            "got an invoice months after my treatment",
            "charged twice for the same appointment",
            "nobody could explain the charges on my bill",
            "the prescription charges were confusing",
            "the invoice had the wrong name on it",
            "asked for payment before treatment without any explanation",
            "the billing department never answers",
            "I was wrongly charged for treatment that should have been free",
            "<ward>the charges for the bedside TV are outrageous",
        ),
        "sug": (
            "explain any charges before treatment",
            "make the invoices clearer",
        ),
    },
    "visiting": {
        "pos": (
            "<ward>flexible visiting times",
            "<stay>they let me stay with {relative} the whole time",
            "<mat>my partner could stay overnight",
            "<ward>open visiting made a huge difference",
            "<ward>staff were welcoming to visitors",
            "<ward>the kids were allowed in to see their grandad",
        ),
        "neg": (
            "<ward>visiting hours are too short",
            "<stay>only one visitor allowed, which was hard for {relative}",
            "<ward>I wasn't allowed to stay with {relative} overnight",
            "<ward>visiting times clash with work",
            "<ward>children were not allowed in to see their grandparent",
            "<mat>my partner was sent home straight after the birth",
            "<ward>visitors were turned away even though we'd been told we could come",
            "<ward>the rules about visiting change every week",
            "<ward>no chairs for visitors",
            "<ward>visitors were allowed in at all hours and it was chaos",
            "<ward>we weren't allowed to bring {relative} anything from home",
            "<ward>visiting was stopped with no notice",
        ),
        "sug": (
            "make visiting hours longer",
            "let partners stay overnight on maternity",
            "provide a chair bed for parents",
        ),
    },
    "accessibility": {
        "pos": (
            "they booked an interpreter without me asking",
            "reasonable adjustments were made for {relative}'s autism",
            "wheelchairs readily available",
            "easy access for wheelchair users",
            "a volunteer pushed {relative} to the clinic in a wheelchair",
            "a quiet room was available, which helped my son with his anxiety",
            "large print letters as requested",
        ),
        "neg": (
            "no wheelchairs available at the entrance",
            "the hearing loop wasn't working",
            "no interpreter was booked for {relative}",
            "the entrance is not accessible for wheelchair users",
            "the accessible toilet was being used as a store room",
            "letters are not available in large print",
            "a long walk from the entrance for someone with mobility problems",
            "no BSL interpreter",
            "nobody made adjustments for {relative}'s learning disability",
            "the reception desk is too high for wheelchair users",
            "the automatic doors were broken",
            "<clinic,scan>the lift to the clinic was out of order so {relative} couldn't get up there",
        ),
        "sug": (
            "keep more wheelchairs at the main entrance",
            "fix the hearing loop",
            "create a quiet waiting space for autistic patients",
        ),
    },
    "general": {
        "pos": (
            "excellent service all round",
            "couldn't fault anything",
            "a really good experience",
            "everything went smoothly",
            "first class care",
            "the best hospital experience I've had",
            "amazing from start to finish",
            "very professional and efficient",
            "thank you to everyone involved",
            "the whole experience was positive",
            "brilliant service, very well run",
            "I would recommend it to anyone",
            "the NHS at its best",
            "it made a stressful situation much easier",
            "better than I expected",
            "everything was great",
        ),
        "neg": (
            "!the whole experience was a shambles",
            "disorganised from start to finish",
            "!the worst experience I've had in a hospital",
            "nothing seemed to work properly",
            "it felt like nobody was in charge",
            "it all felt very chaotic",
        ),
    },
    "staffing": {
        "pos": (
            "plenty of staff around when needed",
            "<ward>the call bell was answered quickly",
            "always someone around to help",
        ),
        "neg": (
            "it was clearly short-staffed",
            "<ward>only one nurse for the whole bay {time_night}",
            "not enough staff to cope",
            "staff are run ragged",
            "agency staff didn't know where anything was",
            "<ward>call bells went unanswered because there was nobody around",
            "{staff_pl} were stretched far too thin",
            "<ward>nobody had time to help {relative} to the toilet",
            "<stay>too few doctors on at the weekend",
            "you can see the staff are exhausted",
            "they need more staff, simple as that",
            "pressed the buzzer and it was twenty minutes before anyone came",
        ),
        "sug": (
            "employ more nurses",
            "put more staff on at night",
        ),
    },
}

# Topic weights: praise in "what was good", improvement points under good ratings ("mild"),
# and complaints under neutral/poor ratings ("neg"). Parking, food and ED waits are absent:
# they are only ever planted, so their shares are exactly the planted ones.
_PRAISE_W: dict[str, float] = {
    "staff_kindness": 26, "general": 18, "communication": 10, "clinical_outcome": 9, "waiting": 8,
    "information": 5, "cleanliness": 6, "staffing": 2, "pain_relief": 3, "discharge": 3, "privacy_dignity": 2,
    "facilities": 2, "appointments": 3, "medication": 2, "phone_lines": 1, "visiting": 1, "accessibility": 1,
    "noise": 1, "transport": 1,
}
_WEAK_PRAISE_W: dict[str, float] = {
    "staff_kindness": 40, "cleanliness": 10, "communication": 6, "facilities": 8, "waiting": 4, "information": 5,
    "clinical_outcome": 4, "privacy_dignity": 5, "pain_relief": 5, "discharge": 3, "medication": 3,
}
_MILD_W: dict[str, float] = {
    "waiting": 14, "information": 10, "communication": 8, "appointments": 8, "phone_lines": 6, "noise": 8,
    "facilities": 10, "cleanliness": 4, "visiting": 6, "transport": 5, "accessibility": 3, "discharge": 5,
    "medication": 4, "staffing": 6, "pain_relief": 2, "privacy_dignity": 2, "rudeness": 1, "clinical_outcome": 1,
    "billing": 1,
}
_NEG_W: dict[str, float] = {
    "waiting": 16, "communication": 14, "rudeness": 9, "staffing": 9, "clinical_outcome": 7, "information": 6,
    "appointments": 7, "phone_lines": 5, "discharge": 6, "pain_relief": 5, "medication": 5, "cleanliness": 5,
    "noise": 4, "privacy_dignity": 4, "facilities": 4, "visiting": 2, "accessibility": 2, "transport": 2,
    "billing": 1, "general": 4, "staff_kindness": 3,
}
_SUGGEST_W: dict[str, float] = {
    "waiting": 10, "communication": 8, "information": 6, "appointments": 8, "phone_lines": 7, "transport": 6,
    "cleanliness": 6, "noise": 6, "pain_relief": 2, "medication": 4, "discharge": 4, "facilities": 14,
    "privacy_dignity": 3, "visiting": 7, "accessibility": 6, "staffing": 5, "staff_kindness": 3, "rudeness": 2,
    "billing": 1,
}
_SERVICE_TOPIC_MULT: dict[int, dict[str, float]] = {
    0: {"waiting": 0.0, "rudeness": 1.3, "staffing": 1.3},
    1: {"pain_relief": 3.0, "visiting": 2.0, "staffing": 1.5},
    2: {"appointments": 2.0, "phone_lines": 2.0, "waiting": 1.3},
    3: {"noise": 2.0, "pain_relief": 2.0, "discharge": 2.0},
    4: {"appointments": 2.0, "waiting": 1.5, "information": 1.5},
    5: {"medication": 4.0, "waiting": 1.5},
    6: {"communication": 1.5, "staff_kindness": 1.2, "rudeness": 1.3},
    7: {"facilities": 2.0, "visiting": 1.5},
}

_OPENERS: dict[str, tuple[str, ...]] = {
    "pos": (
        "Honestly, ", "Overall, ", "Really impressed. ", "Credit where it's due: ", "As always, ", "Genuinely, ",
        "To be honest, ", "For me, ", "Above all, ", "Top marks: ", "In short: ", "Where to start... ",
        "Have to say it: ", "So pleased. ", "Can I just say, ",
    ),
    "weakpos": ("To be fair, ", "In fairness, ", "The one positive - ", "I suppose ", "Only thing I'd say: "),
    "mild": (
        "Only small thing: ", "If anything, ", "Minor point but ", "Just one thing - ", "Not a big deal but ",
        "Could be better: ", "One niggle: ", "Only criticism - ", "If I had to pick something, ", "Small point: ",
    ),
    "neg": (
        "Where do I start. ", "Honestly, ", "Not great. ", "Disappointed. ", "To be honest, ", "Sadly ",
        "Frustrating visit. ", "Main issue: ", "Biggest problem - ", "Again ", "As usual ",
    ),
    "strong": (
        "Absolutely shocking. ", "Appalling. ", "Worst experience ever. ", "Disgraceful. ", "Never again. ",
        "I am furious. ", "Totally unacceptable. ", "Dreadful. ",
    ),
}
_CLOSERS: dict[str, tuple[str, ...]] = {
    "pos": (
        "Thank you!", "Thanks so much.", "Keep up the good work.", "Would recommend.", "Thank you all.", "10/10.",
        "Can't fault it.", "Very grateful.", "Much appreciated.", "Five stars.", "Thanks to everyone involved.",
        "Brilliant.",
    ),
    "weakpos": ("That's about it.", "But that's it.", "Credit where due."),
    "mild": (
        "Otherwise everything was great.", "Only a small thing.", "Overall a good experience though.",
        "Apart from that, no complaints.", "Not a big deal.", "Everything else was spot on.",
        "But I'd still recommend.", "Just a thought.",
    ),
    "neg": (
        "Please sort it out.", "Not good enough.", "Very disappointing.", "Something needs to change.",
        "Not acceptable.", "Hope this helps.", "Please look into it.", "Really let down.", "This needs fixing.",
    ),
    "strong": (
        "Disgraceful.", "I'll be making a formal complaint.", "Never coming back.", "Shocking.",
        "Someone needs to be held accountable.", "Unbelievable.",
    ),
}
_CONNECT_POS = (". ", ", and ", " and ", ". Also ", "! ", ", plus ", ". Oh and ", " - ", ". Not to mention ", ". And ")
_CONNECT_NEG = (
    ". ", ". Also ", ", and ", " and ", "; ", ". On top of that ", " - ", ". Plus ", ". Another thing: ", "... ",
)
_CONTRAST = (
    " but ", ", but ", ". However, ", ". Only downside: ", " - although ", ". Mind you, ", ". On the other hand, ",
)
_TAILS_POS = (
    "<ward> on {ward}", " {when}", "<stay> during {relative}'s stay", " this time round", " in {svc}",
    " when I brought {relative} in", " despite how busy it was", " from the moment we arrived", " at {site_short}",
)
_TAILS_NEG = (
    "<ward> on {ward}", " {when}", "<stay> during {relative}'s stay", " again", " in {svc}",
    " when I brought {relative} in", "<stay> {time_night}", " at {site_short}", " which made things worse",
    " and nobody seemed bothered", " yet again", " as usual",
)
_SUG_FRAMES = (
    "Please {s}.", "Could you {s}?", "Suggestion - {s}.", "{S}.", "Why not {s}?", "It would really help to {s}.",
    "I'd like to suggest that you {s}.", "Can we {s} please?", "Idea: {s}.", "{S} please.", "You should {s}.",
    "Would it be possible to {s}?",
)
_THANKS_OPENERS = (
    "Thank you to everyone on {ward}. ", "Just wanted to say thanks. ", "A big thank you - ", "Thank you! ",
    "Thanks to {staff_pl}. ", "Huge thanks. ", "",
)

# Complaint sentences (full sentences, capitalised on use).
_COMPLAINT_OPENERS: tuple[str, ...] = (
    "I am writing to make a formal complaint about the care {relative} received in {svc}.",
    "I would like to complain about my recent visit to {svc} at {site_short}.",
    "I wish to raise a complaint regarding {svc}.",
    "<ward>This complaint relates to {relative}'s recent admission to {ward}.",
    "I attended {svc} {when} and I am very unhappy with how I was treated.",
    "I never normally complain but I feel I have to this time.",
    "Please treat this as a formal complaint.",
    "I am complaining on behalf of {relative}, who is not able to do so themselves.",
    "I raised this informally with PALS but nothing has changed, so I am now making a formal complaint.",
    "I want to make you aware of a very poor experience at {site_short}.",
    "I am contacting you about a series of problems {when}.",
    "My complaint concerns {svc} at {site_short}.",
    "<ward>Following {relative}'s stay on {ward} I am submitting this complaint.",
    "I am extremely disappointed and would like this investigated.",
)
_COMPLAINT_CLOSERS: tuple[str, ...] = (
    "I would like a written apology.",
    "I would like a full explanation of what went wrong.",
    "Please investigate and reply to me in writing.",
    "I want to know what will be done so this does not happen to anyone else.",
    "I would appreciate a call from someone senior to discuss this.",
    "I would like to meet with the ward manager.",
    "I expect a response within the timescale set out in your complaints policy.",
    "I hope lessons will be learned.",
    "I am considering taking this further if I do not get a proper answer.",
    "Please confirm you have received this complaint.",
    "I would like the staff involved to be made aware of how this made us feel.",
    "I want an acknowledgement that this was not acceptable.",
)
_BILLING_CLOSERS: tuple[str, ...] = (
    "Please cancel the invoice until this has been looked into.",
    "I would like the amount I was charged twice refunded.",
    "Please send me an itemised bill explaining every line.",
    "I want written confirmation that I do not owe anything on this bill.",
    "Please stop sending me letters about these charges until this is resolved.",
    "I would like the debt collection letters about the invoice withdrawn.",
    "I expect a refund of everything I was wrongly charged.",
    "Please explain how the charges were worked out.",
)
_COMPLAINT_BODIES: dict[str, tuple[str, ...]] = {
    "Clinical treatment": (
        "The doctor did not examine {relative} properly and sent them home.",
        "<ed,scan,clinic>A fracture was missed and only picked up when we went back {n_days} days later.",
        "{relative}'s condition deteriorated and nobody acted on the warning signs.",
        "I believe the delay in diagnosis has caused lasting harm.",
        "<surg,mat>The wound became infected after the operation and this was not spotted.",
        "My concerns about {relative}'s breathing were ignored.",
        "<stay>Observations were not done for hours at a time.",
        "<surg,scan,clinic,mat>The procedure was carried out without the risks being properly explained.",
        "<stay>I was sent home with a serious infection.",
        "<surg,clinic>The surgeon did not follow up on my scan results.",
        "<ward>{relative} developed a pressure sore on the ward.",
        "<ward>{relative} had a fall on the ward and we were not told until the next day.",
        "<clinic,scan>My cancer referral was delayed by several weeks.",
        "<stay>Nobody reviewed {relative}'s blood results until the following morning.",
    ),
    "Staff attitude": (
        "{staff} was rude and dismissive throughout.",
        "When I asked a question I was told to stop wasting their time.",
        "One nurse was openly laughing at {relative}.",
        "{staff} raised their voice at me in front of other patients.",
        "<stay>The attitude of the night staff was unacceptable.",
        "I was spoken to in a patronising way.",
        "{staff} refused to give their name when I asked.",
        "<ward>Staff ignored {relative} when they pressed the call bell.",
        "The receptionist was aggressive when I explained I was in pain.",
        "{staff} made an inappropriate comment about {relative}'s weight.",
        "I felt judged and belittled by the doctor.",
        "Nobody introduced themselves at any point.",
    ),
    "Communication": (
        "<ward>Nobody told us that {relative} had been moved to {ward}.",
        "We were given conflicting information by different members of staff.",
        "I was promised a phone call from the consultant which never happened.",
        "The results of the tests were never explained to me.",
        "We found out about the diagnosis from a letter rather than face to face.",
        "The family were not informed when {relative}'s condition got worse.",
        "Letters have been sent to the wrong address twice.",
        "I have called several times and nobody has called back.",
        "Information was not shared between the ward and the GP.",
        "{relative} is hard of hearing and nothing was written down for them.",
        "We were not told about the plan for discharge until the day itself.",
        "The doctor used medical terms that we did not understand and did not explain them.",
    ),
    "Waiting times": (
        "<ed>We waited {hours} hours in {svc} before being seen.",
        "<ed,ward>{relative} was left on a trolley in the corridor for {hours} hours.",
        "<clinic,surg>I have been on the waiting list for {n_months} months with no update.",
        "<clinic,mat>The clinic ran {wait_short} late and nobody apologised.",
        "No one updated us during the wait.",
        "<ed,ward>An elderly patient should not have to wait {hours} hours for a bed.",
        "<surg>My surgery has been delayed {n_times}.",
        "<stay>We waited {hours} hours for a transfer between sites.",
        "<clinic,surg,mat>The wait for a follow-up appointment is far too long.",
        "<ed>I waited {wait_short} for pain relief while in the waiting room.",
        "The waiting area was overcrowded and there was nowhere to sit.",
        "<clinic,surg>My referral took {n_months} months to be processed.",
    ),
    "Appointments": (
        "My appointment was cancelled on the day with no explanation.",
        "This is the {ordinal} time my appointment has been rescheduled.",
        "I took a day off work and travelled {n_miles} miles only to be told the clinic was cancelled.",
        "I received the appointment letter after the date of the appointment.",
        "I was discharged from the clinic for missing an appointment I was never told about.",
        "The booking team keep giving me appointments I cannot attend.",
        "My follow-up appointment was never booked despite being promised.",
        "I was told to ring to rebook but nobody answers the phone.",
        "<surg>The operation was cancelled the night before after I had been fasting.",
        "I have been bounced between departments and still do not have an appointment.",
        "The text reminder gave the wrong time.",
        "<scan,clinic,mat>My scan was booked at the wrong hospital.",
    ),
    "Billing and charges": (
        "I received an invoice for {amount} that I do not understand.",
        "I have been charged twice for the same appointment.",
        "The bill does not say what the charges are for.",
        "I received a letter about overseas visitor charges even though I have lived in the UK for {n_years} years.",
        "The invoice lists treatment that I never had.",
        "<ward>I was charged for a private room that I did not ask for.",
        "The amount on the second invoice is different from the first bill.",
        "Nobody in the finance office can explain why I was charged.",
        "I paid the bill in full but have now received a reminder saying it is overdue.",
        "The overseas visitor charges letter was threatening and upsetting for {relative}.",
        "I was told my treatment would be free but I have now been charged {amount}.",
        "I have been sent a bill for prescription charges even though I have an exemption certificate.",
        "The charges on the invoice do not match what I was quoted.",
        "My card was charged twice at the payment desk.",
        "The bill is very unclear and uses codes that mean nothing to me.",
        "I have now received three different invoices for the same stay.",
        "A debt collection agency has contacted me about charges I have already disputed.",
        "I was charged the overseas visitor rate by mistake.",
        "The invoice arrived {n_months} months after the treatment with no explanation.",
        "I was not told about any charges before treatment and the bill came as a shock.",
        "The refund I was promised after being charged twice has never arrived.",
        "The invoice was addressed to {relative} and was full of errors.",
        "<ward>I was charged {amount} for a bedside TV package that never worked.",
        "The overseas visitor charges team keep sending me a bill I have already paid.",
    ),
    "Facilities": (
        "<ward>The toilets on {ward} were out of order for the whole of {relative}'s stay.",
        "The ward was too hot and there were no fans available.",
        "There was nowhere for relatives to sit.",
        "The lift was out of order and {relative} could not get to the clinic.",
        "The building is in a poor state of repair with leaks in the ceiling.",
        "The waiting area was dirty and the bins were overflowing.",
        "The heating did not work and patients were freezing.",
        "<ward>The shower on the ward was broken for a week.",
        "There were no baby changing facilities in the department.",
        "The signage is so poor that we got lost and were late.",
        "<stay>The bed was broken and could not be adjusted.",
        "There is no working hearing loop at reception.",
    ),
    "Discharge": (
        "{relative} was discharged {time_night} with no way of getting home.",
        "{relative} was sent home without the equipment they needed.",
        "The discharge letter contained mistakes about the medication.",
        "No care package was in place when {relative} got home.",
        "We were told in the morning {relative} could go home but they were not discharged until late evening.",
        "{relative} was readmitted within {n_days} days of being discharged.",
        "Nobody told the care home {relative} was being discharged.",
        "The GP did not receive any discharge information.",
        "{relative} was discharged while still confused and unable to manage.",
        "We were not involved in any discussion about discharge.",
        "The discharge was rushed because the bed was needed.",
        "District nurses were never told about the wound dressings.",
    ),
    "Medication": (
        "{relative} was given the wrong medication.",
        "<ward>{relative}'s regular medication was missed for {n_days} days.",
        "The pharmacy lost my prescription.",
        "I was discharged with tablets at the wrong dose.",
        "Nobody checked {relative}'s allergies before giving antibiotics.",
        "<ward>My insulin was not given on time.",
        "The side effects of the new medication were never explained.",
        "I waited {wait_short} for my take-home medication.",
        "<ward>Medication was left on the bedside table and not taken.",
        "A medication error was not disclosed to us.",
        "The prescription sent to my GP was incorrect.",
        "<ward>{relative}'s epilepsy medication was not given on time.",
    ),
    "Car parking": (
        "I received a parking charge notice despite paying at the machine.",
        "The car park pay machines were broken and I was fined.",
        "There were no disabled spaces available in the car park.",
        "<appt>I missed my appointment because there was nowhere to park.",
        "The cost of parking for relatives of long-stay patients is unaffordable.",
        "The car park barrier would not open and nobody answered the intercom.",
        "I was given a parking fine while my child was on the children's ward.",
        "The parking app took payment twice.",
        "The car park was full and there was no overflow.",
        "Staff told me I could leave the car in the drop-off bay and then I was fined.",
        "My application for a parking permit for frequent visitors was refused without reason.",
        "Security staff in the car park were rude to me.",
    ),
    "Other": (
        "<ward>My property went missing from the ward.",
        "<ward>{relative}'s glasses and hearing aids were lost during the stay.",
        "I was not happy with how my previous complaint was handled.",
        "A volunteer was rude to me at the entrance.",
        "My personal information was shared without my consent.",
        "The chaplaincy service was not available when we needed it.",
        "I was filmed by another visitor and staff did nothing.",
        "My belongings were thrown away by mistake.",
        "The interpreter booked was for the wrong language.",
        "Smoking outside the main entrance is a constant problem.",
        "I was refused access to my own medical records.",
        "The online feedback form kept crashing.",
    ),
}

# Slot vocabularies.
_SVC_NAMES: tuple[tuple[str, ...], ...] = (
    ("A&E", "the emergency department", "ED", "casualty", "A and E"),
    ("maternity", "the labour ward", "the birth centre", "the maternity unit", "antenatal"),
    ("outpatients", "the clinic", "the outpatient clinic", "the fracture clinic", "the eye clinic",
     "the diabetes clinic"),
    ("the surgical ward", "day surgery", "the ward", "the surgical unit", "theatres"),
    ("X-ray", "the scanning department", "radiology", "the MRI unit", "ultrasound", "the CT scanner"),
    ("the pharmacy", "the hospital pharmacy", "the dispensary", "outpatient pharmacy"),
    ("the mental health unit", "the crisis team", "the community mental health team", "the assessment unit"),
    ("the children's ward", "paediatrics", "the kids' ward", "the children's unit", "the children's clinic"),
)
_GENERIC_SVC = ("the hospital", "the department", "the clinic", "the ward", "reception")
_STAFF: tuple[tuple[str, ...], ...] = (
    ("the triage nurse", "the doctor", "one of the nurses", "the receptionist", "the paramedic", "the registrar",
     "a healthcare assistant", "the security guard", "the consultant"),
    ("the midwife", "the student midwife", "the anaesthetist", "the consultant", "a maternity support worker",
     "the receptionist", "the obstetrician"),
    ("the receptionist", "the consultant", "the nurse", "the doctor", "the clinic nurse", "the registrar",
     "the physio"),
    ("the surgeon", "one of the nurses", "the anaesthetist", "the ward sister", "a healthcare assistant",
     "the night nurse", "the porter", "the physio"),
    ("the radiographer", "the receptionist", "the sonographer", "the porter", "the doctor"),
    ("the pharmacist", "the pharmacy technician", "the lady on the counter", "the man on the counter",
     "the pharmacy assistant"),
    ("the care coordinator", "the psychiatrist", "the support worker", "one of the nurses", "the duty worker",
     "the therapist", "the receptionist"),
    ("the play specialist", "the children's nurse", "the paediatrician", "the student nurse", "the doctor",
     "the receptionist"),
)
_GENERIC_STAFF = (
    "the receptionist", "one of the nurses", "the doctor", "a healthcare assistant", "the porter", "the nurse",
)
_STAFF_PL: tuple[tuple[str, ...], ...] = (
    ("the nurses", "the doctors", "the ED team", "the reception staff", "the paramedics", "the A&E staff"),
    ("the midwives", "the maternity team", "the doctors", "the support workers"),
    ("the clinic staff", "the nurses", "the reception staff", "the doctors", "the team"),
    ("the nurses", "the ward staff", "the surgeons", "the HCAs", "the night staff", "the theatre team"),
    ("the radiographers", "the staff in X-ray", "the team", "the reception staff"),
    ("the pharmacy staff", "the pharmacists", "the counter staff", "the team"),
    ("the staff", "the nurses", "the support workers", "the crisis team", "the team"),
    ("the children's nurses", "the play team", "the doctors", "the staff", "the nurses"),
)
_GENERIC_STAFF_PL = ("the staff", "the nurses", "the doctors", "the team", "the reception staff", "everyone")
_RELATIVES = (
    "my mum", "my dad", "my husband", "my wife", "my partner", "my son", "my daughter", "my grandad", "my nan",
    "my brother", "my sister", "my elderly father", "my mother-in-law", "my mother", "my father", "my aunt",
    "my uncle", "my friend",
)
_RELATIVES_CHILD = ("my son", "my daughter", "my little boy", "my little girl", "my baby", "my toddler", "my grandson")
_RELATIVES_MATERNITY = ("my partner", "my wife", "my baby", "my daughter", "my girlfriend", "my newborn")
_WARD_NAMES = (
    "Ash", "Beech", "Cedar", "Elm", "Juniper", "Larch", "Maple", "Oak", "Birch", "Alder", "Sycamore", "Poplar",
)
_WHEN = (
    "last week", "yesterday", "recently", "last month", "a couple of weeks ago", "the other day", "this week",
    "on my last visit", "earlier this month", "last night", "over the weekend",
)
_TIME_NIGHT = (
    "at 2am", "at 3 in the morning", "in the middle of the night", "at midnight", "overnight", "at 11pm",
    "late at night", "in the early hours", "at about 4am", "at 1am",
)
_WAIT_SHORT = (
    "over an hour", "45 minutes", "an hour and a half", "two hours", "90 minutes", "40 mins", "nearly an hour",
    "almost two hours", "an hour", "well over an hour", "3 hours", "50 minutes",
)
_HOURS = ("three", "four", "five", "six", "seven", "eight", "nine", "ten", "twelve", "fourteen",
          "3", "4", "5", "6", "7", "8", "9", "10", "11", "13")
_WEEKS = (
    "six weeks", "three months", "two months", "over a year", "18 weeks", "nine months", "five weeks", "four months",
)
_N_TIMES = ("twice", "three times", "four times", "3 times", "5 times", "several times", "half a dozen times")
_ORDINALS = ("third", "fourth", "fifth", "sixth")
_SITE_SHORT: tuple[tuple[str, ...], ...] = (
    ("Northgate", "Northgate General", "the General"),
    ("Riverside", "the Infirmary", "Riverside Infirmary"),
    ("Hillcrest", "Hillcrest Community Hospital", "the community hospital"),
)

# Fictional identifier pools for the PHI pattern.
_FIRST_NAMES = (
    "Margaret", "John", "Kelly", "Amrit", "Priya", "Mohammed", "Aisha", "Olumide", "Siobhan", "Gareth", "Wojciech",
    "Agnieszka", "Chloe", "Jamal", "Fatima", "Graham", "Brenda", "Declan", "Niamh", "Tariq", "Yusuf", "Joanne",
    "Darren", "Lakshmi", "Mei", "Kwame", "Ama", "Hannah", "Oliver", "Harry", "Sophie", "Leanne", "Stuart", "Irene",
    "Derek", "Beverley", "Rajesh", "Sunita", "Ewa", "Tomasz", "Connor", "Bethany", "Ruth", "Colin", "Ian", "Sandra",
    "Pauline", "Keith", "Nadia", "Samuel", "Abena", "Gurpreet", "Eilidh", "Callum", "Deborah", "Wei",
)
_LAST_NAMES = (
    "Whitaker", "Osei", "Sandhu", "Ellis", "Patel", "Khan", "Begum", "Hughes", "O'Brien", "Kowalski", "Nowak",
    "Okafor", "Mensah", "Thompson", "Robinson", "Wright", "Clarke", "Hussain", "Ahmed", "Jones", "Evans",
    "McAllister", "Fraser", "Doyle", "Gallagher", "Chowdhury", "Singh", "Kaur", "Williams", "Taylor", "Davies",
    "Wilson", "Walker", "Lewis", "Harrison", "Turner", "Cooper", "Bennett", "Lloyd", "Marsh", "Nguyen", "Adeyemi",
    "Malik", "Rahman", "Fitzgerald", "Sutcliffe", "Brennan", "Achebe", "Lindqvist", "Haworth",
)
_STREETS = (
    "Acacia Avenue", "Mill Lane", "Church Street", "Station Road", "Victoria Terrace", "Elm Grove", "Queens Road",
    "Highfield Close", "Willow Crescent", "Orchard Way", "Chapel Street", "Kings Drive", "Meadow View",
    "Albert Street", "Windsor Close", "York Road", "Green Lane", "Manor Road", "Brook Street", "Sandringham Gardens",
)
_TOWNS = ("Northgate", "Riverside", "Hillcrest", "Ashby", "Thornley", "Eastwick")
_POSTCODE_AREAS = ("NG", "LS", "M", "B", "S", "HU", "YO", "DN", "NE", "BD", "HD", "WF", "LN", "DE", "LE", "CV", "ST",
                   "SK", "OL", "BL", "WN", "PR", "CH", "WA")
_LONDON_AREAS = ("SW", "EC", "WC", "W", "N", "E", "SE", "NW")
_POSTCODE_UNIT_LETTERS = "ABDEFGHJLNPQRSTUWXYZ"
_MONTH_NAMES = tuple(calendar.month_name)[1:]
_FAMILY_CUES = ("my husband", "my wife", "my mum", "my dad", "my son", "my daughter", "my partner", "my nan",
                "my grandad", "my brother", "my sister", "my father", "my mother")
_STAFF_CUES = ("Nurse", "Dr", "Sister", "Midwife", "Staff Nurse", "Mr", "Dr.", "nurse", "Doctor")
_PHI_FAMILY_TEMPLATES = (
    "I was there with {cue} {name}.", "The patient was {cue} {name}.", "This is about {cue} {name}.",
    "Writing on behalf of {cue} {name}.", "{Cue} {name} was the one being treated.", "I came in with {cue} {name}.",
)
_PHI_STAFF_TEMPLATES = (
    "{cue} {name} was looking after us.", "Please pass this on to {cue} {name}.", "We saw {cue} {name}.",
    "{cue} {name} was on duty that day.", "Special mention to {cue} {name}.", "{cue} {name} dealt with us.",
)


# ---------------------------------------------------------------------------------------
# Random draws
# ---------------------------------------------------------------------------------------


class _Draw:
    """Fast scalar draws backed by blocks of numpy uniforms (one deterministic stream)."""

    __slots__ = ("_gen", "_buf", "_i", "_n", "memo")

    def __init__(self, gen: np.random.Generator, block: int = 1 << 15) -> None:
        self.memo: dict[str, str] = {}  # per-comment choices (one relative per comment)
        self._gen = gen
        self._n = block
        self._buf: list[float] = gen.random(block).tolist()
        self._i = 0

    def u(self) -> float:
        """A uniform float in [0, 1)."""
        i = self._i
        if i >= self._n:
            self._buf = self._gen.random(self._n).tolist()
            i = 0
        self._i = i + 1
        return self._buf[i]

    def below(self, n: int) -> int:
        """A uniform integer in [0, n)."""
        v = int(self.u() * n)
        return v if v < n else n - 1

    def between(self, lo: int, hi: int) -> int:
        """A uniform integer in [lo, hi]."""
        return lo + self.below(hi - lo + 1)

    def pick(self, seq: Sequence[Any]) -> Any:
        """One element of ``seq``."""
        return seq[self.below(len(seq))]

    def chance(self, p: float) -> bool:
        """True with probability ``p``."""
        return self.u() < p

    def weighted(self, cum: Sequence[float]) -> int:
        """An index drawn with the weights whose running totals are ``cum``."""
        i = bisect.bisect_right(cum, self.u() * cum[-1])
        return i if i < len(cum) else len(cum) - 1


def _cumulative(weights: Sequence[float]) -> list[float]:
    out, total = [], 0.0
    for w in weights:
        total += float(w)
        out.append(total)
    return out


# ---------------------------------------------------------------------------------------
# Templates and slots
# ---------------------------------------------------------------------------------------

_Ctx = tuple[int, int]  # (service index or -1, site index or -1)
_SlotFn = Callable[[_Draw, _Ctx], str]


_AREAS_ED = ("majors", "minors", "resus", "the observation ward", "the assessment unit", "the ambulatory unit")
_AREAS_CLINIC = ("the day unit", "clinic {n}", "the outpatient suite", "the treatment area")


def _slot_ward(d: _Draw, ctx: _Ctx) -> str:
    if ctx[0] == 0:
        return d.pick(_AREAS_ED)
    if ctx[0] in (2, 4, 5):
        return d.pick(_AREAS_CLINIC).replace("{n}", str(d.between(1, 12)))
    r = d.u()
    if r < 0.45:
        return f"ward {d.between(1, 32)}"
    if r < 0.6:
        return f"Ward {d.between(1, 40)}"
    if r < 0.85:
        return f"{d.pick(_WARD_NAMES)} ward"
    return f"the {d.pick(_WARD_NAMES)} unit"


def _slot_relative(d: _Draw, ctx: _Ctx) -> str:
    if "relative" not in d.memo:
        pool = _RELATIVES_CHILD if ctx[0] == 7 else _RELATIVES_MATERNITY if ctx[0] == 1 else _RELATIVES
        d.memo["relative"] = d.pick(pool)
    return d.memo["relative"]


def _slot_amount(d: _Draw, ctx: _Ctx) -> str:
    pounds = d.between(25, 4800)
    return f"£{pounds}" if d.chance(0.5) else f"£{pounds:,}.{d.below(100):02d}"


def _slot_amount_small(d: _Draw, ctx: _Ctx) -> str:
    return f"£{d.between(3, 25)}" if d.chance(0.5) else f"£{d.between(2, 19)}.{d.pick(('50', '80', '20', '40'))}"


_SLOTS: dict[str, _SlotFn] = {
    "ward": _slot_ward,
    "relative": _slot_relative,
    "staff": lambda d, c: d.pick(_STAFF[c[0]] if c[0] >= 0 else _GENERIC_STAFF),
    "staff_pl": lambda d, c: d.pick(_STAFF_PL[c[0]] if c[0] >= 0 else _GENERIC_STAFF_PL),
    "svc": lambda d, c: d.pick(_SVC_NAMES[c[0]] if c[0] >= 0 else _GENERIC_SVC),
    "site_short": lambda d, c: d.pick(_SITE_SHORT[c[1]]) if c[1] >= 0 else "the hospital",
    "when": lambda d, c: d.pick(_WHEN),
    "time_night": lambda d, c: d.pick(_TIME_NIGHT),
    "wait_short": lambda d, c: d.pick(_WAIT_SHORT),
    "hours": lambda d, c: d.pick(_HOURS),
    "mins": lambda d, c: str(d.pick((10, 15, 20, 25, 30, 35, 40, 45))),
    "weeks": lambda d, c: d.pick(_WEEKS),
    "n_times": lambda d, c: d.pick(_N_TIMES),
    "n_days": lambda d, c: str(d.between(2, 5)),
    "n_months": lambda d, c: str(d.between(2, 14)),
    "n_years": lambda d, c: str(d.between(2, 30)),
    "n_miles": lambda d, c: str(d.between(12, 90)),
    "ordinal": lambda d, c: d.pick(_ORDINALS),
    "amount": _slot_amount,
    "amount_small": _slot_amount_small,
}

_SLOT_RE = re.compile(r"\{(\w+)\}")


# Service groups a phrase can be restricted to with a "<group,group>" prefix.
_SERVICE_GROUPS: dict[str, frozenset[int]] = {
    "ed": frozenset({0}),
    "mat": frozenset({1}),
    "surg": frozenset({3}),
    "child": frozenset({7}),
    "scan": frozenset({2, 4}),
    "rx": frozenset({2, 3, 5}),
    "clinic": frozenset({2, 4, 6, 7}),
    "ward": frozenset({1, 3, 6, 7}),
    "stay": frozenset({0, 1, 3, 6, 7}),
    "appt": frozenset({1, 2, 3, 4, 6, 7}),
}
_TAG_RE = re.compile(r"^<([a-z,]+)>")


@dataclass(frozen=True)
class _Tpl:
    parts: tuple[tuple[bool, str], ...]
    harsh: bool
    services: frozenset[int] | None


def _compile(text: str) -> _Tpl:
    harsh = text.startswith("!")
    text = text[1:] if harsh else text
    services: frozenset[int] | None = None
    tag = _TAG_RE.match(text)
    if tag:
        services = frozenset().union(*(_SERVICE_GROUPS[g] for g in tag.group(1).split(",")))
        text = text[tag.end() :]
    parts: list[tuple[bool, str]] = []
    for i, piece in enumerate(_SLOT_RE.split(text)):
        if i % 2:
            if piece not in _SLOTS:
                raise KeyError(f"unknown slot {{{piece}}} in phrase {text!r}")
            parts.append((True, piece))
        elif piece:
            parts.append((False, piece))
    return _Tpl(tuple(parts), harsh, services)


def _render(d: _Draw, tpl: _Tpl, ctx: _Ctx) -> str:
    return "".join(_SLOTS[v](d, ctx) if is_slot else v for is_slot, v in tpl.parts)


_Key = tuple[str, str, int]  # (pool name, polarity or "", service index or -1)


@dataclass(frozen=True)
class _Pools:
    """Compiled phrases, pre-filtered per service (-1 = no service known: every phrase)."""

    by_key: dict[_Key, tuple[_Tpl, ...]]
    cum: dict[tuple[str, int], tuple[list[str], list[float]]]

    def get(self, name: str, pol: str, service: int) -> tuple[_Tpl, ...]:
        """The phrases of pool ``name``/``pol`` usable for ``service`` (all of them if none fits)."""
        return self.by_key.get((name, pol, service)) or self.by_key[(name, pol, -1)]

    def has(self, name: str, pol: str, service: int) -> bool:
        """Whether pool ``name``/``pol`` has phrases for ``service``."""
        return bool(self.by_key.get((name, pol, service)))


_POOL_POL = {"praise": "pos", "weak": "pos", "mild": "mild", "neg": "neg", "sug": "sug"}


@lru_cache(maxsize=1)
def _pools() -> _Pools:
    """Compile every phrase pool once (pure; cached on first use, not at import)."""
    raw: dict[tuple[str, str], tuple[_Tpl, ...]] = {}
    for topic, pools in _TOPICS.items():
        for pol, phrases in pools.items():
            raw[(topic, pol)] = tuple(_compile(x) for x in phrases)
        raw[(topic, "mild")] = tuple(t for t in raw.get((topic, "neg"), ()) if not t.harsh)
    raw[("tails", "pos")] = tuple(_compile(x) for x in _TAILS_POS)
    raw[("tails", "neg")] = tuple(_compile(x) for x in _TAILS_NEG)
    raw[("thanks", "")] = tuple(_compile(x) for x in _THANKS_OPENERS)
    raw[("c_open", "")] = tuple(_compile(x) for x in _COMPLAINT_OPENERS)
    raw[("c_close", "")] = tuple(_compile(x) for x in _COMPLAINT_CLOSERS)
    raw[("c_bill_close", "")] = tuple(_compile(x) for x in _BILLING_CLOSERS)
    for cat, bodies in _COMPLAINT_BODIES.items():
        raw[(cat, "")] = tuple(_compile(x) for x in bodies)
    by_key: dict[_Key, tuple[_Tpl, ...]] = {}
    for (name, pol), tpls in raw.items():
        by_key[(name, pol, -1)] = tpls
        for service in range(len(SERVICES)):
            by_key[(name, pol, service)] = tuple(t for t in tpls if t.services is None or service in t.services)
    cum: dict[tuple[str, int], tuple[list[str], list[float]]] = {}
    for kind, base in (("praise", _PRAISE_W), ("weak", _WEAK_PRAISE_W), ("mild", _MILD_W), ("neg", _NEG_W),
                       ("sug", _SUGGEST_W)):
        pol = _POOL_POL[kind]
        for service in range(-1, len(SERVICES)):
            mult = _SERVICE_TOPIC_MULT.get(service, {})
            names = [t for t in base if base[t] * mult.get(t, 1.0) > 0 and by_key.get((t, pol, service))]
            cum[(kind, service)] = (names, _cumulative([base[t] * mult.get(t, 1.0) for t in names]))
    return _Pools(by_key, cum)


# ---------------------------------------------------------------------------------------
# Text composition
# ---------------------------------------------------------------------------------------

_N_TOPICS_CUM = _cumulative((0.45, 0.38, 0.17))


def _cap(s: str) -> str:
    return s[:1].upper() + s[1:] if s else s


def _pick_topics(d: _Draw, p: _Pools, kind: str, service: int, k: int, forced: Sequence[str] = ()) -> list[str]:
    names, cum = p.cum[(kind, service)]
    chosen = list(forced)
    tries = 0
    while len(chosen) < k and tries < 12:
        t = names[d.weighted(cum)]
        if t not in chosen:
            chosen.append(t)
        tries += 1
    if forced and len(chosen) > 1 and d.chance(0.4):
        # Planted topics are not always mentioned first.
        i = d.below(len(chosen))
        chosen[0], chosen[i] = chosen[i], chosen[0]
    return chosen


def _clause(d: _Draw, p: _Pools, topic: str, pol: str, ctx: _Ctx, mild: bool = False) -> str:
    svc = ctx[0]
    use = "mild" if (mild and pol == "neg" and p.has(topic, "mild", -1)) else pol
    text = _render(d, d.pick(p.get(topic, use, svc)), ctx)
    if d.chance(0.3):
        text += _render(d, d.pick(p.get("tails", pol, svc)), ctx)
    return text


def _finish(d: _Draw, text: str, pos: bool) -> str:
    if text and text[-1] not in ".!?":
        text += "!" if (pos and d.chance(0.15)) else "."
    return text


def _join(d: _Draw, clauses: Sequence[str], connectors: Sequence[str]) -> str:
    # The first clause keeps its own case: the caller capitalises it or puts an opener first.
    out = clauses[0]
    for c in clauses[1:]:
        conn = d.pick(connectors)
        out += conn + (_cap(c) if conn.endswith((". ", "! ", "... ", "? ")) else c)
    return out


def _compose(d: _Draw, p: _Pools, topics: Sequence[str], pol: str, tone: str, ctx: _Ctx) -> str:
    """One comment about ``topics`` in polarity ``pol`` and ``tone`` (pos/weakpos/mild/neg/strong)."""
    mild = tone == "mild"
    clauses = [_clause(d, p, t, pol, ctx, mild) for t in topics]
    body = _join(d, clauses, _CONNECT_POS if pol == "pos" else _CONNECT_NEG)
    body = _with_opener(d, body, tone, 0.6 if tone == "strong" else 0.3)
    body = _finish(d, body, pol == "pos")
    if d.chance(0.55 if tone == "strong" else 0.28):
        body += " " + d.pick(_CLOSERS[tone])
    return body


def _with_opener(d: _Draw, body: str, tone: str, p_open: float) -> str:
    if not d.chance(p_open):
        return _cap(body)
    opener = d.pick(_OPENERS[tone])
    return opener + (_cap(body) if opener.endswith((". ", ": ", "- ", "... ")) else body)


def _contrast(d: _Draw, first: str, second: str) -> str:
    return _finish(d, first.rstrip(".!") + d.pick(_CONTRAST) + second, False)


_PROTECTED = re.compile(
    r"park|food|meal|menu|wait|hour|trolley|corridor|invoice|bill|charg|nothing|tea|breakfast|lunch|dinner|"
    r"sandwich|canteen|cafe|toast|coffee|snack|update",
    re.IGNORECASE,
)
_SPEAK = (
    (re.compile(r"\byou\b"), "u"),
    (re.compile(r"\byour\b"), "ur"),
    (re.compile(r"\bplease\b"), "pls"),
    (re.compile(r"\bthanks\b", re.IGNORECASE), "thx"),
    (re.compile(r"\bbecause\b"), "cos"),
    (re.compile(r"\band\b"), "&"),
    (re.compile(r"\bgreat\b"), "gr8"),
    (re.compile(r"\bpeople\b"), "ppl"),
    (re.compile(r"\bto be honest\b", re.IGNORECASE), "tbh"),
)
_WORD_RE = re.compile(r"[A-Za-z]{5,}")


def _typo(d: _Draw, text: str) -> str:
    words = [m for m in _WORD_RE.finditer(text) if not _PROTECTED.search(m.group())]
    if not words:
        return text
    m = d.pick(words)
    w = m.group()
    i = d.between(1, len(w) - 2)
    kind = d.below(3)
    if kind == 0:
        w2 = w[:i] + w[i + 1] + w[i] + w[i + 2 :]
    elif kind == 1:
        w2 = w[:i] + w[i + 1 :]
    else:
        w2 = w[:i] + w[i] + w[i:]
    return text[: m.start()] + w2 + text[m.end() :]


def _stylise(d: _Draw, text: str, sms: bool = False, formal: bool = False) -> str:
    """Occasional real-world noise: lower case, text-speak, typos, missing full stop."""
    if formal:
        return _typo(d, text) if d.chance(0.03) else text
    if d.chance(0.08):
        text = _typo(d, text)
        if d.chance(0.3):
            text = _typo(d, text)
    if d.chance(0.15 if sms else 0.04):
        for rx, rep in _SPEAK:
            if d.chance(0.5):
                text = rx.sub(rep, text)
    if d.chance(0.2 if sms else 0.08):
        text = text.lower()
    if d.chance(0.12) and text.endswith("."):
        text = text[:-1]
    return text


# ---------------------------------------------------------------------------------------
# Planted identifiers
# ---------------------------------------------------------------------------------------


def _nhs_number(d: _Draw) -> str:
    while True:
        digits = [9] + [d.below(10) for _ in range(8)]
        check = 11 - sum(v * (10 - i) for i, v in enumerate(digits)) % 11
        check = 0 if check == 11 else check
        if check != 10:
            s = "".join(map(str, digits)) + str(check)
            style = d.below(3)
            if style == 0:
                return f"{s[:3]} {s[3:6]} {s[6:]}"
            if style == 1:
                return s
            return f"{s[:3]}-{s[3:6]}-{s[6:]}"


def _phone(d: _Draw) -> str:
    x = d.below(1000)
    return (
        f"07700 900{x:03d}", f"+44 7700 900{x:03d}", f"07700900{x:03d}", f"020 7946 0{x:03d}",
        f"+44 20 7946 0{x:03d}", f"(0161) 496 0{x:03d}", f"0113 496 0{x:03d}", f"0117 496 0{x:03d}",
    )[d.below(8)]


def _postcode(d: _Draw) -> str:
    unit = d.pick(_POSTCODE_UNIT_LETTERS) + d.pick(_POSTCODE_UNIT_LETTERS)
    if d.chance(0.2):
        return f"{d.pick(_LONDON_AREAS)}{d.between(1, 9)}{d.pick('ABCEHMNPRVWXY')} {d.below(10)}{unit}"
    return f"{d.pick(_POSTCODE_AREAS)}{d.between(1, 29)} {d.below(10)}{unit}"


def _dob(d: _Draw) -> str:
    year, month, day = d.between(1930, 2005), d.between(1, 12), d.between(1, 28)
    style = d.below(3)
    if style == 0:
        return f"{day:02d}/{month:02d}/{year}"
    if style == 1:
        return f"{day} {_MONTH_NAMES[month - 1]} {year}"
    return f"{year}-{month:02d}-{day:02d}"


def _name(d: _Draw) -> str:
    return f"{d.pick(_FIRST_NAMES)} {d.pick(_LAST_NAMES)}"


_PHI_TYPES_CUM = _cumulative((35, 12, 12, 8, 8, 10, 8, 7))
_PHI_TYPES = ("name", "nhs_number", "phone", "email", "postcode", "date_of_birth", "hospital_number", "address")


def _phi_snippet(d: _Draw) -> tuple[str, list[tuple[str, str]]]:
    """One sentence carrying fictional identifiers, and the (type, exact string) planted."""
    kind = _PHI_TYPES[d.weighted(_PHI_TYPES_CUM)]
    if kind == "name":
        name = _name(d)
        if d.chance(0.5):
            cue = d.pick(_FAMILY_CUES)
            tpl = d.pick(_PHI_FAMILY_TEMPLATES)
            return tpl.format(cue=cue, Cue=_cap(cue), name=name), [("name", name)]
        return d.pick(_PHI_STAFF_TEMPLATES).format(cue=d.pick(_STAFF_CUES), name=name), [("name", name)]
    if kind == "nhs_number":
        v = _nhs_number(d)
        tpl = d.pick(("My NHS number is {v}.", "NHS no: {v}", "(NHS number {v})", "nhs number {v} if you need it.",
                      "Ref NHS {v}."))
        return tpl.format(v=v), [(kind, v)]
    if kind == "phone":
        v = _phone(d)
        tpl = d.pick(("Please call me on {v}.", "My number is {v}.", "You can reach me on {v}.", "call {v} anytime",
                      "Contact number {v}."))
        return tpl.format(v=v), [(kind, v)]
    if kind == "email":
        first, last = d.pick(_FIRST_NAMES), d.pick(_LAST_NAMES)
        local = d.pick((f"{first}.{last}", f"{first}{last}{d.between(1, 99)}", f"{first[0]}{last}"))
        domain = d.pick(("example.com", "example.org", "example.net", "mail.example.com"))
        v = local.lower().replace("'", "") + "@" + domain
        tpl = d.pick(("Email me at {v}.", "my email is {v}", "Reply to {v} please.", "Contact: {v}"))
        return tpl.format(v=v), [(kind, v)]
    if kind == "postcode":
        v = _postcode(d)
        tpl = d.pick(("We live at {v} so it's a long trip.", "Postcode {v}.", "I'm in {v}.", "(home postcode {v})"))
        return tpl.format(v=v), [(kind, v)]
    if kind == "date_of_birth":
        v = _dob(d)
        tpl = d.pick(("DOB {v}.", "Patient DOB {v}.", "born {v}", "(date of birth {v})", "d.o.b. {v}"))
        return tpl.format(v=v), [(kind, v)]
    if kind == "hospital_number":
        if d.chance(0.5):
            v = f"{d.pick(('RX', 'NG', 'RV', 'HC', 'RH'))}{d.between(1000000, 9999999)}"
            tpl = d.pick(("Hospital number {v}.", "hosp no {v}", "my hospital number is {v}", "Unit number {v}."))
        else:
            v = f"{d.below(100000000):08d}"
            tpl = d.pick(("MRN {v}.", "MRN: {v}", "(MRN {v})"))
        return tpl.format(v=v), [(kind, v)]
    addr = f"{d.between(1, 150)} {d.pick(_STREETS)}"
    if d.chance(0.5):
        pc = _postcode(d)
        return f"Please write to me at {addr}, {pc}.", [("address", addr), ("postcode", pc)]
    tpl = d.pick(("I live at {a}, {t}.", "Send letters to {a}.", "Address: {a}, {t}."))
    return tpl.format(a=addr, t=d.pick(_TOWNS)), [("address", addr)]


def _with_phi(d: _Draw, text: str, sink: list[tuple[str, str]]) -> str:
    snippet, found = _phi_snippet(d)
    sink.extend(found)
    if d.chance(0.4):
        return _cap(snippet) + " " + text
    if text and text[-1] not in ".!?":
        text += "."
    return text + " " + snippet


# ---------------------------------------------------------------------------------------
# Calendar and record skeletons
# ---------------------------------------------------------------------------------------


def _add_months(d0: date, k: int) -> date:
    y, m = divmod(d0.month - 1 + k, 12)
    year, month = d0.year + y, m + 1
    return date(year, month, min(d0.day, calendar.monthrange(year, month)[1]))


def _month_label(start: date, i: int) -> str:
    y, m = divmod(start.month - 1 + i, 12)
    return f"{start.year + y:04d}-{m + 1:02d}"


def _last_sunday(year: int, month: int) -> date:
    last = date(year, month, calendar.monthrange(year, month)[1])
    return last - timedelta(days=(last.weekday() + 1) % 7)


@dataclass(frozen=True)
class _Cal:
    start: date
    end: date
    days: list[date]
    day_str: list[str]
    dow: np.ndarray
    month: np.ndarray
    season: np.ndarray
    dst: np.ndarray


def _calendar(start: date, months: int) -> _Cal:
    end = _add_months(start, months) - timedelta(days=1)
    n = (end - start).days + 1
    days = [start + timedelta(days=i) for i in range(n)]
    dow = np.array([x.weekday() for x in days])
    month = np.array([(x.year - start.year) * 12 + x.month - start.month for x in days])
    doy = np.array([x.timetuple().tm_yday for x in days], dtype=float)
    season = 1.0 + 0.10 * np.cos(2 * np.pi * (doy - 15.0) / 365.25)
    holiday = np.array([(x.month, x.day) in {(12, 25), (12, 26), (1, 1)} for x in days])
    season = season * np.where(holiday, 0.5, 1.0)
    # Clocks change at 01:00 UTC on the last Sundays of March and October: 01:xx local time
    # does not exist (March) or is ambiguous (October), so no record is stamped then.
    years = sorted({x.year for x in days})
    switch = {_last_sunday(y, 3) for y in years} | {_last_sunday(y, 10) for y in years}
    dst = np.array([x in switch for x in days])
    return _Cal(start, end, days, [x.isoformat() for x in days], dow, month, season, dst)


_DOW_SURVEY = np.array([1.12, 1.08, 1.05, 1.04, 0.98, 0.78, 0.72])
_DOW_COMPLAINT = np.array([1.2, 1.15, 1.1, 1.1, 1.0, 0.25, 0.2])
_HOURS_24 = np.array([2, 1.5, 1, 1, 1, 1.5, 3, 5, 7, 8, 8, 8, 8, 8, 8, 8, 8, 9, 10, 10, 9, 7, 5, 3], dtype=float)
_HOURS_DAY = np.array([0.3, 0.2, 0.1, 0.1, 0.1, 0.2, 1, 4, 9, 11, 11, 10, 9, 10, 10, 10, 9, 8, 7, 6, 5, 3, 2, 1])
_ROUND_THE_CLOCK = np.array([True, True, False, True, False, False, True, True])
_SITE_W = np.array([0.45, 0.35, 0.20])
_SERVICE_W_WEEKDAY = np.array([20, 9, 24, 12, 10, 8, 8, 9], dtype=float)
_SERVICE_W_WEEKEND = np.array([38, 13, 3, 15, 4, 5, 10, 12], dtype=float)
_SERVICE_W_COMPLAINT = np.array([22, 8, 20, 18, 6, 5, 10, 8], dtype=float)
_HILLCREST_ALLOWED = np.array([False, False, True, True, True, True, True, True])


@dataclass
class _Skeleton:
    day: np.ndarray
    hour: np.ndarray
    minute: np.ndarray
    site: np.ndarray
    service: np.ndarray


def _choice(rng: np.random.Generator, n: int, weights: np.ndarray | Sequence[float]) -> np.ndarray:
    w = np.asarray(weights, dtype=float)
    return rng.choice(len(w), size=n, p=w / w.sum())


def _skeleton(rng: np.random.Generator, cal: _Cal, n: int, kind: str) -> _Skeleton:
    """Timestamps, sites and services for ``n`` records, sorted by time."""
    dow_w = _DOW_COMPLAINT if kind == "complaint" else _DOW_SURVEY
    day = np.sort(_choice(rng, n, dow_w[cal.dow] * cal.season))
    site = _choice(rng, n, _SITE_W)
    weekend = cal.dow[day] >= 5
    service = np.zeros(n, dtype=np.int64)
    for s in range(len(SITES)):
        for we in (False, True):
            mask = (site == s) & (weekend == we)
            if kind == "complaint":
                w = _SERVICE_W_COMPLAINT.copy()
            else:
                w = (_SERVICE_W_WEEKEND if we else _SERVICE_W_WEEKDAY).copy()
            if s == 2:
                w = np.where(_HILLCREST_ALLOWED, w, 0.0)
            service[mask] = _choice(rng, int(mask.sum()), w)
    hour = np.where(
        _ROUND_THE_CLOCK[service], _choice(rng, n, _HOURS_24), _choice(rng, n, _HOURS_DAY)
    )
    hour = np.where(cal.dst[day] & (hour == 1), 2, hour)
    minute = rng.integers(0, 60, size=n)
    order = np.lexsort((minute, hour, day))
    return _Skeleton(day[order], hour[order], minute[order], site[order], service[order])


def _stamps(cal: _Cal, sk: _Skeleton) -> list[str]:
    parts = zip(sk.day.tolist(), sk.hour.tolist(), sk.minute.tolist(), strict=True)
    return [f"{cal.day_str[d]} {h:02d}:{m:02d}" for d, h, m in parts]


def _ids(prefix: str, n: int) -> list[str]:
    width = max(6, len(str(n)))
    return [f"{prefix}-{i:0{width}d}" for i in range(1, n + 1)]


def _quota(rng: np.random.Generator, candidates: np.ndarray, k: int) -> np.ndarray:
    """Exactly ``k`` (or all) of ``candidates``, chosen uniformly, sorted."""
    k = min(int(k), len(candidates))
    if k <= 0:
        return np.zeros(0, dtype=np.int64)
    return np.sort(rng.choice(candidates, size=k, replace=False))


def _group_quota(
    rng: np.random.Generator,
    keys: np.ndarray,
    population: np.ndarray,
    eligible: np.ndarray,
    share: Callable[[int], float],
) -> np.ndarray:
    """Per group: pick share * |population in group| members of ``eligible`` in it.

    The count is rounded stochastically (floor(x + u)) so that small groups still hit the
    share on average instead of always rounding 0.4 down to nothing.
    """
    out = np.zeros(len(keys), dtype=bool)
    for key in np.unique(keys[population]).tolist():
        in_group = keys == key
        k = int(np.floor(share(key) * int((in_group & population).sum()) + rng.random()))
        out[_quota(rng, np.flatnonzero(in_group & eligible), k)] = True
    return out


# ---------------------------------------------------------------------------------------
# The generator
# ---------------------------------------------------------------------------------------


@dataclass
class _Text:
    """All informative survey/suggestion answers, one row each (the unit ingestion melts to)."""

    source: np.ndarray  # 0 fft good, 1 fft improve, 2 nps reason, 3 suggestion
    record: np.ndarray
    site: np.ndarray  # 0..2, 3 = no site
    month: np.ndarray
    neg_ok: np.ndarray


def _pick_rating(rng: np.random.Generator, n: int, weights: Sequence[float]) -> np.ndarray:
    return _choice(rng, n, np.asarray(weights, dtype=float))


def generate(
    out_dir: Path,
    rows: int = 1000,
    seed: int = 42,
    start: date = date(2025, 11, 1),
    months: int = 12,
) -> dict:
    """Write the four demo source files + manifest.json into out_dir; return the manifest dict.

    Args:
        out_dir: Directory to write into (created if missing; existing files are overwritten).
        rows: Approximate total number of source records (62% FFT, 13% NPS, 10% suggestions,
            15% complaints).
        seed: Seed for ``numpy.random.default_rng``; same arguments give byte-identical files.
        start: First day of the window.
        months: Length of the window in months.

    Returns:
        The manifest written to ``out_dir / "manifest.json"``.

    Raises:
        ValueError: if ``rows`` < 20 or ``months`` is not between 1 and 60.
    """
    if rows < 20:
        raise ValueError(f"rows must be at least 20, got {rows}")
    if not 1 <= months <= 60:
        raise ValueError(f"months must be between 1 and 60, got {months}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)

    seq = np.random.SeedSequence(seed)
    r_time, r_plan, r_text, r_misc = (np.random.default_rng(s) for s in seq.spawn(4))
    d = _Draw(r_text)
    p = _pools()
    cal = _calendar(start, months)
    surge_idx = 8 if months >= 10 else max(1, (2 * months) // 3)

    counts = {k: round(v * rows) for k, v in SOURCE_SHARES.items()}
    counts["complaints"] = rows - counts["fft"] - counts["nps"] - counts["suggestions"]
    n_f, n_n, n_s, n_c = counts["fft"], counts["nps"], counts["suggestions"], counts["complaints"]

    fft = _skeleton(r_time, cal, n_f, "survey")
    nps = _skeleton(r_time, cal, n_n, "survey")
    sug = _skeleton(r_time, cal, n_s, "suggestion")
    cmp_ = _skeleton(r_time, cal, n_c, "complaint")
    sug_site = np.where(r_time.random(n_s) < 0.20, 3, sug.site)

    # --- 1. ED weekend waits (response level), then ratings -------------------------------
    f_text = r_plan.random(n_f) < 0.90
    n_text = r_plan.random(n_n) < 0.75
    ed_keys = np.concatenate([cal.dow[fft.day] >= 5, cal.dow[nps.day] >= 5]).astype(np.int64)
    ed_pop = np.concatenate([(fft.service == 0) & f_text, (nps.service == 0) & n_text])
    wait = _group_quota(
        r_plan, ed_keys, ed_pop, ed_pop, lambda k: ED_WEEKEND_WAIT_SHARE if k == 1 else ED_WEEKDAY_WAIT_SHARE
    )
    f_wait, n_wait = wait[:n_f], wait[n_f:]

    rating = _pick_rating(r_plan, n_f, _WEIGHTS_FFT_BASE)
    for mask, w in (
        (fft.site == 2, _WEIGHTS_FFT_HILLCREST),
        (fft.service == 0, _WEIGHTS_FFT_ED),
        (f_wait, _WEIGHTS_FFT_WAIT),
    ):
        rating[mask] = _pick_rating(r_plan, int(mask.sum()), w)
    score = _pick_rating(r_plan, n_n, _WEIGHTS_NPS_BASE)
    for mask, w in ((nps.service == 0, _WEIGHTS_NPS_ED), (n_wait, _WEIGHTS_NPS_WAIT)):
        score[mask] = _pick_rating(r_plan, int(mask.sum()), w)

    # --- 2. Which FFT answers are filled in ------------------------------------------------
    positive = np.isin(rating, (0, 1, 5))
    negative = np.isin(rating, (3, 4))
    p_good = np.where(positive, 0.90, np.where(negative, 0.5, 0.6))
    p_imp = np.where(positive, 0.62, np.where(negative, 0.97, 0.85))
    good = f_text & (r_plan.random(n_f) < p_good)
    imp = (f_text & (r_plan.random(n_f) < p_imp)) | f_wait
    both_empty = f_text & ~good & ~imp
    good |= both_empty & positive
    imp |= both_empty & ~positive
    good_state = np.where(good, _TEXT, _EMPTY)
    imp_state = np.where(imp, _TEXT, _EMPTY)

    # --- 3. Non-informative answers (exact quotas) ----------------------------------------
    k_imp = round(NONINF_IMPROVE_SHARE * int(imp.sum()))
    imp_state[_quota(r_plan, np.flatnonzero(imp & positive & ~f_wait), k_imp)] = _NONINF
    k_good = round(NONINF_GOOD_SHARE * int(good.sum()))
    good_state[_quota(r_plan, np.flatnonzero(good & negative), k_good)] = _NONINF

    # --- 4. The informative text table; parking and food quotas per site x month ----------
    f_month, n_month, s_month = cal.month[fft.day], cal.month[nps.day], cal.month[sug.day]
    g_idx = np.flatnonzero(good_state == _TEXT)
    i_idx = np.flatnonzero(imp_state == _TEXT)
    r_idx = np.flatnonzero(n_text)
    s_idx = np.arange(n_s)
    texts = _Text(
        source=np.concatenate([np.full(len(g_idx), 0), np.full(len(i_idx), 1), np.full(len(r_idx), 2),
                               np.full(len(s_idx), 3)]),
        record=np.concatenate([g_idx, i_idx, r_idx, s_idx]),
        site=np.concatenate([fft.site[g_idx], fft.site[i_idx], nps.site[r_idx], sug_site]),
        month=np.concatenate([f_month[g_idx], f_month[i_idx], n_month[r_idx], s_month]),
        neg_ok=np.concatenate([np.zeros(len(g_idx), bool), np.ones(len(i_idx) + len(r_idx) + n_s, bool)]),
    )
    keys = texts.site * 1000 + texts.month
    everyone = np.ones(len(keys), dtype=bool)

    def parking_share(key: int) -> float:
        return PARKING_SURGE if (key // 1000 == 0 and key % 1000 >= surge_idx) else PARKING_BASELINE

    t_parking = _group_quota(r_plan, keys, everyone, texts.neg_ok, parking_share)
    t_food = _group_quota(r_plan, keys, everyone, everyone, lambda k: FOOD_SHARE)

    def per_source(flags: np.ndarray, src: int, n: int) -> np.ndarray:
        out = np.zeros(n, dtype=bool)
        sel = texts.source == src
        out[texts.record[sel & flags]] = True
        return out

    g_food = per_source(t_food, 0, n_f)
    i_food, i_park = per_source(t_food, 1, n_f), per_source(t_parking, 1, n_f)
    r_food, r_park = per_source(t_food, 2, n_n), per_source(t_parking, 2, n_n)
    s_food, s_park = per_source(t_food, 3, n_s), per_source(t_parking, 3, n_s)
    food_pos_nps = r_plan.random(n_n) < np.where(score >= 7, 0.7, 0.15)
    food_pos_sug = r_plan.random(n_s) < 0.4

    # --- 5. Complaint plan ---------------------------------------------------------------
    category = np.empty(n_c, dtype=np.int64)
    cw = np.asarray(_COMPLAINT_CATEGORY_WEIGHTS, dtype=float)
    exact = cw / cw.sum() * n_c
    base = np.floor(exact).astype(np.int64)
    rest = n_c - int(base.sum())
    base[np.argsort(-(exact - base), kind="stable")[:rest]] += 1
    category[:] = r_plan.permutation(np.repeat(np.arange(len(cw)), base))
    _fit_services(r_plan, category, cmp_)

    # --- 6. PHI and hostile texts (exact quotas per field) ---------------------------------
    def phi_pick(states: np.ndarray) -> np.ndarray:
        nonempty = int((states != _EMPTY).sum())
        out = np.zeros(len(states), dtype=bool)
        out[_quota(r_misc, np.flatnonzero(states == _TEXT), round(PHI_SHARE * nonempty))] = True
        return out

    n_state = np.where(n_text, _TEXT, _EMPTY)
    s_state = np.full(n_s, _TEXT)
    c_state = np.full(n_c, _TEXT)
    phi_g, phi_i = phi_pick(good_state), phi_pick(imp_state)
    phi_r, phi_s, phi_c = phi_pick(n_state), phi_pick(s_state), phi_pick(c_state)

    def n_hostile(n: int) -> int:
        return max(3, n // 2000)

    def hostile_pick(states: np.ndarray, blocked: np.ndarray) -> np.ndarray:
        return _quota(r_misc, np.flatnonzero((states == _TEXT) & ~blocked), n_hostile(len(states)))

    h_f = hostile_pick(imp_state, phi_i | f_wait | i_food | i_park)
    imp_state[h_f] = _HOSTILE
    h_n = hostile_pick(n_state, phi_r | n_wait | r_food | r_park)
    n_state[h_n] = _HOSTILE
    h_s = hostile_pick(s_state, phi_s | s_food | s_park)
    s_state[h_s] = _HOSTILE
    h_c = hostile_pick(c_state, phi_c | (category == COMPLAINT_CATEGORIES.index(BILLING_CATEGORY)))
    c_state[h_c] = _HOSTILE
    hostile_rows: list[dict[str, str]] = []
    payload_offset = int(r_misc.integers(0, len(HOSTILE_PAYLOADS)))

    def hostile_value(j: int) -> str:
        return HOSTILE_PAYLOADS[(payload_offset + j) % len(HOSTILE_PAYLOADS)]

    phi_rows: list[dict[str, str]] = []

    def add_phi(text: str, file: str, rid: str, field: str) -> str:
        found: list[tuple[str, str]] = []
        text = _with_phi(d, text, found)
        for kind, value in found:
            phi_rows.append({"file": file, "id": rid, "field": field, "type": kind, "value": value})
        return text

    # --- 7. Render FFT -------------------------------------------------------------------
    f_ids = _ids("FFT", n_f)
    f_stamps = _stamps(cal, fft)
    age = _age_bands(r_plan, fft.service)
    mode = _modes(r_plan, age)
    fft_rows: list[list[str]] = []
    h_f_set = {int(i): j for j, i in enumerate(h_f.tolist())}
    for i in range(n_f):
        d.memo.clear()  # one relative per response
        svc, site, rt = int(fft.service[i]), int(fft.site[i]), int(rating[i])
        ctx = (svc, site)
        sms = mode[i] == "SMS"
        gs, ist = int(good_state[i]), int(imp_state[i])
        good_text = imp_text = ""
        if gs == _TEXT:
            tone = "weakpos" if rt in (3, 4) else "pos"
            forced = ["food"] if g_food[i] else []
            k = 1 if tone == "weakpos" and not forced else d.weighted(_N_TOPICS_CUM) + 1
            topics = _pick_topics(d, p, "weak" if tone == "weakpos" else "praise", svc, k, forced)
            good_text = _stylise(d, _compose(d, p, topics, "pos", tone, ctx), sms)
            if phi_g[i]:
                good_text = add_phi(good_text, "fft", f_ids[i], "what_was_good")
        elif gs == _NONINF:
            good_text = d.pick(NONINF_GOOD_VALUES)
        if ist == _TEXT:
            forced = (["ed_wait"] if f_wait[i] else []) + (["parking"] if i_park[i] else []) + (
                ["food"] if i_food[i] else []
            )
            if rt in (0, 1, 5):
                tone, kind = "mild", "mild"
            else:
                tone, kind = ("strong" if rt == 4 and d.chance(0.5) else "neg"), "neg"
            k = max(1, len(forced), d.weighted(_N_TOPICS_CUM) + 1 - (1 if tone == "mild" and d.chance(0.5) else 0))
            topics = _pick_topics(d, p, kind, svc, k, forced)
            imp_text = _stylise(d, _compose(d, p, topics, "neg", tone, ctx), sms)
            if phi_i[i]:
                imp_text = add_phi(imp_text, "fft", f_ids[i], "what_could_improve")
        elif ist == _NONINF:
            imp_text = d.pick(NONINF_IMPROVE_VALUES)
        elif ist == _HOSTILE:
            imp_text = hostile_value(h_f_set[i])
            hostile_rows.append({"file": FILES["fft"], "id": f_ids[i], "field": "what_could_improve", "text": imp_text})
        fft_rows.append([f_ids[i], f_stamps[i], SITES[site], SERVICES[svc], FFT_RATINGS[rt], good_text, imp_text,
                         age[i], mode[i]])

    # --- 8. Render NPS -------------------------------------------------------------------
    n_ids = _ids("NPS", n_n)
    n_stamps = _stamps(cal, nps)
    nps_rows: list[list[str]] = []
    h_n_set = {int(i): j for j, i in enumerate(h_n.tolist())}
    for i in range(n_n):
        d.memo.clear()
        svc, site, sc = int(nps.service[i]), int(nps.site[i]), int(score[i])
        st = int(n_state[i])
        reason = ""
        if st == _TEXT:
            forced_neg = (["ed_wait"] if n_wait[i] else []) + (["parking"] if r_park[i] else [])
            food_pos = bool(r_food[i] and food_pos_nps[i])
            if r_food[i] and not food_pos:
                forced_neg.append("food")
            reason = _nps_reason(d, p, sc, (svc, site), forced_neg, food_pos)
            reason = _stylise(d, reason, sms=d.chance(0.3))
            if phi_r[i]:
                reason = add_phi(reason, "nps", n_ids[i], "reason")
        elif st == _HOSTILE:
            reason = hostile_value(h_n_set[i] + 1)
            hostile_rows.append({"file": FILES["nps"], "id": n_ids[i], "field": "reason", "text": reason})
        nps_rows.append([n_ids[i], n_stamps[i], SITES[site], SERVICES[svc], str(sc), reason])

    # --- 9. Render suggestions -----------------------------------------------------------
    s_ids = _ids("SUG", n_s)
    s_stamps = _stamps(cal, sug)
    sug_rows: list[dict[str, Any]] = []
    h_s_set = {int(i): j for j, i in enumerate(h_s.tolist())}
    for i in range(n_s):
        d.memo.clear()
        site = int(sug_site[i])
        ctx = (-1, site if site < 3 else -1)
        if s_state[i] == _HOSTILE:
            text = hostile_value(h_s_set[i] + 2)
            hostile_rows.append({"file": FILES["suggestions"], "id": s_ids[i], "field": "text", "text": text})
        else:
            text = _suggestion(d, p, ctx, bool(s_park[i]), bool(s_food[i]), bool(food_pos_sug[i]))
            text = _stylise(d, text, sms=d.chance(0.2))
            if phi_s[i]:
                text = add_phi(text, "suggestions", s_ids[i], "text")
        sug_rows.append({
            "entry_id": s_ids[i],
            "submitted_at": s_stamps[i],
            "site": SITES[site] if site < 3 else None,
            "location": _location(d, site),
            "text": text,
        })

    # --- 10. Complaints ------------------------------------------------------------------
    c_ids = _ids("CMP", n_c)
    c_rows = _complaints(r_plan, d, p, cal, cmp_, category, c_ids, c_state, phi_c, add_phi)
    h_c_set = {int(i): j for j, i in enumerate(h_c.tolist())}
    for i, j in h_c_set.items():
        value = c_rows[i][11] = hostile_value(j + 3)
        hostile_rows.append({"file": FILES["complaints"], "id": c_ids[i], "field": "description", "text": value})

    # --- 11. Write ------------------------------------------------------------------------
    _write_csv(out_dir / FILES["fft"], FFT_COLUMNS, fft_rows)
    _write_csv(out_dir / FILES["nps"], NPS_COLUMNS, nps_rows)
    with (out_dir / FILES["suggestions"]).open("w", encoding="utf-8", newline="\n") as fh:
        for row in sug_rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
    _write_csv(out_dir / FILES["complaints"], COMPLAINT_COLUMNS, c_rows)

    observed = _observed(
        cal, surge_idx, texts, t_parking, t_food, fft, nps, rating, score, f_wait, n_wait, f_text, n_text,
        good_state, imp_state, category,
    )
    manifest = _manifest(
        seed, rows, cal, surge_idx, counts, observed, phi_rows, hostile_rows,
        {"fft": len(fft_rows), "nps": len(nps_rows), "suggestions": len(sug_rows), "complaints": len(c_rows)},
    )
    (out_dir / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return manifest


_CATEGORY_SERVICES: dict[str, frozenset[int]] = {
    "Appointments": _SERVICE_GROUPS["appt"],
    "Discharge": _SERVICE_GROUPS["stay"],
}


def _fit_services(rng: np.random.Generator, category: np.ndarray, sk: _Skeleton) -> None:
    """Re-draw the service of complaints whose category cannot happen there (no ED appointments)."""
    for cat, allowed in _CATEGORY_SERVICES.items():
        ok = np.array([i in allowed for i in range(len(SERVICES))])
        for site in range(len(SITES)):
            bad = (category == COMPLAINT_CATEGORIES.index(cat)) & (sk.site == site) & ~ok[sk.service]
            w = np.where(ok & (_HILLCREST_ALLOWED if site == 2 else True), _SERVICE_W_COMPLAINT, 0.0)
            sk.service[bad] = _choice(rng, int(bad.sum()), w)


def _age_bands(rng: np.random.Generator, service: np.ndarray) -> list[str]:
    base = np.array([8, 13, 15, 17, 18, 16, 13], dtype=float)
    by_service = {1: np.array([18, 42, 30, 6, 2, 1, 1.0]), 7: np.array([6, 30, 38, 17, 5, 2, 2.0]),
                  6: np.array([20, 24, 20, 16, 11, 6, 3.0])}
    idx = _choice(rng, len(service), base)
    for s, w in by_service.items():
        mask = service == s
        idx[mask] = _choice(rng, int(mask.sum()), w)
    blank = rng.random(len(service)) < 0.10
    return ["" if b else AGE_BANDS[i] for i, b in zip(idx.tolist(), blank.tolist(), strict=True)]


def _modes(rng: np.random.Generator, ages: list[str]) -> list[str]:
    older = np.array([a in ("65-74", "75+") for a in ages], dtype=bool)
    idx = _choice(rng, len(ages), (0.33, 0.42, 0.15, 0.10))
    idx[older] = _choice(rng, int(older.sum()), (0.18, 0.37, 0.35, 0.10))
    return [MODES[i] for i in idx.tolist()]


def _nps_reason(d: _Draw, p: _Pools, score: int, ctx: _Ctx, forced_neg: list[str], food_pos: bool) -> str:
    svc = ctx[0]
    pos_forced = ["food"] if food_pos else []
    if score >= 9:
        shape = "pos+mild" if (forced_neg or d.chance(0.2)) else "pos"
    elif score >= 7:
        r = d.u()
        shape = "pos+neg" if r < 0.5 else ("mild" if r < 0.8 else "pos")
        if shape == "pos" and forced_neg:
            shape = "pos+neg"
        if shape == "mild" and pos_forced:
            shape = "pos+neg"
    else:
        r = d.u()
        shape = "weak+neg" if (r < 0.1 or pos_forced) else ("strong" if r < 0.3 else "neg")
    if shape == "pos":
        topics = _pick_topics(d, p, "praise", svc, d.weighted(_N_TOPICS_CUM) + 1, pos_forced)
        return _compose(d, p, topics, "pos", "pos", ctx)
    if shape in ("mild", "neg", "strong"):
        kind = "mild" if shape == "mild" else "neg"
        topics = _pick_topics(d, p, kind, svc, max(len(forced_neg), d.weighted(_N_TOPICS_CUM) + 1), forced_neg)
        return _compose(d, p, topics, "neg", shape, ctx)
    first_kind, first_tone = ("weak", "weakpos") if shape == "weak+neg" else ("praise", "pos")
    pos_topics = _pick_topics(d, p, first_kind, svc, 1, pos_forced)
    neg_kind = "mild" if shape == "pos+mild" else "neg"
    neg_topics = _pick_topics(d, p, neg_kind, svc, max(1, len(forced_neg)), forced_neg)
    first = _join(d, [_clause(d, p, t, "pos", ctx) for t in pos_topics], _CONNECT_POS)
    first = _with_opener(d, first, first_tone, 0.2)
    second = _join(d, [_clause(d, p, t, "neg", ctx, neg_kind == "mild") for t in neg_topics], _CONNECT_NEG)
    return _contrast(d, first, second)


def _suggestion(d: _Draw, p: _Pools, ctx: _Ctx, parking: bool, food: bool, food_pos: bool) -> str:
    food_pos = food_pos and not parking  # one text, one tone: with parking, food is a complaint too
    forced = (["parking"] if parking else []) + (["food"] if food and not food_pos else [])
    r = d.u()
    if food and food_pos:
        kind = "thanks"
    elif forced:
        kind = "suggest" if r < 0.75 else "complain"
    else:
        kind = "suggest" if r < 0.6 else ("complain" if r < 0.75 else "thanks")
    if kind == "thanks":
        topics = _pick_topics(d, p, "praise", -1, d.weighted(_N_TOPICS_CUM) + 1, ["food"] if food else [])
        opener = _render(d, d.pick(p.get("thanks", "", -1)), ctx)
        return opener + _compose(d, p, topics, "pos", "pos", ctx)
    if kind == "complain":
        topics = _pick_topics(d, p, "neg", -1, max(len(forced), d.weighted(_N_TOPICS_CUM) + 1), forced)
        return _compose(d, p, topics, "neg", "neg", ctx)
    topics = _pick_topics(d, p, "sug", -1, max(len(forced), 1 if d.chance(0.7) else 2), forced)
    parts = []
    for t in topics:
        sug_pool = p.by_key.get((t, "sug", -1))
        if sug_pool and d.chance(0.55):
            s = _render(d, d.pick(sug_pool), ctx)
            frame = d.pick(_SUG_FRAMES)
            parts.append(frame.replace("{s}", s).replace("{S}", _cap(s)))
        else:
            complaint = _finish(d, _cap(_clause(d, p, t, "neg", ctx)), False)
            if sug_pool:
                s = _render(d, d.pick(sug_pool), ctx)
                parts.append(complaint + " " + d.pick(_SUG_FRAMES).replace("{s}", s).replace("{S}", _cap(s)))
            else:
                parts.append(complaint + " " + d.pick(("Please look into this.", "Something needs to change.",
                                                       "Please do something about it.", "Sort it out please.")))
    return " ".join(parts)


_LOC_SITE = (
    "main entrance box", "ward {n} card", "outpatients reception box", "A&E waiting room box", "maternity unit card",
    "children's ward box", "pharmacy counter box", "online form", "QR code form", "day surgery unit card",
    "radiology reception box",
)
_LOC_SITE_W = _cumulative((18, 16, 12, 8, 5, 6, 5, 14, 8, 4, 4))
_LOC_NO_SITE = ("online form", "QR code form", "PALS email")
_LOC_NO_SITE_W = _cumulative((60, 25, 15))


def _location(d: _Draw, site: int) -> str:
    if site == 3:
        return _LOC_NO_SITE[d.weighted(_LOC_NO_SITE_W)]
    while True:
        loc = _LOC_SITE[d.weighted(_LOC_SITE_W)]
        if site == 2 and loc in ("A&E waiting room box", "maternity unit card"):
            continue
        return loc.replace("{n}", str(d.between(1, 32)))


_SENT_CUM = _cumulative((0.08, 0.17, 0.27, 0.24, 0.15, 0.09))
_SEVERITY_W = {
    "Clinical treatment": (0.2, 0.4, 0.28, 0.12),
    "Billing and charges": (0.55, 0.35, 0.09, 0.01),
    "Car parking": (0.8, 0.18, 0.02, 0.0),
    "Other": (0.6, 0.3, 0.08, 0.02),
}
_SEVERITY_BASE = (0.45, 0.35, 0.15, 0.05)
_CLOSE_DAYS = ((3, 30), (10, 45), (20, 80), (40, 140))
_ACK_LAG_CUM = _cumulative((0.15, 0.35, 0.25, 0.12, 0.08, 0.05))


def _add_working_days(day: date, n: int) -> date:
    while n > 0:
        day += timedelta(days=1)
        if day.weekday() < 5:
            n -= 1
    return day


def _complaint_text(d: _Draw, p: _Pools, cat: str, ctx: _Ctx) -> str:
    n = d.weighted(_SENT_CUM) + 1
    svc = ctx[0]
    bodies = p.get(cat, "", svc)
    chosen: list[_Tpl] = []
    for _ in range(max(1, n - 2 if n >= 3 else 1)):
        for _try in range(6):
            tpl = d.pick(bodies)
            if tpl not in chosen:
                chosen.append(tpl)
                break
    if n >= 4 and cat not in (BILLING_CATEGORY, "Communication") and d.chance(0.2):
        chosen[-1] = d.pick(p.get("Communication", "", svc))
    sentences = [_render(d, t, ctx) for t in chosen]
    closers = p.get("c_bill_close" if (cat == BILLING_CATEGORY and d.chance(0.6)) else "c_close", "", svc)
    openers = p.get("c_open", "", svc)
    if n == 2:
        if d.chance(0.6):
            sentences.insert(0, _render(d, d.pick(openers), ctx))
        else:
            sentences.append(_render(d, d.pick(closers), ctx))
    elif n >= 3:
        sentences.insert(0, _render(d, d.pick(openers), ctx))
        sentences.append(_render(d, d.pick(closers), ctx))
    return _stylise(d, " ".join(_cap(s) for s in sentences), formal=True)


def _complaints(
    rng: np.random.Generator,
    d: _Draw,
    p: _Pools,
    cal: _Cal,
    sk: _Skeleton,
    category: np.ndarray,
    ids: list[str],
    states: np.ndarray,
    phi: np.ndarray,
    add_phi: Callable[[str, str, str, str], str],
) -> list[list[str]]:
    n = len(ids)
    severity = np.zeros(n, dtype=np.int64)
    for ci, cat in enumerate(COMPLAINT_CATEGORIES):
        mask = category == ci
        severity[mask] = _choice(rng, int(mask.sum()), _SEVERITY_W.get(cat, _SEVERITY_BASE))
    lam = np.array([0.5, 1.0, 1.8, 2.5])[severity] + np.where(category == COMPLAINT_CATEGORIES.index(BILLING_CATEGORY),
                                                              0.8, 0.0)
    contacts = np.clip(1 + rng.poisson(lam), 1, 6)
    minutes = (15 + 25 * contacts + np.array([0, 30, 90, 200])[severity] + rng.gamma(2.0, 15.0, n)).astype(np.int64)
    reopen = rng.random(n) < 0.06
    stuck_open = rng.random(n) < 0.03
    out: list[list[str]] = []
    for i in range(n):
        d.memo.clear()
        received = cal.days[int(sk.day[i])]
        sev = int(severity[i])
        ack = _add_working_days(received, d.weighted(_ACK_LAG_CUM))
        lo, hi = _CLOSE_DAYS[sev]
        closed = max(ack, received + timedelta(days=d.between(lo, hi)))
        ack_s = closed_s = ""
        if ack > cal.end or stuck_open[i]:
            status = "open"
        elif closed > cal.end:
            status, ack_s = "acknowledged", ack.isoformat()
        elif reopen[i]:
            status, ack_s = "reopened", ack.isoformat()
        else:
            status, ack_s, closed_s = "closed", ack.isoformat(), closed.isoformat()
        cat = COMPLAINT_CATEGORIES[int(category[i])]
        ctx = (int(sk.service[i]), int(sk.site[i]))
        text = ""
        if states[i] == _TEXT:
            text = _complaint_text(d, p, cat, ctx)
            if phi[i]:
                text = add_phi(text, "complaints", ids[i], "description")
        out.append([ids[i], received.isoformat(), SITES[ctx[1]], SERVICES[ctx[0]], cat, SEVERITIES[sev], status, ack_s,
                     closed_s, str(int(contacts[i])), str(int(minutes[i])), text])
    return out


def _write_csv(path: Path, header: Sequence[str], rows: list[list[str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


# ---------------------------------------------------------------------------------------
# Manifest
# ---------------------------------------------------------------------------------------


def _share(num: int, den: int) -> float | None:
    return round(num / den, 4) if den else None


def _observed(
    cal: _Cal,
    surge_idx: int,
    texts: _Text,
    t_parking: np.ndarray,
    t_food: np.ndarray,
    fft: _Skeleton,
    nps: _Skeleton,
    rating: np.ndarray,
    score: np.ndarray,
    f_wait: np.ndarray,
    n_wait: np.ndarray,
    f_text: np.ndarray,
    n_text: np.ndarray,
    good_state: np.ndarray,
    imp_state: np.ndarray,
    category: np.ndarray,
) -> dict[str, Any]:
    obs: dict[str, Any] = {}
    after = texts.month >= surge_idx
    park: dict[str, Any] = {}
    for s, name in enumerate(SITES):
        site = texts.site == s
        park[name] = {
            "before": _share(int((t_parking & site & ~after).sum()), int((site & ~after).sum())),
            "after": _share(int((t_parking & site & after).sum()), int((site & after).sum())),
        }
    obs["parking_surge"] = {"unit": "informative free-text answer", "share_by_site": park}
    food_shares = []
    for key in np.unique(texts.site * 1000 + texts.month).tolist():
        grp = (texts.site * 1000 + texts.month) == key
        if key // 1000 < 3 and grp.sum() >= 50:
            food_shares.append(int((t_food & grp).sum()) / int(grp.sum()))
    obs["food_control"] = {
        "share_overall": _share(int(t_food.sum()), len(t_food)),
        "min_site_month_share": round(min(food_shares), 4) if food_shares else None,
        "max_site_month_share": round(max(food_shares), 4) if food_shares else None,
    }
    f_we, n_we = cal.dow[fft.day] >= 5, cal.dow[nps.day] >= 5
    f_ed, n_ed = fft.service == 0, nps.service == 0
    low = np.isin(rating, (3, 4))

    def ed_stats(we: bool) -> dict[str, Any]:
        fm, nm = f_ed & (f_we == we), n_ed & (n_we == we)
        return {
            "wait_share_of_responses_with_text": _share(
                int((f_wait & fm).sum() + (n_wait & nm).sum()), int((f_text & fm).sum() + (n_text & nm).sum())
            ),
            "fft_poor_or_very_poor_share": _share(int((low & fm).sum()), int(fm.sum())),
            "nps_detractor_share": _share(int(((score <= 6) & nm).sum()), int(nm.sum())),
        }

    obs["ed_weekend_waits"] = {
        "weekend": ed_stats(True),
        "weekday": ed_stats(False),
        "fft_poor_share_with_wait": _share(int((low & f_wait).sum()), int(f_wait.sum())),
        "fft_poor_share_ed_without_wait": _share(int((low & f_ed & ~f_wait).sum()), int((f_ed & ~f_wait).sum())),
    }
    obs["billing_confusion"] = {
        "share": _share(int((category == COMPLAINT_CATEGORIES.index(BILLING_CATEGORY)).sum()), len(category))
    }
    obs["non_informative"] = {
        "what_could_improve_share": _share(int((imp_state == _NONINF).sum()), int((imp_state != _EMPTY).sum())),
        "what_was_good_share": _share(int((good_state == _NONINF).sum()), int((good_state != _EMPTY).sum())),
    }
    return obs


def _manifest(
    seed: int,
    rows: int,
    cal: _Cal,
    surge_idx: int,
    counts: dict[str, int],
    observed: dict[str, Any],
    phi_rows: list[dict[str, str]],
    hostile_rows: list[dict[str, str]],
    written: dict[str, int],
) -> dict[str, Any]:
    surge_month = _month_label(cal.start, surge_idx)
    patterns: list[dict[str, Any]] = [
        {
            "id": "parking_surge",
            "kind": "emerging",
            "description": (
                f"At {PARKING_SITE}, from {surge_month} onwards, the share of informative survey and suggestion "
                f"answers about car parking rises from {PARKING_BASELINE:.0%} to {PARKING_SURGE:.0%}; every other "
                "site (and suggestions with no site) stays at the baseline in every month."
            ),
            "site": PARKING_SITE,
            "start_month": surge_month,
            "start_month_index": surge_idx,
            "baseline_share": PARKING_BASELINE,
            "surge_share": PARKING_SURGE,
            "topic": "car parking",
            "keywords": list(PARKING_KEYWORDS),
            "keyword_regex": r"parking|car park",
            "sources": ["fft.what_was_good", "fft.what_could_improve", "nps.reason", "suggestions.text"],
            "unit": "informative free-text answer (non-empty, not a non-informative or hostile answer)",
            "observed": observed["parking_surge"],
        },
        {
            "id": "ed_weekend_waits",
            "kind": "driver",
            "description": (
                f"In the {ED_SERVICE}, on Saturdays and Sundays {ED_WEEKEND_WAIT_SHARE:.0%} of responses with "
                f"comments describe long waits (weekdays {ED_WEEKDAY_WAIT_SHARE:.0%}); those responses rate Poor/Very "
                "poor about 75% of the time (NPS: ~75% detractors), so waiting is the strongest driver of low "
                "FFT ratings in the ED. Waiting is never drawn as a background topic in the ED."
            ),
            "service": ED_SERVICE,
            "days": ["Saturday", "Sunday"],
            "weekend_wait_share": ED_WEEKEND_WAIT_SHARE,
            "weekday_wait_share": ED_WEEKDAY_WAIT_SHARE,
            "driver_topic": "waiting",
            "outcome": "fft_rating in (Poor, Very poor); nps_score <= 6",
            "fft_rating_weights_with_wait": dict(zip(FFT_RATINGS, _WEIGHTS_FFT_WAIT, strict=True)),
            "fft_rating_weights_ed_without_wait": dict(zip(FFT_RATINGS, _WEIGHTS_FFT_ED, strict=True)),
            "nps_score_weights_with_wait": [w / 100 for w in _WEIGHTS_NPS_WAIT],
            "keywords": list(ED_WAIT_KEYWORDS),
            "fields": ["fft.what_could_improve", "nps.reason"],
            "unit": "survey response with at least one comment",
            "observed": observed["ed_weekend_waits"],
        },
        {
            "id": "billing_confusion",
            "kind": "complaint_theme",
            "description": (
                f"{_COMPLAINT_CATEGORY_WEIGHTS[5]}% of complaints are '{BILLING_CATEGORY}' (exact quota), about "
                "confusing invoices, double charging, overseas visitor charges letters and unclear bills; every "
                "such description contains at least one of the keywords."
            ),
            "category": BILLING_CATEGORY,
            "share": _COMPLAINT_CATEGORY_WEIGHTS[5] / 100,
            "keywords": list(BILLING_KEYWORDS),
            "category_weights": {c: w / 100 for c, w in zip(COMPLAINT_CATEGORIES, _COMPLAINT_CATEGORY_WEIGHTS,
                                                                strict=True)},
            "observed": observed["billing_confusion"],
        },
        {
            "id": "non_informative",
            "kind": "no_content",
            "description": (
                f"{NONINF_IMPROVE_SHARE:.0%} of non-empty what_could_improve answers are non-informative "
                f"(under Very good/Good/Don't know ratings) and {NONINF_GOOD_SHARE:.0%} of non-empty what_was_good "
                "answers are 'Nothing'/'N/A' (under Poor/Very poor ratings). Exact quotas."
            ),
            "field": "what_could_improve",
            "share": NONINF_IMPROVE_SHARE,
            "values": list(NONINF_IMPROVE_VALUES),
            "good_field": "what_was_good",
            "good_share": NONINF_GOOD_SHARE,
            "good_values": list(NONINF_GOOD_VALUES),
            "good_ratings": ["Poor", "Very poor"],
            "observed": observed["non_informative"],
        },
        {
            "id": "food_control",
            "kind": "control",
            "description": (
                f"Food is mentioned in exactly {FOOD_SHARE:.0%} of informative survey and suggestion answers in "
                "every site x month (exact quota): no emerging alert should fire for it."
            ),
            "topic": "food",
            "share": FOOD_SHARE,
            "keywords": list(FOOD_KEYWORDS),
            "keyword_regex": r"\b(?:" + "|".join(FOOD_KEYWORDS) + r")\b",
            "by": ["site", "month"],
            "unit": "informative free-text answer (non-empty, not a non-informative or hostile answer)",
            "observed": observed["food_control"],
        },
        {
            "id": "phi",
            "kind": "phi",
            "description": (
                f"{PHI_SHARE:.0%} of the non-empty answers of every free-text field carry one planted fictional "
                "identifier (an address sentence may carry an address and a postcode). Every planted string is "
                "listed in planted_identifiers; planted_identifier_records says where."
            ),
            "share": PHI_SHARE,
            "types": list(_PHI_TYPES),
            "nhs_number_formats": ["943 476 5919", "9434765919", "943-476-5919"],
            "phone_ranges": "Ofcom drama numbers: 07700 900xxx, 020 7946 0xxx, 0161/0113/0117 496 0xxx",
            "email_domains": ["example.com", "example.org", "example.net", "mail.example.com"],
            "count": len(phi_rows),
        },
        {
            "id": "hostile_texts",
            "kind": "hostile",
            "description": (
                "At least 3 answers per file (max(3, records // 2000)) are replaced by a hostile payload "
                "(script/HTML injection, javascript: link, spreadsheet formulas); listed in hostile_texts."
            ),
            "payloads": list(HOSTILE_PAYLOADS),
            "per_file_min": 3,
            "count": len(hostile_rows),
        },
    ]
    return {
        "generator": "pipelines.demo.generator",
        "generator_version": GENERATOR_VERSION,
        "seed": seed,
        "rows": rows,
        "start": cal.start.isoformat(),
        "end": cal.end.isoformat(),
        "months": [_month_label(cal.start, i) for i in range(int(cal.month.max()) + 1)],
        "timezone": "Europe/London",
        "files": dict(FILES),
        "sites": list(SITES),
        "services": list(SERVICES),
        "services_by_site": {s: [v for j, v in enumerate(SERVICES) if i != 2 or _HILLCREST_ALLOWED[j]]
                             for i, s in enumerate(SITES)},
        "counts": written,
        "planted_patterns": patterns,
        "planted_identifiers": sorted({r["value"] for r in phi_rows}),
        "planted_identifier_records": phi_rows,
        "hostile_texts": hostile_rows,
    }


def main(argv: Sequence[str] | None = None) -> None:
    """Command-line entry point: ``python -m pipelines.demo.generator OUT_DIR [--rows N] [--seed S]``."""
    parser = argparse.ArgumentParser(description="Write the demo feedback data set.")
    parser.add_argument("out_dir", type=Path)
    parser.add_argument("--rows", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--start", type=date.fromisoformat, default=date(2025, 11, 1))
    parser.add_argument("--months", type=int, default=12)
    args = parser.parse_args(argv)
    manifest = generate(args.out_dir, rows=args.rows, seed=args.seed, start=args.start, months=args.months)
    print(json.dumps(manifest["counts"]))


if __name__ == "__main__":
    main()
