"""The enrich stage serves its models with ONNX Runtime: redaction and scoring never import torch.

importing torch (and transformers) costs seconds and ~1 GB per process; a daily increment of a
handful of comments must not pay it. Checked in a fresh interpreter on the built models.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

from tests.conftest import ROOT

HEAVY = ("torch", "transformers", "sentence_transformers", "bertopic")


def _models_built() -> bool:
    from pipelines.config import get_settings
    from pipelines.privacy.namemodel import DEFAULT_BUILD_DIR, MODEL_FILE
    from pipelines.sentiment.pointers import current_build

    return current_build(get_settings().sentiment_build_dir) is not None and (DEFAULT_BUILD_DIR / MODEL_FILE).is_file()


def test_redaction_and_scoring_run_without_importing_torch():
    if not _models_built():
        pytest.skip("sentiment or names model not built (make models)")
    code = textwrap.dedent(
        f"""
        import sys
        from pipelines.config import get_settings
        from pipelines.privacy.redactor import Redactor
        from pipelines.sentiment.scorer import load_scorer

        settings = get_settings()
        assert settings.sentiment_backend.startswith("onnx"), settings.sentiment_backend
        redacted = Redactor(allow_list=[], person=settings.privacy_person).redact_many(
            ["Dr Patel on ward 5 was kind, but the food was cold. Call me on 07700 900123"]
        )
        assert "Patel" not in redacted[0].text and "07700" not in redacted[0].text, redacted[0].text
        scores = load_scorer(settings).score(
            [redacted[0].text, "Nothing"], ["What was good?", "What could we improve?"], ratings=[4.0, None]
        )
        assert len(scores) == 2 and scores[0].is_informative and not scores[1].is_informative
        loaded = sorted(m for m in {HEAVY!r} if sys.modules.get(m) is not None)
        print(loaded)
        """
    )
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stdout.strip().splitlines()[-1] == "[]"
