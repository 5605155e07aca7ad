"""Model spec strings and how the model is chosen."""

from __future__ import annotations

import pytest

from lightly_studio.embed._spec import DEFAULT_MODEL_SPEC, parse_spec, resolve_spec
from lightly_studio.errors import EmbeddingError


def test_a_pretrained_tag_is_kept_as_given():
    spec = parse_spec("open_clip:ViT-B-32:laion2b_s34b_b79k")
    assert (spec.arch, spec.weights, spec.kind) == ("ViT-B-32", "laion2b_s34b_b79k", "tag")
    assert str(spec) == "open_clip:ViT-B-32:laion2b_s34b_b79k"


def test_checkpoint_paths_and_local_dirs_become_absolute(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    file_spec = parse_spec("open_clip:ViT-B-32:weights/model.safetensors")
    assert file_spec.kind == "file"
    assert file_spec.weights == str(tmp_path / "weights" / "model.safetensors")
    dir_spec = parse_spec("open_clip:ViT-B-32:local-dir:export")
    assert dir_spec.kind == "local-dir"
    assert dir_spec.weights == f"local-dir:{tmp_path / 'export'}"


def test_random_weights_are_a_kind_of_their_own():
    assert parse_spec("open_clip:ViT-S-32:random").kind == "random"


@pytest.mark.parametrize(
    "bad", ["ViT-B-32", "open_clip:ViT-B-32", "open_clip::random", "timm:resnet50:a1"]
)
def test_malformed_specs_say_what_the_format_is(bad):
    with pytest.raises(EmbeddingError, match="open_clip"):
        parse_spec(bad)


def test_argument_beats_environment_beats_default(monkeypatch):
    monkeypatch.setenv("LIGHTLY_STUDIO_EMBEDDING_MODEL", "open_clip:ViT-S-32:random")
    assert resolve_spec("open_clip:RN50:openai") == "open_clip:RN50:openai"
    assert resolve_spec(None) == "open_clip:ViT-S-32:random"
    monkeypatch.delenv("LIGHTLY_STUDIO_EMBEDDING_MODEL")
    assert resolve_spec(None) == DEFAULT_MODEL_SPEC
