"""One no-content vocabulary for ingest, sentiment and themes (issue 14 item 1, issue 13 item 7)."""

from __future__ import annotations

import pytest

from pipelines import noncontent
from pipelines.sentiment.noncontent import is_informative, noncontent_label
from pipelines.sources.reshape import DEFAULT_PLACEHOLDERS
from pipelines.themes.noncontent import NonContent

PLATFORM = [
    "Did not answer",
    "did not answer.",
    "Not answered",
    "N/A",
    "NULL",
    "-",
    "No response given",
    "Question skipped",
    "Left blank",
    "Declined to answer",
    "None given",
    "See attached letter",
    "no further comments at this time",
    "See my previous comments",
]
COMMENTS = [
    "No response from the ward for 3 hours",
    "Declined my pain relief twice",
    "Not answered the phone all day",
    "the blank look the receptionist gave me",
    "excellent",
]


@pytest.mark.parametrize("text", PLATFORM)
def test_every_stage_reads_a_placeholder_as_no_comment(text):
    assert noncontent.is_placeholder_answer(text)
    assert not is_informative(text), "sentiment: not scored, not counted as a comment"
    assert noncontent_label(text, "What could we do better?") == "neutral"
    assert NonContent().is_noncontent(text), "themes: never clustered"


@pytest.mark.parametrize("text", COMMENTS)
def test_a_comment_that_starts_like_a_placeholder_is_a_comment(text):
    assert not noncontent.is_placeholder_answer(text)
    assert is_informative(text)
    assert not NonContent().is_noncontent(text)


def test_ingest_blanks_exactly_the_shared_export_markers():
    assert tuple(DEFAULT_PLACEHOLDERS) == noncontent.EXPORT_PLACEHOLDERS
    # A whole cell only: a site called "Unknown" or a status "Declined" is data, not a placeholder.
    assert "Unknown" not in DEFAULT_PLACEHOLDERS and "Declined" not in DEFAULT_PLACEHOLDERS


def test_nothing_is_an_answer_not_a_placeholder():
    """'Nothing' under an improvement question is a satisfied patient (sentiment labels it),
    and still no theme; it is not an export's empty-cell marker."""
    assert not noncontent.is_placeholder_answer("Nothing")
    assert noncontent_label("Nothing", "What could we do better?") == "positive"
    assert NonContent().is_noncontent("Nothing")


def test_a_referral_at_the_start_of_a_clause_with_content_is_still_themed():
    """'See attached letter' on its own is a placeholder; a clause that goes on to say something is
    content for the theme stage, whose clauses are parts of longer comments."""
    assert NonContent().is_noncontent("See attached letter")
    assert not NonContent().is_noncontent("As I said the staff were rude to my father")
    assert not NonContent().is_noncontent("as discussed the wait for a bed was twelve hours")
