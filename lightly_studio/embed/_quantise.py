"""Int8 image tower for CPUs without native bf16 (opt-in: LIGHTLY_STUDIO_EMBEDDING_PRECISION=int8).

On the 2-core AMD EPYC build machine (AVX2, no AVX-512/bf16) ViT-B-32's forward pass is
~85 % matrix products in its Linear layers, and fp32 runs them near the cores' peak: fp32
cannot go much past ~13 images/s there. oneDNN's int8 kernels run them ~1.5x faster
(``benchmarks/bench_embed.py --precision int8``); bf16 is emulated and slower on such CPUs.

Weights are quantised per output channel, activations per batch at run time (dynamic
quantisation: no calibration data). That one activation scale per batch is why it is not
the default: with random weights fp32 and int8 vectors agree to cosine >= 0.9995, but a
few outlier channels, which trained CLIP models have, spoil it (``bench_embed.py --quality
DIR --outliers 20``: nearest neighbour unchanged for only ~30 % of images), and trained
weights could not be measured here. The text tower stays fp32.
"""

from __future__ import annotations

import logging
import warnings

import torch
import torch.nn.functional as F
from torch import nn

log = logging.getLogger(__name__)


class SdpaAttention(nn.Module):
    """``nn.MultiheadAttention`` (self-attention, inference) as two plain ``nn.Linear``
    layers around ``scaled_dot_product_attention``, sharing MHA's parameters. Same numbers;
    but MHA keeps its input projection as a bare parameter and its output projection as a
    class that dynamic quantisation skips on purpose, so both would stay fp32."""

    def __init__(self, mha: nn.MultiheadAttention):
        super().__init__()
        self.num_heads = mha.num_heads
        self.batch_first = mha.batch_first
        self.qkv = _linear(mha.in_proj_weight, mha.in_proj_bias)
        self.out = _linear(mha.out_proj.weight, mha.out_proj.bias)

    def forward(self, query, key=None, value=None, need_weights=False, attn_mask=None):
        x = query if self.batch_first else query.transpose(0, 1)
        b, n, d = x.shape
        h = self.num_heads
        q, k, v = self.qkv(x).view(b, n, 3, h, d // h).permute(2, 0, 3, 1, 4).unbind(0)
        o = F.scaled_dot_product_attention(q, k, v, attn_mask=attn_mask)
        o = self.out(o.transpose(1, 2).reshape(b, n, d))
        return (o if self.batch_first else o.transpose(0, 1)), None


def _linear(weight: torch.Tensor, bias: nn.Parameter | None) -> nn.Linear:
    # ``weight`` is a Parameter too (shared, not copied); torch types nn.Linear.weight as Tensor.
    out_features, in_features = weight.shape
    # On the meta device: no throw-away random initialisation before the real parameters.
    layer = nn.Linear(in_features, out_features, bias=bias is not None, device="meta")
    layer.weight = weight
    if bias is not None:
        layer.bias = bias
    return layer


def int8_engine() -> str | None:
    """The quantised-kernel backend to pack weights for, or None where int8 is not measured
    to pay (ARM's qnnpack, builds without x86 kernels)."""
    engines = torch.backends.quantized.supported_engines
    # oneDNN's dynamic int8 Linear measured ~20 % faster than fbgemm's ("x86") on Zen 3.
    for engine in ("onednn", "x86", "fbgemm"):
        if engine in engines:
            return engine
    return None


def quantise_image_tower(model: nn.Module) -> bool:
    """Make ``model.visual`` (an open_clip ViT) int8 in place; False when it cannot be done
    here (another architecture, no x86 int8 kernels, a torch without dynamic quantisation),
    in which case the model is left untouched in fp32."""
    visual = getattr(model, "visual", None)
    blocks = getattr(getattr(visual, "transformer", None), "resblocks", None)
    engine = int8_engine()
    if blocks is None or engine is None:
        return False  # measured only for ViTs; convolutional towers gain little from Linear int8
    try:
        from torch.ao.quantization import per_channel_dynamic_qconfig, quantize_dynamic
    except ImportError:  # removed in some future torch: fp32 is correct, only slower
        return False
    for block in blocks:
        if isinstance(block.attn, nn.MultiheadAttention):
            block.attn = SdpaAttention(block.attn)
    previous = torch.backends.quantized.engine
    try:
        # The engine decides how weights are packed; the packed weights keep their kernels,
        # so the process-wide setting is restored at once.
        torch.backends.quantized.engine = engine
        with warnings.catch_warnings():
            # torch >= 2.10 marks torch.ao quantisation deprecated in favour of torchao,
            # whose CPU int8 path (torch._int_mm) measured ~100x slower here.
            warnings.simplefilter("ignore")
            quantize_dynamic(
                visual, {nn.Linear: per_channel_dynamic_qconfig}, dtype=torch.qint8, inplace=True
            )
    except Exception as exc:  # noqa: BLE001 - an optimisation only
        # Whatever was converted before the failure computes correctly (SdpaAttention is
        # exact), so the model stays usable; it is reported as fp32.
        log.info("int8 image tower unavailable (%s); using fp32", exc)
        return False
    finally:
        torch.backends.quantized.engine = previous
    return True
