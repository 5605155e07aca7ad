"""Load open_clip models from a spec and run them on uint8 image batches and texts."""

from __future__ import annotations

import logging
import os
import platform
import threading
import warnings
from collections import OrderedDict
from pathlib import Path
from typing import Any

import numpy as np

from lightly_studio.embed import _offline
from lightly_studio.embed._images import fit_image
from lightly_studio.embed._spec import ModelSpec, parse_spec
from lightly_studio.errors import EmbeddingError

log = logging.getLogger(__name__)

DEVICE_ENV = "LIGHTLY_STUDIO_EMBEDDING_DEVICE"
PRECISION_ENV = "LIGHTLY_STUDIO_EMBEDDING_PRECISION"


class ModelUnavailableError(EmbeddingError):
    """The model's weights cannot be obtained here (offline, file missing)."""


class RandomWeightsWarning(UserWarning):
    """Embeddings come from a model with random weights: they carry no meaning."""


def cpu_has_bf16() -> bool:
    """Native bf16 math (AVX512-BF16 or AMX). Without it bf16 is emulated and much slower
    than fp32 (measured on the Zen 3 build machine: ViT-B-32 0.5 vs 3.3 img/s under load)."""
    if platform.system() != "Linux":
        return False
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return bool(flags & {"avx512_bf16", "amx_bf16"})
    except OSError:
        pass
    return False


def pick_device(device: str | None = None) -> str:
    device = device or os.environ.get(DEVICE_ENV)
    if device:
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def pick_dtype(device: str):
    import torch

    wanted = os.environ.get(PRECISION_ENV, "").lower()
    table = {"fp32": torch.float32, "bf16": torch.bfloat16, "fp16": torch.float16}
    if wanted in table:
        return table[wanted]
    if device.startswith("cuda"):
        return torch.float16
    if device == "cpu" and cpu_has_bf16():
        return torch.bfloat16
    return torch.float32


def _offline_message(spec: ModelSpec, reason: str) -> str:
    return (
        f"Could not load the weights of embedding model '{spec}': {reason}. "
        "Samples are indexed without embeddings; run dataset.compute_embeddings() later to "
        "fill them in. To give weights without a download, use one of: "
        f"embedding_model='open_clip:{spec.arch}:/path/to/checkpoint.safetensors', "
        f"'open_clip:{spec.arch}:local-dir:/path/to/open_clip_export', or a pre-filled "
        "Hugging Face cache (HF_HOME / HF_HUB_CACHE) together with HF_HUB_OFFLINE=1; "
        f"or set {_spec_env()} to such a spec."
    )


def _spec_env() -> str:
    from lightly_studio.embed._spec import ENV_VAR

    return ENV_VAR


def _cached_checkpoint(cfg: dict) -> str | None:
    """The weights file of a pretrained tag if it is already in a local cache."""
    hf_hub = cfg.get("hf_hub") or ""
    if hf_hub:
        from huggingface_hub import try_to_load_from_cache

        # "org/repo/" or "org/repo/file.bin"; open_clip prefers a .safetensors sibling.
        parts = hf_hub.rstrip("/").split("/")
        repo_id, filename = "/".join(parts[:2]), "/".join(parts[2:])
        names = [filename] if filename else []
        names += ["open_clip_model.safetensors", "open_clip_pytorch_model.bin"]
        for name in names:
            candidates = [name[:-4] + ".safetensors", name] if name.endswith(".bin") else [name]
            for candidate in candidates:
                try:
                    found = try_to_load_from_cache(repo_id, candidate)
                except Exception:  # noqa: BLE001 - a broken cache entry is the same as none
                    found = None
                if isinstance(found, str) and os.path.isfile(found):
                    return found
    url = cfg.get("url") or ""
    if url:
        target = Path("~/.cache/clip").expanduser() / os.path.basename(url)
        if target.is_file():
            return str(target)
    return None


