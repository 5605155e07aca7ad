"""Notebook views (anywidget): ``Explorer`` (alias ``Grid``), ``EmbeddingPlot``, ``Annotator``.

Importing this module loads anywidget/ipywidgets, so ``import lightly_studio`` does not.
"""

from lightly_studio.widgets._annotator import Annotator
from lightly_studio.widgets._widgets import EmbeddingPlot, Explorer, Grid, show

__all__ = ["Annotator", "EmbeddingPlot", "Explorer", "Grid", "show"]
