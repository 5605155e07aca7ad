"""GroupDataset: a dataset of groups, each bundling member images under named views.

Storage (``store/groups.py``): a group is a row of ``sample`` with kind 'group', so tags,
metadata and queries work on groups as on any sample; its members are image samples of the
same dataset, linked to it under a view name by ``group_member``. Iterating the dataset or a
query of it yields ``GroupSample`` s; ``dataset.members()`` queries the member images.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from lightly_studio.core.dataset import Dataset
from lightly_studio.core.dataset_query import DatasetQuery
from lightly_studio.db import get_connection
from lightly_studio.embed._groups import compute_group_embeddings
from lightly_studio.embed._video import compute_frame_embeddings, compute_video_embeddings
from lightly_studio.errors import QueryError
from lightly_studio.export import DatasetExport
from lightly_studio.ingest.groups import add_groups_from_folders
from lightly_studio.ingest.video import DEFAULT_TARGET_FPS
from lightly_studio.query.fields import member_of_groups, member_of_view
from lightly_studio.store import groups as groups_store


class GroupDataset(Dataset):
    """A dataset of groups. Create with ``GroupDataset.create()``, fill with
    ``add_groups_from_folders``; ``for group in dataset`` yields groups, ``group["front"]``
    their members."""

    kind = "group"
    sample_kind = "group"

    def add_groups_from_folders(
        self,
        path: str | os.PathLike,
        views: Sequence[str] | None = None,
        allowed_extensions: Sequence[str] | None = None,
        target_fps: float | None = DEFAULT_TARGET_FPS,
    ) -> int:
        """Index the groups of a folder with one sub-folder per view. Returns how many groups
        were new.

        Images or videos with the same stem (file name without extension, and the folders
        between the view folder and the file) in different view folders form one group named
        by that stem; a video member gets one frame sample per ``1 / target_fps`` seconds, as
        in ``VideoDataset.add_videos_from_path``. ``views``: the view folders to read, in the order the grid shows them (default:
        every sub-folder, by name). A group whose stem lacks a file in some view is stored
        without that member, and one warning per view lists such groups. Errors, raised
        before anything is stored: a view without a folder, two files with one stem in a
        view (``a.jpg`` and ``a.png``), no images at all. Unreadable images are skipped
        with a warning; a group none of whose files can be read is not stored. Re-running
        adds the groups whose stem is new, and to stored groups the members of views they
        lack (e.g. a view folder added since); stored members are left as they are. The
        count returned is of new groups only (the log says how many members went to stored
        groups).
        """
        imported = add_groups_from_folders(self, path, views, allowed_extensions, target_fps)
        return len(imported.new_group_ids)

    @property
    def views(self) -> list[str]:
        """The dataset's view names, in view order."""
        return groups_store.view_names(get_connection(), self.dataset_id)

    def members(
        self, view: str | None = None, kind: str = "image", groups: DatasetQuery | None = None
    ) -> DatasetQuery:
        """A query over the member images (``kind="video"``: videos) of all groups, or of
        ``groups`` (a query of this dataset's groups), of ``view`` only if given."""
        if kind not in ("image", "video"):
            raise QueryError(f"Group members are 'image' or 'video' samples, got kind={kind!r}.")
        query = DatasetQuery(self, kind=kind)
        if view is not None:
            query.match(member_of_view(view))
        if groups is not None:
            if groups.dataset.dataset_id != self.dataset_id:
                raise QueryError("members(groups=...) needs a query of this dataset's groups.")
            query.match(member_of_groups(groups))
        return query

    # -- embeddings -------------------------------------------------------------------------
    def compute_embeddings(
        self, embedding_model: str | None = None, *, engine: str = "local", **options: Any
    ) -> int:
        """Embed the members that have no vector of the model yet (images as ImageDataset
        does, video members by their frames and then the mean of those), then give each group
        the mean of its members' vectors (``compute_group_embeddings``). Returns how many
        member images and frames were embedded."""
        count = super().compute_embeddings(embedding_model, engine=engine, **options)
        if self.members(kind="video").count():
            count += compute_frame_embeddings(self, embedding_model=embedding_model)
            compute_video_embeddings(self)
        self.compute_group_embeddings()
        return count

    def compute_group_embeddings(self, embedding_model_name: str | None = None) -> int:
        """Set each group's vector to the L2-normalised mean of its members' vectors, for
        every embedding model of the dataset (or the one named), e.g. after
        ``add_embeddings`` on the members. Text search, ``sort_by_similarity`` and "Find
        similar" then rank groups. Returns how many group vectors were stored."""
        names = None if embedding_model_name is None else [embedding_model_name]
        return compute_group_embeddings(self, model_names=names)

    def export(self, query: DatasetQuery | None = None) -> DatasetExport:
        """Exporter of the member images (with their annotations): of every group, of the
        groups of ``query`` (a query of groups, e.g. the group grid's filter), or of
        ``query`` itself when it is a query of members (``dataset.members(...)``). A group
        has no file of its own, so the formats write its members' files."""
        if query is None:
            return DatasetExport(self, self.members())
        if query.kind == "group":
            return DatasetExport(self, self.members(groups=query))
        return DatasetExport(self, query)
