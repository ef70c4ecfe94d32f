"""What a finished stage writes to ``ops.stage_runs.message``: short, and never cut inside a word."""

from __future__ import annotations

import json

from pipelines.stages import MESSAGE_MAX, clip_message, stage_message


def _report_summary(n: int = 40) -> dict:
    root = "/tmp/bench-incremental-b18421we/reports/exports/2026-09/trend-pack"
    return {"outcome": "ran", "rows_out": n, "files": [f"{root}/table_{i}.csv" for i in range(n)]}


def test_a_long_file_list_is_shortened_with_a_count():
    summary = _report_summary()
    message = stage_message(summary)
    assert len(message) <= MESSAGE_MAX
    parsed = json.loads(message)  # shortened lists keep the message readable JSON
    assert parsed["rows_out"] == 40 and parsed["files"][:3] == summary["files"][:3]
    assert parsed["files"][-1] == "... 37 more"


def test_a_message_too_long_anyway_is_cut_between_words_and_marked():
    text = "ValueError: " + " ".join(f"/tmp/bench-incremental-x/file{i}.csv," for i in range(200))
    clipped = clip_message(text)
    assert len(clipped) <= MESSAGE_MAX and clipped.endswith(" ... (cut)")
    assert clipped.removesuffix(" ... (cut)").endswith(".csv")
    assert clip_message("short") == "short"


def test_the_final_scan_finds_no_name_in_a_long_report_message():
    # The message used to be cut at 2,000 characters; here that cut falls inside "/tmp/bench-...",
    # and the scan read the fragment "ben" as a sign-off name: the run-status exports were held back.
    from pipelines.privacy.scan import TextScanner

    summary = {"outcome": "skipped (no change)", "files": []}
    root = "/tmp/bench-incremental-b18421we/reports/exports/2026-09/trend-pack/"
    while len(json.dumps(summary)) < MESSAGE_MAX + 100:
        summary["files"].append(root + f"t{len(summary['files'])}.csv")
    plain = json.dumps(summary)[:MESSAGE_MAX]
    cut = next(k for k in range(len(plain) - 5, 0, -1) if plain[k:].startswith('"/tmp/'))
    old_style = plain[: cut + len('"/tmp/ben')]  # where the old cut fell in the incremental benchmark
    scanner = TextScanner()
    assert scanner.kinds(old_style)["PERSON"] == 1
    assert not scanner.kinds(stage_message(summary))