def _resolve_tag(spec: ModelSpec) -> tuple[str, dict]:
    """Path of the checkpoint for a pretrained tag, downloading it only when that can work."""
    import open_clip

    cfg = open_clip.get_pretrained_cfg(spec.arch, spec.weights)
    if not cfg:
        tags = open_clip.list_pretrained_tags_by_model(spec.arch)
        raise EmbeddingError(
            f"Embedding model '{spec}': '{spec.weights}' is neither a pretrained tag of "
            f"{spec.arch} (known: {', '.join(tags) or 'none'}), 'random', a checkpoint file "
            "path nor 'local-dir:<folder>'."
        )
    found = _cached_checkpoint(cfg)
    if found:
        return found, cfg
    if _offline.hub_offline():
        raise ModelUnavailableError(
            _offline_message(spec, "HF_HUB_OFFLINE is set and the weights are not in the local cache")
        )
    url = _offline.hub_endpoint() if cfg.get("hf_hub") else cfg.get("url", "")
    if not _offline.reachable(url):
        raise ModelUnavailableError(
            _offline_message(
                spec,
                f"no network connection to {url} within {_offline.CONNECT_TIMEOUT_S:.0f} s and "
                "the weights are not in the local cache",
            )
        )
    from open_clip.pretrained import download_pretrained

    try:
        return download_pretrained(cfg), cfg
    except Exception as exc:  # noqa: BLE001 - any download failure means the same to the user
        raise ModelUnavailableError(_offline_message(spec, f"the download failed ({exc})")) from exc


class OpenClipModel:
    """An open_clip model ready for inference, plus the image preprocessing it expects."""

    def __init__(self, spec: ModelSpec, model: Any, preprocess_cfg: dict, device: str, dtype: Any):
        import torch

        self.spec = spec
        self.name = str(spec)
        self.model = model
        self.device = device
        self.dtype = dtype
        size = preprocess_cfg.get("size", 224)
        self.image_size: tuple[int, int] = (size, size) if isinstance(size, int) else tuple(size)
        self.resize_mode = preprocess_cfg.get("resize_mode", "shortest")
        self.interpolation = preprocess_cfg.get("interpolation", "bicubic")
        mean = torch.tensor(preprocess_cfg.get("mean", (0.48145466, 0.4578275, 0.40821073)))
        std = torch.tensor(preprocess_cfg.get("std", (0.26862954, 0.26130258, 0.27577711)))
        # (x/255 - mean)/std as one multiply-add on the uint8 batch.
        self._scale = (1.0 / (255.0 * std)).view(1, 3, 1, 1).to(device)
        self._shift = (-mean / std).view(1, 3, 1, 1).to(device)
        self._tokenizer = None
        self._lock = threading.Lock()
        with torch.inference_mode():
            probe = torch.zeros(1, 3, *self.image_size, device=device, dtype=dtype)
            self.dim = int(model.encode_image(probe).shape[-1])

    # -- images -----------------------------------------------------------------------------
    def prepare(self, img) -> np.ndarray:
        """PIL image -> uint8[h, w, 3] at the model's input size (thread-safe)."""
        return fit_image(img, self.image_size, self.resize_mode, self.interpolation)

    def forward_uint8(self, batch: np.ndarray) -> np.ndarray:
        """uint8[n, h, w, 3] -> L2-normalised float32[n, dim]."""
        import torch

        with self._lock, torch.inference_mode():
            x = torch.from_numpy(batch).to(self.device, non_blocking=True)
            # NHWC memory viewed as NCHW is channels_last, which conv stems prefer.
            x = x.permute(0, 3, 1, 2).float().mul_(self._scale).add_(self._shift).to(self.dtype)
            out = self.model.encode_image(x).float()
            out = torch.nn.functional.normalize(out, dim=-1)
            return out.cpu().numpy()

    def embed_images(self, images: list) -> np.ndarray:
        if not images:
            return np.zeros((0, self.dim), dtype=np.float32)
        return self.forward_uint8(np.stack([self.prepare(img) for img in images]))

    # -- texts ------------------------------------------------------------------------------
    def embed_texts(self, texts: list[str]) -> np.ndarray:
        import open_clip
        import torch

        if self._tokenizer is None:
            self._tokenizer = open_clip.get_tokenizer(self.spec.arch)
        with self._lock, torch.inference_mode():
            tokens = self._tokenizer(list(texts)).to(self.device)
            out = self.model.encode_text(tokens).float()
            out = torch.nn.functional.normalize(out, dim=-1)
            return out.cpu().numpy()


