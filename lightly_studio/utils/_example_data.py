"""Download (or copy) the reference product's example datasets."""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import urllib.request
import zipfile
from pathlib import Path

from lightly_studio.errors import ExampleDataError

logger = logging.getLogger("lightly_studio")

EXAMPLE_DATA_URL = "https://github.com/lightly-ai/dataset_examples/archive/refs/heads/main.zip"
ENV_LOCAL_COPY = "LIGHTLY_STUDIO_EXAMPLE_DATA"
ENV_URL = "LIGHTLY_STUDIO_EXAMPLE_DATA_URL"


def download_example_dataset(
    download_dir: str = "dataset_examples", force_redownload: bool = False
) -> str:
    """Fetch the example datasets into ``download_dir`` and return its absolute path.

    Skipped when the folder already has content (unless ``force_redownload``). When the
    environment variable LIGHTLY_STUDIO_EXAMPLE_DATA names a local folder, it is copied from
    there instead of downloaded (offline machines, CI).
    """
    target = Path(download_dir).expanduser().resolve()
    if target.is_dir() and any(target.iterdir()) and not force_redownload:
        logger.info("Example data already present in %s.", target)
        return str(target)
    if target.exists():
        shutil.rmtree(target)
    local = os.environ.get(ENV_LOCAL_COPY)
    if local:
        source = Path(local).expanduser()
        if not source.is_dir():
            raise ExampleDataError(f"{ENV_LOCAL_COPY}={local} is not a folder.")
        # copyfile, not copy2: the source may be read-only and we want a writable copy.
        shutil.copytree(source, target, copy_function=shutil.copyfile)
        return str(target)
    url = os.environ.get(ENV_URL, EXAMPLE_DATA_URL)
    try:
        _download_and_unpack(url, target)
    except (OSError, zipfile.BadZipFile) as exc:  # URLError and timeouts are OSErrors
        reason = getattr(exc, "reason", None) or exc
        raise ExampleDataError(
            f"Could not download the example data from {url} ({reason}). Offline? Point "
            f"{ENV_LOCAL_COPY} at a local copy of github.com/lightly-ai/dataset_examples, e.g. "
            f"`{ENV_LOCAL_COPY}=/path/to/dataset_examples make demo`."
        ) from None
    return str(target)


def _download_and_unpack(url: str, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        archive = Path(tmp) / "examples.zip"
        logger.info("Downloading example data from %s", url)
        with urllib.request.urlopen(url, timeout=60) as response, open(archive, "wb") as out:
            shutil.copyfileobj(response, out)
        unpacked = Path(tmp) / "unpacked"
        with zipfile.ZipFile(archive) as zf:
            for member in zf.namelist():
                # Refuse members that would land outside the target (zip slip).
                if not (unpacked / member).resolve().is_relative_to(unpacked.resolve()):
                    raise ValueError(f"Unsafe path in example archive: {member}")
            zf.extractall(unpacked)
        entries = list(unpacked.iterdir())
        # GitHub archives wrap everything in one top folder (repo-branch/).
        source = entries[0] if len(entries) == 1 and entries[0].is_dir() else unpacked
        shutil.move(str(source), str(target))
