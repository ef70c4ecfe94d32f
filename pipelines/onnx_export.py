"""ONNX export of a ``transformers`` encoder with the TorchScript exporter, for serving with onnxruntime.

One exporter for every model the pipeline serves through onnxruntime: the sentiment classifier
and the names model (``logits``), and the theme stage's sentence encoder (``last_hidden_state``).
``torch.onnx.export(..., dynamo=False)`` with dynamic batch and sequence axes (STACK-NOTES:
optimum does not fit transformers 5; transformers 5 needs keyword arguments in the wrapper).
torch is imported inside the function: exporting is a build step, never a parse-time import.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

__all__ = ["export_transformer"]

INPUT_NAMES = ("input_ids", "attention_mask", "token_type_ids")


def export_transformer(model: Any, path: Path | str, output: str = "logits", token_level: bool = False) -> None:
    """Write ``model``'s ``output`` (an attribute of its forward result) as an ONNX graph to ``path``.

    Args:
        model: a ``transformers`` model taking ``input_ids``, ``attention_mask``, ``token_type_ids``.
        path: the ``.onnx`` file to write.
        output: ``logits`` (a classifier) or ``last_hidden_state`` (a bare encoder).
        token_level: the output has a sequence axis (per-token logits or hidden states), which
            stays dynamic too.
    """
    import torch

    class _Wrapper(torch.nn.Module):
        def __init__(self, inner: Any) -> None:
            super().__init__()
            self.inner = inner

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
            # transformers 5 needs keyword arguments here.
            result = self.inner(input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
            return getattr(result, output)

    # A padded second row, so the traced graph is the one that applies the attention mask.
    mask = torch.ones((2, 8), dtype=torch.long)
    mask[1, 5:] = 0
    dummy = (torch.full((2, 8), 1000, dtype=torch.long) * mask, mask, torch.zeros((2, 8), dtype=torch.long))
    axes = {name: {0: "batch", 1: "seq"} for name in INPUT_NAMES}
    axes[output] = {0: "batch", 1: "seq"} if token_level else {0: "batch"}
    torch.onnx.export(
        _Wrapper(model).eval(),
        dummy,
        str(path),
        input_names=list(INPUT_NAMES),
        output_names=[output],
        dynamic_axes=axes,
        opset_version=17,
        do_constant_folding=True,
        dynamo=False,
    )
