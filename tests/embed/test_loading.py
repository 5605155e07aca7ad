"""Loading checkpoints without a second copy of the weights, and the opt-in int8 path."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

from lightly_studio.embed import _open_clip
from lightly_studio.embed._open_clip import PRECISION_ENV, load_model, unload_models
from tests.embed.conftest import RANDOM_SPEC

ARCH = RANDOM_SPEC.split(":")[1]


def _images(size: tuple[int, int], n: int = 6) -> np.ndarray:
    # Smooth images (two gradients and a colour cast) rather than noise: like photos, they
    # give the activations some structure for the int8 comparison below.
    h, w = size
    rows = np.linspace(0, 160, h, dtype=np.float32)[None, :, None, None]
    cols = np.linspace(0, 60, w, dtype=np.float32)[None, None, :, None]
    cast = np.random.default_rng(1).integers(0, 90, (n, 1, 1, 3))
    return np.clip(rows + cols + cast, 0, 255).astype(np.uint8)


@pytest.fixture
def reference(random_model):
    x = _images(random_model.image_size)
    return x, random_model.forward_uint8(x), random_model.embed_texts(["a red car", "a dog"])


@pytest.fixture
def checkpoints(random_model, tmp_path):
    from safetensors.torch import save_file

    state = {k: v.contiguous() for k, v in random_model.model.state_dict().items()}
    save_file(state, tmp_path / "model.safetensors")
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, tmp_path / "model.pt")
    yield tmp_path
    unload_models()


@pytest.mark.parametrize("name", ["model.safetensors", "model.pt"])
def test_checkpoints_are_mapped_not_copied_and_give_the_same_vectors(
    checkpoints, reference, monkeypatch, name
):
    x, images, texts = reference
    # open_clip's own loader reads a second full copy of the weights; it must not be used.
    import open_clip.factory

    monkeypatch.setattr(
        open_clip.factory,
        "load_checkpoint",
        lambda *a, **k: pytest.fail("open_clip's copying loader was used"),
    )
    model = load_model(f"open_clip:{ARCH}:{checkpoints / name}")

    np.testing.assert_allclose(model.forward_uint8(x), images, atol=1e-6)
    np.testing.assert_allclose(model.embed_texts(["a red car", "a dog"]), texts, atol=1e-6)
    assert not any(t.is_meta for t in model.model.state_dict().values())


def test_checkpoints_of_another_layout_go_through_open_clips_loader(checkpoints, reference):
    from safetensors.torch import load_file, save_file

    x, images, _ = reference
    state = load_file(checkpoints / "model.safetensors")
    state["logit_scale"] = state["logit_scale"].reshape(1)  # a shape open_clip converts
    save_file(state, checkpoints / "old.safetensors")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = load_model(f"open_clip:{ARCH}:{checkpoints / 'old.safetensors'}")
    np.testing.assert_allclose(model.forward_uint8(x), images, atol=1e-6)


def test_precision_is_fp32_on_cpus_without_bf16_unless_asked(monkeypatch):
    monkeypatch.delenv(PRECISION_ENV, raising=False)
    monkeypatch.setattr(_open_clip, "cpu_has_bf16", lambda: False)
    assert _open_clip.pick_precision("cpu") == "fp32"
    assert _open_clip.pick_precision("cuda") == "fp16"
    monkeypatch.setattr(_open_clip, "cpu_has_bf16", lambda: True)
    assert _open_clip.pick_precision("cpu") == "bf16"
    monkeypatch.setenv(PRECISION_ENV, "int8")
    assert _open_clip.pick_precision("cpu") == "int8"


def test_int8_image_tower_is_close_to_fp32_and_text_stays_exact(reference, monkeypatch):
    from lightly_studio.embed._quantise import int8_engine

    x, images, texts = reference
    monkeypatch.setenv(PRECISION_ENV, "int8")
    unload_models()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        model = load_model(RANDOM_SPEC)
    try:
        if int8_engine() is None:  # a torch without x86 int8 kernels (an ARM build, say)
            assert model.precision == "fp32"  # falls back: correct, only slower
            return
        assert model.precision == "int8"
        from torch.ao.nn.quantized.dynamic import Linear as Int8Linear

        modules = list(model.model.visual.modules())
        assert sum(isinstance(m, Int8Linear) for m in modules) >= 4 * len(
            model.model.visual.transformer.resblocks
        )  # qkv, out, fc, proj of every block
        assert not any(type(m) in (torch.nn.Linear, torch.nn.MultiheadAttention) for m in modules)
        got = model.forward_uint8(x)
        cosine = (got * images).sum(axis=1)
        assert cosine.min() > 0.99, cosine
        np.testing.assert_allclose(np.linalg.norm(got, axis=1), 1.0, rtol=1e-5)
        np.testing.assert_allclose(model.embed_texts(["a red car", "a dog"]), texts, atol=1e-6)
    finally:
        unload_models()


def test_a_changed_precision_setting_loads_a_model_of_that_precision(monkeypatch):
    unload_models()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            monkeypatch.setenv(PRECISION_ENV, "fp32")
            first = load_model(RANDOM_SPEC)
            monkeypatch.setenv(PRECISION_ENV, "bf16")
            second = load_model(RANDOM_SPEC)
        assert (first.precision, second.precision) == ("fp32", "bf16")
        assert next(second.model.parameters()).dtype == torch.bfloat16
    finally:
        unload_models()
