"""Themes stage: BERTopic on clause embeddings under a healthcare taxonomy, with a stable theme registry."""
