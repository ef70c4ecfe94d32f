"""Ingest stage: read sources, validate rows with Great Expectations, load raw tables."""
