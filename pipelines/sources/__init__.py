"""Source adapters: each configured source maps its exports to the canonical feedback record.

``base`` (config YAML, CSV/JSON Lines/Excel readers), ``presets`` (column mappings, rating
scales, local time -> UTC), ``fhir`` (QuestionnaireResponse), ``sql`` (SQLAlchemy pulls with a
watermark) and ``readers`` (dispatch by format). See docs/sources.md.
"""
