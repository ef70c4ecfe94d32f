"""Source adapters: each configured source maps its exports to the canonical feedback record.

Modules from the bottom up: ``types`` (SourceConfig, SourceRows, Reject, SourceError), ``files``
(decoding; CSV/JSON Lines/Excel readers), ``scales`` (rating scales, complaint vocabularies),
``presets`` (default column names and a source's overrides), ``base`` (source YAMLs parsed and
checked against the presets, their files listed in order), ``mapping`` (source rows -> canonical
records, local time -> UTC), ``fhir`` (QuestionnaireResponse), ``sql`` (SQLAlchemy pulls with a
watermark) and ``readers`` (dispatch by format). See docs/sources.md.
"""
