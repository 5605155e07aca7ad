"""No network: fail fast with one clear message, never a long hang."""

from __future__ import annotations

import time

import pytest

from lightly_studio.embed import _offline
from lightly_studio.embed._open_clip import ModelUnavailableError, load_model
from lightly_studio.errors import EmbeddingError


def test_hf_hub_offline_fails_at_once_and_says_how_to_give_weights(monkeypatch, tmp_path):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path))  # an empty cache
    start = time.perf_counter()
    with pytest.raises(ModelUnavailableError) as info:
        load_model("open_clip:ViT-B-32:laion2b_s34b_b79k")
    # The hang this guards against is a hub lookup of ~47 s; the bound leaves room for the
    # first import of open_clip on a busy 2-core machine (seconds), not for a lookup.
    assert time.perf_counter() - start < 20
    message = str(info.value)
    assert "HF_HUB_OFFLINE" in message
    assert "local-dir:" in message and "checkpoint" in message and "compute_embeddings" in message


def test_an_unreachable_hub_is_detected_within_the_connect_timeout(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.setenv("HF_ENDPOINT", "http://127.0.0.1:9")  # discard port: refused at once
    for name in (
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)
    start = time.perf_counter()
    with pytest.raises(ModelUnavailableError, match="no network connection"):
        load_model("open_clip:ViT-B-32:laion2b_s34b_b79k")
    assert time.perf_counter() - start < _offline.CONNECT_TIMEOUT_S + 1


def test_a_hanging_lookup_is_abandoned_after_the_timeout(monkeypatch):
    def hang(*args, **kwargs):
        time.sleep(5)
        raise OSError("timed out")

    monkeypatch.setattr(_offline.socket, "create_connection", hang)
    start = time.perf_counter()
    assert _offline.reachable("https://huggingface.co", timeout=0.2) is False
    assert time.perf_counter() - start < 3  # the lookup itself would take 5 s


def test_missing_checkpoint_files_and_unknown_tags_are_reported(tmp_path):
    with pytest.raises(ModelUnavailableError, match="does not exist"):
        load_model(f"open_clip:ViT-S-32:{tmp_path / 'missing.safetensors'}")
    with pytest.raises(EmbeddingError, match="neither a pretrained tag"):
        load_model("open_clip:ViT-S-32:no_such_tag")
    with pytest.raises(EmbeddingError, match="no architecture"):
        load_model("open_clip:ViT-Q-99:random")
