"""Notebook views (anywidget): ``Explorer`` (alias ``Grid``) and ``EmbeddingPlot``.

Importing this module loads anywidget/ipywidgets, so ``import lightly_studio`` does not.
"""

from lightly_studio.widgets._widgets import EmbeddingPlot, Explorer, Grid

__all__ = ["EmbeddingPlot", "Explorer", "Grid"]
