"""Behavioural tests run against the shipped default sentiment model (``make models`` builds it)."""

from __future__ import annotations

import pytest

from pipelines.config import get_settings


@pytest.fixture(scope="session")
def default_scorer():
    from pipelines.sentiment.pointers import DEFAULT_FILE, current_build
    from pipelines.sentiment.scorer import build_scorer

    settings = get_settings()
    build = current_build(settings.sentiment_build_dir, pointer=DEFAULT_FILE)
    if build is None:
        pytest.skip(
            f"default sentiment model not built in {settings.sentiment_build_dir}: run `make models` "
            "(`make test` builds it first)"
        )
    return build_scorer(build, settings.sentiment_backend)
