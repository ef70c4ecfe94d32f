"""Sentiment stage: comment and clause scoring, training, and the reviewer label loop.

Serving: ``base`` (labels, :class:`Sentiment`, the scorer interface), ``noncontent`` (the
no-content rule), ``rating`` (the respondent's rating as model input), ``clauses`` (aspect
clauses), ``backends`` (ONNX/torch predictors), ``pointers`` (build folders), ``scorer``
(``load_scorer``), ``stage`` (``score_pending``).
Training: ``data``, ``train`` (fine-tuning), ``export`` (safetensors, ONNX fp32/int8),
``metrics``, ``build`` (``make models``), ``organisation`` and ``labels`` (reviewer labels),
``evaluation`` (``feedback eval sentiment`` on an organisation's coded file, reviewer simulation).
"""
