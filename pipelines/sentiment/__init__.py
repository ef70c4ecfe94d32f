"""Sentiment stage: comment and clause scoring, training, and the reviewer label loop."""
