"""Helpers for getting started: the example datasets."""

from lightly_studio.utils._example_data import download_example_dataset

__all__ = ["download_example_dataset"]