def _build(spec: ModelSpec, device: str) -> OpenClipModel:
    import open_clip
    import torch
    from open_clip.model import get_model_preprocess_cfg

    kind = spec.kind
    if kind != "local-dir" and spec.arch not in open_clip.list_models():
        raise EmbeddingError(
            f"Embedding model '{spec}': open_clip has no architecture '{spec.arch}'. "
            "See open_clip.list_models(), e.g. ViT-B-32 or MobileCLIP2-S0."
        )
    tag_cfg: dict = {}
    with warnings.catch_warnings():
        # open_clip warns about QuickGELU mismatches of *random* models; not actionable.
        warnings.simplefilter("ignore")
        if kind == "random":
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(0)  # deterministic random weights: tests can compare runs
                model = open_clip.create_model(spec.arch, pretrained=None)
        elif kind == "local-dir":
            folder = spec.weights[len("local-dir:"):]
            if not os.path.isdir(folder):
                raise ModelUnavailableError(_offline_message(spec, f"folder {folder} does not exist"))
            model = open_clip.create_model(spec.weights)
        elif kind == "file":
            if not os.path.isfile(spec.weights):
                raise ModelUnavailableError(
                    _offline_message(spec, f"checkpoint file {spec.weights} does not exist")
                )
            model = open_clip.create_model(spec.arch, pretrained=spec.weights)
        else:
            path, tag_cfg = _resolve_tag(spec)
            model = open_clip.create_model(
                spec.arch, pretrained=path, force_quick_gelu=bool(tag_cfg.get("quick_gelu"))
            )
    if kind == "random":
        message = (
            f"Embedding model '{spec}' has RANDOM weights: its embeddings, similarity search, "
            "typicality and plot are meaningless. Use it only for tests."
        )
        warnings.warn(message, RandomWeightsWarning, stacklevel=4)
        log.warning(message)
    preprocess_cfg = dict(get_model_preprocess_cfg(model))
    for key in ("mean", "std", "interpolation", "resize_mode"):
        if tag_cfg.get(key):
            preprocess_cfg[key] = tag_cfg[key]
    model.eval()
    if type(model.visual).__name__ == "TimmModel":
        # MobileCLIP's FastViT: fold the train-time branches into single convolutions.
        try:
            from timm.utils.model import reparameterize_model

            model.visual = reparameterize_model(model.visual)
        except Exception:  # noqa: BLE001 - reparameterisation is an optimisation only
            pass
        model.visual.to(memory_format=torch.channels_last)
    dtype = pick_dtype(device)
    model.to(device=device, dtype=dtype)
    return OpenClipModel(spec, model, preprocess_cfg, device, dtype)


_LOADED: OrderedDict[tuple[str, str], OpenClipModel] = OrderedDict()
_LOADED_MAX = 1  # one model in memory at a time keeps peak RSS predictable
_load_lock = threading.Lock()


def load_model(spec: str | ModelSpec, device: str | None = None) -> OpenClipModel:
    """The loaded model for ``spec`` (kept in memory for the next call)."""
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    device = pick_device(device)
    key = (str(spec), device)
    with _load_lock:
        if key in _LOADED:
            _LOADED.move_to_end(key)
            return _LOADED[key]
        while len(_LOADED) >= _LOADED_MAX:
            _LOADED.popitem(last=False)
        model = _build(spec, device)
        _LOADED[key] = model
        return model


def unload_models() -> None:
    with _load_lock:
        _LOADED.clear()
