"""lightly_studio: curate, search, annotate, select and export image and video datasets.

Importing this package is cheap: heavy parts (torch, open_clip, jupyter widgets, the server)
are loaded on first use, and no database is opened until a dataset is created or loaded.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it; resolved on first attribute access (PEP 562).
_LAZY = {
    "ImageDataset": "lightly_studio.core.image_dataset",
    "VideoDataset": "lightly_studio.core.video_dataset",
    "GroupDataset": "lightly_studio.core.group_dataset",
    "AnnotationType": "lightly_studio.core.annotation",
    "start_gui": "lightly_studio.server",
    "stop_gui": "lightly_studio.server",
    "Explorer": "lightly_studio.widgets",
    "EmbeddingPlot": "lightly_studio.widgets",
    "Annotator": "lightly_studio.widgets",
    "EmbeddingModel": "lightly_studio.embed.models",
    "register_embedding_model": "lightly_studio.embed.models",
    "open_published": "lightly_studio.core.published",
}
_SUBMODULES = {
    "db_manager",
    "utils",
    "widgets",
    "dataset",
    "core",
    "selection",
    "plugins",
    "errors",
    "embed",
    "export",
    "api",
    "server",
}

__all__ = [
    "AnnotationType",
    "Annotator",
    "EmbeddingModel",
    "EmbeddingPlot",
    "Explorer",
    "GroupDataset",
    "ImageDataset",
    "VideoDataset",
    "db_manager",
    "open_published",
    "register_embedding_model",
    "start_gui",
    "stop_gui",
    "utils",
]

if TYPE_CHECKING:
    from lightly_studio.core.annotation import AnnotationType
    from lightly_studio.core.group_dataset import GroupDataset
    from lightly_studio.core.image_dataset import ImageDataset
    from lightly_studio.core.published import open_published
    from lightly_studio.core.video_dataset import VideoDataset
    from lightly_studio.server import start_gui, stop_gui


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
        globals()[name] = value
        return value
    if name in _SUBMODULES:
        return importlib.import_module(f"lightly_studio.{name}")
    raise AttributeError(f"module 'lightly_studio' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | _SUBMODULES)
