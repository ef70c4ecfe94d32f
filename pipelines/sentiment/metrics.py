"""Evaluation of the sentiment model: accuracy, macro-F1, precision/recall, the served decision.

The counting is scikit-learn's (``sklearn.metrics``); this module chooses which labels count
and how the served decision (rule for non-informative answers, model otherwise) is formed.
scikit-learn loads inside the functions, never at import.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from pipelines.sentiment.base import LABELS3, LABELS5, label3_of, sentiment_from_probs
from pipelines.sentiment.clauses import split_clauses
from pipelines.sentiment.data import Example, TrainConfig
from pipelines.sentiment.noncontent import is_informative, noncontent_label


def accuracy(gold: Sequence[Any], pred: Sequence[Any]) -> float:
    """Share of equal pairs (0.0 for no pairs)."""
    from sklearn.metrics import accuracy_score

    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    return float(accuracy_score(gold, pred)) if len(gold) else 0.0


def macro_f1(gold: Sequence[int], pred: Sequence[int], k: int) -> float:
    """Unweighted mean F1 over those of the ``k`` classes present in gold or predictions (0.0 if none)."""
    from sklearn.metrics import f1_score

    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    present = sorted({*gold, *pred} & set(range(k)))
    if not present:
        return 0.0
    return float(f1_score(gold, pred, labels=present, average="macro", zero_division=0.0))


def binary_prf(gold: Sequence[bool], pred: Sequence[bool]) -> dict[str, float]:
    """Precision, recall, F1 of the positive class (0.0 where undefined)."""
    from sklearn.metrics import precision_recall_fscore_support

    if len(gold) != len(pred):
        raise ValueError(f"{len(gold)} gold labels but {len(pred)} predictions")
    if not len(gold):
        return {"precision": 0.0, "recall": 0.0, "f1": 0.0}
    prec, rec, f1, _ = precision_recall_fscore_support(
        [bool(g) for g in gold], [bool(p) for p in pred], labels=[True], average=None, zero_division=0.0
    )
    return {"precision": float(prec[0]), "recall": float(rec[0]), "f1": float(f1[0])}


def confusion3(gold: Sequence[int], pred: Sequence[int]) -> list[list[int]]:
    """3-class confusion counts: rows gold, columns predicted, both in :data:`LABELS3` order."""
    from sklearn.metrics import confusion_matrix

    return confusion_matrix(gold, pred, labels=list(range(len(LABELS3)))).tolist()


def classification_metrics(examples: Sequence[Example], pred5: Sequence[int], pred3: Sequence[int]) -> dict[str, Any]:
    """3-class (all) and 5-class (where known) accuracy and macro-F1."""
    g3 = [e.label3 for e in examples]
    out: dict[str, Any] = {
        "n": len(examples),
        "acc3": round(accuracy(g3, pred3), 4),
        "macro_f1_3": round(macro_f1(g3, pred3, 3), 4),
    }
    idx5 = [i for i, e in enumerate(examples) if e.label5 is not None]
    if idx5:
        g5 = [examples[i].label5 for i in idx5]
        p5 = [pred5[i] for i in idx5]
        out["acc5"] = round(accuracy(g5, p5), 4)
        out["macro_f1_5"] = round(macro_f1(g5, p5, 5), 4)
    return out


def evaluate_probs(
    examples: Sequence[Example], probs: Any, mixed_threshold: float, noncontent: str = "rule"
) -> dict[str, Any]:
    """Metrics of the served decision (rule for non-informative answers when ``noncontent='rule'``)."""
    pred5, pred3 = served_labels(examples, probs, mixed_threshold, noncontent)
    return classification_metrics(examples, pred5, pred3)


def served_labels(
    examples: Sequence[Example], probs: Any, mixed_threshold: float, noncontent: str = "rule"
) -> tuple[list[int], list[int]]:
    """(5-class, 3-class) indices of the served decision: the rule for non-informative answers, else the model."""
    pred5, pred3 = [], []
    for e, row in zip(examples, probs, strict=True):
        if noncontent == "rule" and not is_informative(e.text):
            lab = noncontent_label(e.text, e.question)
            pred5.append(LABELS5.index(lab))
            pred3.append(LABELS3.index(label3_of(lab)))
        else:
            s = sentiment_from_probs(row, mixed_threshold)
            pred5.append(LABELS5.index(s.label5))
            pred3.append(LABELS3.index(s.label3))
    return pred5, pred3


def score_examples(scorer: Any, examples: Sequence[Example]) -> dict[str, Any]:
    """Served metrics of any :class:`~pipelines.sentiment.base.SentimentScorer` on examples."""
    res = scorer.score([e.text for e in examples], [e.question for e in examples])
    pred5 = [LABELS5.index(r.label5) for r in res]
    pred3 = [LABELS3.index(r.label3) for r in res]
    return classification_metrics(examples, pred5, pred3)


def agreement3(a: Any, b: Any) -> float:
    """Share of rows whose 3-class decision is the same in both probability matrices."""
    import numpy as np

    ra = np.stack([a[:, 0] + a[:, 1], a[:, 2], a[:, 3] + a[:, 4]], 1).argmax(1)
    rb = np.stack([b[:, 0] + b[:, 1], b[:, 2], b[:, 3] + b[:, 4]], 1).argmax(1)
    return float((ra == rb).mean())


def clause_mixed(scorer: Any, examples: Sequence[Example]) -> list[bool]:
    """Clause rule for the mixed flag: some clause positive and another negative."""
    flat, owner = [], []
    for i, e in enumerate(examples):
        clauses = split_clauses(e.text)
        if len(clauses) > 1:
            flat.extend(clauses)
            owner.extend([i] * len(clauses))
    result = [False] * len(examples)
    if not flat:
        return result
    probs = scorer(flat, [examples[i].question for i in owner])
    sides: dict[int, set[str]] = {}
    for i, row in zip(owner, probs, strict=True):
        sides.setdefault(i, set()).add(sentiment_from_probs(row).label3)
    for i, s in sides.items():
        result[i] = {"negative", "positive"} <= s
    return result


def _rounded(prf: dict[str, float]) -> dict[str, float]:
    return {k: round(v, 4) for k, v in prf.items()}


def diagnostics(sets: dict[str, list[Example]], probs: dict[str, Any], cfg: TrainConfig) -> dict[str, Any]:
    """Measurements behind the serving choices: no-content rule, mixed rule, informative flag."""
    out: dict[str, Any] = {}
    held = sets.get("project_heldout", [])
    if not held or "project_heldout" not in probs:
        return out
    p = probs["project_heldout"]
    # is_informative vs the datasheet's flag, on every project example (rule has no training).
    everything = held + sets.get("project_train", [])
    gold_inf = [bool(e.informative) for e in everything]
    pred_inf = [is_informative(e.text) for e in everything]
    out["is_informative_agreement_all_project"] = round(accuracy(gold_inf, pred_inf), 4)
    out["non_informative_prf_all_project"] = _rounded(binary_prf([not g for g in gold_inf], [not x for x in pred_inf]))
    # Labels of non-informative held-out answers: rule vs model.
    ni = [i for i, e in enumerate(held) if not is_informative(e.text)]
    if ni:
        gold3 = [held[i].label3 for i in ni]
        rule3 = [LABELS3.index(label3_of(noncontent_label(held[i].text, held[i].question))) for i in ni]
        model3 = [LABELS3.index(sentiment_from_probs(p[i]).label3) for i in ni]
        out["noncontent_heldout"] = {
            "n": len(ni),
            "rule_acc3": round(accuracy(gold3, rule3), 4),
            "model_acc3": round(accuracy(gold3, model3), 4),
        }
    # Mixed flag: probability rule at several thresholds and the clause rule.
    gold_mixed = [bool(e.mixed) for e in held]
    sweep = {}
    for t in (0.1, 0.15, 0.2, 0.25, 0.3, 0.35):
        pred = [min(r[0] + r[1], r[3] + r[4]) >= t for r in p]
        sweep[str(t)] = _rounded(binary_prf(gold_mixed, pred))
    out["mixed_probability_rule_heldout"] = sweep
    out["mixed_threshold_served"] = cfg.mixed_threshold
    out["mixed_base_rate_heldout"] = round(sum(gold_mixed) / len(gold_mixed), 4)
    return out
