"""Importing groups from a folder layout: one sub-folder per view, one group per file stem.

Members are images or videos (a video is stored as VideoDataset stores it: a video sample
with its sampled frames).

    root/front/0001.jpg  root/rear/0001.jpg   -> group "0001" with views front and rear
    root/front/0002.jpg                       -> group "0002" with view front only (warning)

Files in nested folders keep their relative path in the stem (``front/day/0001.jpg`` and
``rear/day/0001.png`` form group ``day/0001``).
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import polars as pl

from lightly_studio.db import get_connection, transaction
from lightly_studio.errors import IngestError
from lightly_studio.ingest.files import (
    IMAGE_EXTENSIONS,
    is_remote,
    list_files,
    normalize_extensions,
    read_sizes,
    report_skipped,
)
from lightly_studio.ingest.video import (
    DEFAULT_TARGET_FPS,
    DEFAULT_VIDEO_EXTENSIONS,
    probe_videos,
    store_probes,
)
from lightly_studio.store import groups as groups_store
from lightly_studio.store.samples import insert_samples

logger = logging.getLogger("lightly_studio")

_WARN_EXAMPLES = 5


@dataclass
class GroupImport:
    """What an import stored: the ids (str) of the new groups, and how many members it
    added to groups stored before (views they lacked)."""

    new_group_ids: list[str]
    members_added_to_stored_groups: int


def add_groups_from_folders(
    dataset: Any,
    path: str | os.PathLike,
    views: Sequence[str] | None = None,
    allowed_extensions: Sequence[str] | None = None,
    target_fps: float | None = DEFAULT_TARGET_FPS,
) -> GroupImport:
    """Index the groups below ``path``; see GroupDataset.add_groups_from_folders. Nothing is
    stored when an error is raised."""
    root = _local_folder(path)
    views = _pick_views(root, views)
    extensions = normalize_extensions(
        allowed_extensions, IMAGE_EXTENSIONS + DEFAULT_VIDEO_EXTENSIONS
    )

    files: dict[str, dict[str, str]] = {}  # view -> stem -> path
    skipped: list[tuple[str, str]] = []
    for view in views:
        listing = list_files(os.path.join(root, view), extensions)
        skipped.extend(listing.skipped)
        files[view] = _by_stem(listing.root, listing.paths, view)
    stems = sorted(set().union(*(set(by_stem) for by_stem in files.values())))
    if not stems:
        raise IngestError(
            f"No images or videos with extensions {', '.join(extensions)} in the view folders "
            f"{', '.join(views)} of {root}."
        )
    _warn_missing(root, views, files, stems)

    con = get_connection()
    existing = groups_store.stored_groups(con, dataset.dataset_id, [_key(root, s) for s in stems])
    linked = groups_store.member_views(con, list(existing.values()))
    # Every file of a new group, and the files of stored groups in views they lack (e.g. a
    # view folder added since the last import); stored members are left as they are.
    member_rows = [
        (view, stem, files[view][stem])
        for stem in stems
        for view in views
        if stem in files[view] and (existing.get(_key(root, stem)), view) not in linked
    ]
    if not member_rows:
        return GroupImport([], 0)
    image_rows = [r for r in member_rows if not _is_video(r[2])]
    video_rows = [r for r in member_rows if _is_video(r[2])]
    image_paths = [p for _, _, p in image_rows]
    sizes = read_sizes(image_paths)
    failed = [(p, s) for p, s in zip(image_paths, sizes, strict=True) if isinstance(s, str)]
    probes, video_failures = probe_videos([p for _, _, p in video_rows]) if video_rows else ([], [])
    failed.extend(video_failures)
    images = {p: s for p, s in zip(image_paths, sizes, strict=True) if isinstance(s, tuple)}
    probed = {probe.file_path_abs for probe in probes}
    good = [r for r in member_rows if r[2] in images or r[2] in probed]
    report_skipped(
        skipped + failed,
        total=len(member_rows) + len(skipped),
        root=root,
        kind="member",
        nothing_indexed=not good,
    )
    image_frame = pl.DataFrame(
        {
            "file_path_abs": list(images),
            "file_name": [os.path.basename(p) for p in images],
            "width": [s[0] for s in images.values()],
            "height": [s[1] for s in images.values()],
        },
        schema={
            "file_path_abs": pl.Utf8,
            "file_name": pl.Utf8,
            "width": pl.Int32,
            "height": pl.Int32,
        },
    )
    links = pl.DataFrame(
        {
            "group_key": [_key(root, stem) for _, stem, _ in good],
            "view_name": [view for view, _, _ in good],
            "file_path_abs": [p for _, _, p in good],
        },
        schema={"group_key": pl.Utf8, "view_name": pl.Utf8, "file_path_abs": pl.Utf8},
    )
    # A group is stored only with a readable member: one whose every file failed is left
    # for a later run (it is listed in the warning above).
    new_stems = sorted({stem for _, stem, _ in good if _key(root, stem) not in existing})
    groups = pl.DataFrame(
        {"group_key": [_key(root, s) for s in new_stems], "name": new_stems},
        schema={"group_key": pl.Utf8, "name": pl.Utf8},
    )
    # One transaction: the members (videos with their sampled frames, as VideoDataset stores
    # them), the groups and their links are stored together or not at all.
    with transaction() as tx:
        groups_store.add_views(tx, dataset.dataset_id, views)
        insert_samples(tx, dataset.dataset_id, image_frame)
        store_probes(dataset.dataset_id, probes, target_fps)
        member_ids = groups_store.member_ids_by_path(
            tx, dataset.dataset_id, links["file_path_abs"].to_list()
        )
        created = groups_store.insert_groups(tx, dataset.dataset_id, groups)
        stored_ids = pl.DataFrame(
            {"group_key": list(existing), "group_sample_id": list(existing.values())},
            schema={"group_key": pl.Utf8, "group_sample_id": pl.Utf8},
        )
        group_ids = pl.concat([created.select("group_key", "group_sample_id"), stored_ids])
        groups_store.link_members(
            tx,
            dataset.dataset_id,
            links.join(member_ids, on="file_path_abs")
            .join(group_ids, on="group_key")
            .select("group_sample_id", pl.col("sample_id").alias("member_sample_id"), "view_name"),
        )
    new_ids = created.filter(pl.col("is_new"))["group_sample_id"].to_list()
    added_to_existing = links.filter(pl.col("group_key").is_in(list(existing))).height
    logger.info(
        "Indexed %d new groups below %s; %d members added to stored groups.",
        len(new_ids),
        root,
        added_to_existing,
    )
    return GroupImport(new_ids, added_to_existing)


def _local_folder(path: str | os.PathLike) -> str:
    text = str(path)
    if is_remote(text):
        raise IngestError(f"Groups are imported from a local folder; {text} is remote.")
    root = os.path.abspath(os.path.expanduser(text))
    if not os.path.isdir(root):
        raise IngestError(f"Not a folder: {root} (expected one sub-folder per view).")
    return root


def _pick_views(root: str, views: Sequence[str] | None) -> list[str]:
    """The view folders to read, in view order: ``views`` as given, or every sub-folder of
    ``root`` by name. A view without a folder is an error (a typo would otherwise import
    groups that silently lack that view)."""
    folders = sorted(
        entry.name
        for entry in os.scandir(root)
        if entry.is_dir() and not entry.name.startswith(".")
    )
    if views is None:
        if not folders:
            raise IngestError(f"{root} has no sub-folders; groups need one sub-folder per view.")
        return folders
    if isinstance(views, str) or not all(isinstance(v, str) and v for v in views):
        raise IngestError(f"views must be a list of folder names, got {views!r}.")
    if len(set(views)) != len(views):
        raise IngestError(f"views names a folder twice: {list(views)!r}.")
    unknown = [v for v in views if v not in folders]
    if unknown:
        raise IngestError(
            f"Unknown view {unknown[0]!r}: {root} has no sub-folder of that name "
            f"(sub-folders: {', '.join(folders) or 'none'})."
        )
    return list(views)


def _by_stem(view_root: str, paths: list[str], view: str) -> dict[str, str]:
    """Stem (path below the view folder without extension, '/'-separated) -> file. Two files
    with one stem (``a.jpg`` and ``a.png``) would be two members for one view of one group:
    an error naming both."""
    found: dict[str, str] = {}
    for path in paths:
        relative = os.path.relpath(path, view_root).replace(os.sep, "/")
        stem = os.path.splitext(relative)[0]
        if stem in found:
            raise IngestError(
                f"Duplicate stem {stem!r} in view {view!r}: {found[stem]} and {path} would both "
                "be that group's member; rename or remove one."
            )
        found[stem] = path
    return found


def _warn_missing(
    root: str, views: list[str], files: dict[str, dict[str, str]], stems: list[str]
) -> None:
    """One warning per view that lacks some groups' files: those groups are stored without
    a member in that view."""
    for view in views:
        missing = [s for s in stems if s not in files[view]]
        if not missing:
            continue
        examples = ", ".join(repr(s) for s in missing[:_WARN_EXAMPLES])
        more = f" and {len(missing) - _WARN_EXAMPLES} more" if len(missing) > _WARN_EXAMPLES else ""
        warnings.warn(
            f"{len(missing)} of {len(stems)} groups below {root} have no file in view "
            f"{view!r} ({examples}{more}); they are stored without a {view!r} member.",
            UserWarning,
            stacklevel=4,
        )


def _is_video(path: str) -> bool:
    return path.lower().endswith(DEFAULT_VIDEO_EXTENSIONS)


def _key(root: str, stem: str) -> str:
    return f"{root}/{stem}"
