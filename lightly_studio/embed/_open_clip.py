"""Load open_clip models from a spec and run them on uint8 image batches and texts."""

from __future__ import annotations

import contextlib
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


PRECISIONS = ("fp32", "int8", "bf16", "fp16")


def pick_precision(device: str) -> str:
    """fp16 on CUDA, bf16 on CPUs where it is native, else fp32.

    ``LIGHTLY_STUDIO_EMBEDDING_PRECISION`` (fp32 | int8 | bf16 | fp16) overrides. int8 (CPU
    image tower, see _quantise) is ~1.5x faster than fp32 on CPUs without bf16 but opt-in:
    its per-batch activation scale is fragile against the outlier channels of trained CLIP
    models, and its quality on trained weights could not be measured here."""
    wanted = os.environ.get(PRECISION_ENV, "").lower()
    if wanted in PRECISIONS:
        return wanted
    if device.startswith("cuda"):
        return "fp16"
    if device == "cpu" and cpu_has_bf16():
        return "bf16"
    return "fp32"


def _torch_dtype(precision: str):
    import torch

    # int8 models take and return float32; only their image Linear layers compute in int8.
    return {"bf16": torch.bfloat16, "fp16": torch.float16}.get(precision, torch.float32)


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
            _offline_message(
                spec, "HF_HUB_OFFLINE is set and the weights are not in the local cache"
            )
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
    except Exception as exc:  # any download failure means the same to the user
        raise ModelUnavailableError(_offline_message(spec, f"the download failed ({exc})")) from exc


class OpenClipModel:
    """An open_clip model ready for inference, plus the image preprocessing it expects."""

    def __init__(
        self, spec: ModelSpec, model: Any, preprocess_cfg: dict, device: str, precision: str
    ):
        import torch

        self.spec = spec
        self.name = str(spec)
        self.model = model
        self.device = device
        self.precision = precision
        self.dtype = dtype = _torch_dtype(precision)
        size = preprocess_cfg.get("size", 224)
        self.image_size: tuple[int, int] = (size, size) if isinstance(size, int) else tuple(size)
        self.resize_mode = preprocess_cfg.get("resize_mode", "shortest")
        self.interpolation = preprocess_cfg.get("interpolation", "bicubic")
        mean = torch.tensor(preprocess_cfg.get("mean", (0.48145466, 0.4578275, 0.40821073)))
        std = torch.tensor(preprocess_cfg.get("std", (0.26862954, 0.26130258, 0.27577711)))
        # (x/255 - mean)/std as one multiply-add on the uint8 batch.
        self._scale = (1.0 / (255.0 * std)).view(1, 3, 1, 1).to(device)
        self._shift = (-mean / std).view(1, 3, 1, 1).to(device)
        self._tokenizer: Any = None  # open_clip's tokenizer (untyped), loaded on first use
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


def _create_with_weights(arch: str, path: str, quick_gelu: bool) -> Any:
    """The model with its weights memory-mapped from the checkpoint file.

    open_clip's own loader builds the model with random weights and then reads a second full
    copy from the file (measured: peak RSS 1.89 GB for ViT-B-32 against 1.34 GB after
    loading). Here the model is built on the meta device (no memory) and takes the mapped
    tensors as its parameters, so nothing is copied and pages of a tower that never runs
    (the text tower during an image ingest) are never read in. Checkpoints that need
    open_clip's conversions (other layouts, resized position embeddings) go its way.
    """
    import open_clip
    import torch

    state = _mapped_state_dict(path)
    if state is not None:
        try:
            with torch.device("meta"), _quiet_random_init_warning():
                model = open_clip.create_model(
                    arch, pretrained=None, device="meta", force_quick_gelu=quick_gelu
                )
            model.load_state_dict(state, strict=True, assign=True)
        except Exception:  # noqa: BLE001 - other key layout, or an arch that cannot build on meta
            model = None
        if model is not None and _materialise_causal_masks(model):
            return model
    return open_clip.create_model(arch, pretrained=path, force_quick_gelu=quick_gelu)


