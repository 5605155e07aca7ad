"""Edits of many annotations at once (the Annotations view and Python): relabel, delete, and
tag their samples. Each runs in one transaction and is undoable (``core/undo.py``)."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from lightly_studio.core import undo
from lightly_studio.db import transaction
from lightly_studio.errors import AnnotationError
from lightly_studio.store import annotation_batch as batch
from lightly_studio.store import tags as tags_store
from lightly_studio.store.labels import get_or_create_label_ids


def _checked_ids(tx, dataset_id: uuid.UUID | str, annotation_ids: Sequence[object]) -> list[str]:
    """The ids as strings, each an annotation of this dataset (else AnnotationError naming
    the first one that is not)."""
    ids = list(dict.fromkeys(str(i) for i in annotation_ids))
    if not ids:
        raise AnnotationError("No annotations given.")
    found = batch.annotations_of_dataset(tx, dataset_id, ids)
    if found.height != len(ids):
        missing = sorted(set(ids) - set(found["annotation_id"].to_list()))
        raise AnnotationError(
            f"Annotation {missing[0]} is not in this dataset (deleted?)"
            + (f"; {len(missing)} of the {len(ids)} given are not" if len(missing) > 1 else "")
            + ". Nothing was changed."
        )
    return ids


def relabel(dataset_id: uuid.UUID | str, annotation_ids: Sequence[object], label: object) -> int:
    """Give the annotations the class ``label`` (created when new). Returns how many changed."""
    if not isinstance(label, str) or not label.strip():
        raise AnnotationError(f"A label must be a non-empty string, got {label!r}.")
    with transaction() as tx:
        ids = _checked_ids(tx, dataset_id, annotation_ids)
        label_id = get_or_create_label_ids(tx, dataset_id, [label])[label]
        before = batch.relabel_annotations(tx, ids, label_id)
    if before.height:
        undo.push(
            dataset_id,
            f"relabel {before.height} annotation(s) as {label!r}",
            lambda con: batch.restore_labels(con, before),
        )
    return before.height


def delete(dataset_id: uuid.UUID | str, annotation_ids: Sequence[object]) -> int:
    """Delete the annotations. Returns how many were deleted."""
    with transaction() as tx:
        ids = _checked_ids(tx, dataset_id, annotation_ids)
        rows = batch.delete_annotations(tx, ids)
    undo.push(
        dataset_id,
        f"delete {rows.height} annotation(s)",
        lambda con: batch.restore_annotation_rows(con, rows),
    )
    return rows.height


def tag_samples(dataset_id: uuid.UUID | str, annotation_ids: Sequence[object], tag: str) -> int:
    """Add the sample tag ``tag`` to the samples of the annotations. Returns how many samples
    got it (those that had it already are not counted, and an undo leaves them tagged)."""
    tags_store.validate_tag_name(tag)
    with transaction() as tx:
        ids = _checked_ids(tx, dataset_id, annotation_ids)
        samples = batch.annotations_of_dataset(tx, dataset_id, ids)["sample_id"].unique()
        existed = tags_store.get_tag_id(tx, dataset_id, tag) is not None
        added = tags_store.untagged_among(tx, dataset_id, tag, samples)
        tags_store.tag_sample_ids(tx, dataset_id, tag, added)

    def revert(con: object) -> int:
        n = tags_store.untag_sample_ids(con, dataset_id, tag, added)
        tag_id = tags_store.get_tag_id(con, dataset_id, tag)
        if (
            not existed
            and tag_id is not None
            and tags_store.tagged_count(con, dataset_id, tag) == 0
        ):
            tags_store.delete_tag(con, dataset_id, tag)
        return n

    undo.push(dataset_id, f"tag {len(added)} sample(s) {tag!r}", revert)
    return len(added)


def rename_tag(dataset_id: uuid.UUID | str, old: str, new: str) -> int:
    """Rename a sample tag (undoable). Returns how many samples carry it."""
    count = tags_store.rename_tag(None, dataset_id, old, new)
    if old != new:
        undo.push(
            dataset_id,
            f"rename tag {old!r} to {new!r}",
            lambda con: _rename_back(con, dataset_id, new, old),
        )
    return count


def _rename_back(con: object, dataset_id: uuid.UUID | str, new: str, old: str) -> int:
    return tags_store.rename_tag(con, dataset_id, new, old)


def delete_tag(dataset_id: uuid.UUID | str, name: str) -> int:
    """Delete a sample tag (undoable: the tag comes back on the same samples). Returns how
    many samples carried it."""
    with transaction() as tx:
        snapshot = tags_store.tag_snapshot(tx, dataset_id, name)
        count = tags_store.delete_tag(tx, dataset_id, name)
    if snapshot is not None:
        undo.push(
            dataset_id,
            f"delete tag {name!r} ({count} sample(s))",
            lambda con: tags_store.restore_tag(con, dataset_id, snapshot),
        )
    return count
