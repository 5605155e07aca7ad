"""Fixtures for plugin tests: a small image dataset and the docs' example operators as files."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import polars as pl
import pytest

# The reference docs' "Hello World" operator, verbatim (greeting_operator.py).
GREETING_OPERATOR = """
from dataclasses import dataclass

from lightly_studio.plugins.base_operator import BaseOperator, OperatorResult
from lightly_studio.plugins.parameter import StringParameter


@dataclass
class GreetingOperator(BaseOperator):
    name: str = "GreetingOperator"
    description: str = "This operator greet you"

    @property
    def parameters(self):
        return [
            StringParameter(
                name="name",
                required=True,
                default="beautiful and smart person",
                description="your name"
            ),
        ]

    def execute(self, *, session, collection_id, parameters):
        your_name = parameters.get("name", "")
        return OperatorResult(success=True, message=f"Hello {your_name}!")
"""


def import_from_source(tmp_path: Path, module_name: str, source: str):
    """Write ``source`` as ``module_name``.py under tmp_path and import it (as a user would)."""
    (tmp_path / f"{module_name}.py").write_text(textwrap.dedent(source))
    if str(tmp_path) not in sys.path:
        sys.path.insert(0, str(tmp_path))
    sys.modules.pop(module_name, None)
    return importlib.import_module(module_name)


@pytest.fixture
def image_dataset(db, tmp_path):
    """An ImageDataset of three small PNGs: a.png 64x48, b.png 32x32, c.png 100x50."""
    from PIL import Image

    from lightly_studio.core.image_dataset import ImageDataset
    from lightly_studio.db import transaction
    from lightly_studio.store.samples import insert_samples

    folder = tmp_path / "images"
    folder.mkdir()
    sizes = {"a.png": (64, 48), "b.png": (32, 32), "c.png": (100, 50)}
    for i, (name, size) in enumerate(sizes.items()):
        Image.new("RGB", size, (40 * i, 80, 120)).save(folder / name)
    ds = ImageDataset.create("plugins-test")
    frame = pl.DataFrame(
        {
            "file_path_abs": [str(folder / n) for n in sizes],
            "file_name": list(sizes),
            "width": [w for w, _ in sizes.values()],
            "height": [h for _, h in sizes.values()],
        }
    )
    with transaction() as con:
        insert_samples(con, ds.dataset_id, frame)
    return ds


@pytest.fixture
def clean_registry():
    """The process-wide registry without the operators a test registered."""
    from lightly_studio.plugins.operator_registry import operator_registry

    before = {op.name: op for op in operator_registry.list()}
    yield operator_registry
    for name in operator_registry.names():
        if name not in before:
            operator_registry.unregister(name)
    for op in before.values():
        operator_registry.register(op)