def _mapped_state_dict(path: str) -> dict | None:
    import torch

    try:
        if path.endswith(".safetensors"):
            from safetensors import safe_open

            with safe_open(path, framework="pt") as fh:  # tensors share the file's mapping
                state = {key: fh.get_tensor(key) for key in fh.keys()}  # noqa: SIM118
        else:
            state = torch.load(path, map_location="cpu", mmap=True, weights_only=True)
    except Exception:  # noqa: BLE001 - e.g. a legacy (non-zip) pickle: open_clip's loader reads it
        return None
    if isinstance(state, dict) and isinstance(state.get("state_dict"), dict):
        state = state["state_dict"]
    if not isinstance(state, dict) or not state:
        return None
    if all(key.startswith("module.") for key in state):  # saved from DistributedDataParallel
        state = {key[len("module.") :]: value for key, value in state.items()}
    return state


def _materialise_causal_masks(model: Any) -> bool:
    """Fill the buffers a checkpoint does not hold (non-persistent, still on the meta device).
    open_clip's only one is the text tower's causal mask; anything else: False."""
    import torch

    for name, buffer in list(model.named_buffers()):
        if not buffer.is_meta:
            continue
        owner_name, _, attr = name.rpartition(".")
        if attr != "attn_mask" or buffer.dim() != 2 or buffer.shape[0] != buffer.shape[1]:
            return False
        # As open_clip's build_causal_mask: -inf above the diagonal.
        mask = torch.full(tuple(buffer.shape), float("-inf"), dtype=buffer.dtype).triu_(1)
        setattr(model.get_submodule(owner_name) if owner_name else model, attr, mask)
    return True


@contextlib.contextmanager
def _quiet_random_init_warning():
    """open_clip logs "initialized randomly" for a model built without weights; ours get
    theirs right after, so the message would only mislead."""

    def keep(record: logging.LogRecord) -> bool:
        return "No pretrained weights loaded" not in record.getMessage()

    root = logging.getLogger()  # open_clip logs through the root logger
    root.addFilter(keep)
    try:
        yield
    finally:
        root.removeFilter(keep)


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
            folder = spec.weights[len("local-dir:") :]
            if not os.path.isdir(folder):
                raise ModelUnavailableError(
                    _offline_message(spec, f"folder {folder} does not exist")
                )
            model = open_clip.create_model(spec.weights)
        elif kind == "file":
            if not os.path.isfile(spec.weights):
                raise ModelUnavailableError(
                    _offline_message(spec, f"checkpoint file {spec.weights} does not exist")
                )
            model = _create_with_weights(spec.arch, spec.weights, quick_gelu=False)
        else:
            path, tag_cfg = _resolve_tag(spec)
            model = _create_with_weights(spec.arch, path, bool(tag_cfg.get("quick_gelu")))
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
    precision = pick_precision(device)
    if precision == "int8" and device != "cpu":
        precision = "fp32"  # int8 kernels are CPU-only
    model.to(device=device, dtype=_torch_dtype(precision))
    if precision == "int8":
        from lightly_studio.embed._quantise import quantise_image_tower

        if not quantise_image_tower(model):
            precision = "fp32"
    return OpenClipModel(spec, model, preprocess_cfg, device, precision)


_LOADED: OrderedDict[tuple[str, str, str], OpenClipModel] = OrderedDict()
_LOADED_MAX = 1  # one model in memory at a time keeps peak RSS predictable
_load_lock = threading.Lock()


def load_model(spec: str | ModelSpec, device: str | None = None) -> OpenClipModel:
    """The loaded model for ``spec`` (kept in memory for the next call)."""
    spec = parse_spec(spec) if isinstance(spec, str) else spec
    device = pick_device(device)
    # The precision is part of the key: setting LIGHTLY_STUDIO_EMBEDDING_PRECISION after a
    # model was loaded must give a model of that precision, not the cached one.
    key = (str(spec), device, pick_precision(device))
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
