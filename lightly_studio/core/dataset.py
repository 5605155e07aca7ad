"""Dataset: a named collection of samples in the database file, and its entry points."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any, ClassVar

from lightly_studio import embed as _embed  # a lazy package: torch loads on first use
from lightly_studio.classifier import FewShotClassifier, find_classifier
from lightly_studio.core import annotation_edits
from lightly_studio.core import undo as _undo
from lightly_studio.core.dataset_query import DatasetQuery
from lightly_studio.core.sample import SAMPLE_CLASS_BY_KIND
from lightly_studio.db import db_file, get_connection, transaction
from lightly_studio.errors import DatasetExistsError, DatasetNotFoundError
from lightly_studio.evaluation import Evaluation, EvaluationResult
from lightly_studio.evaluation import delete_evaluation_run as _delete_evaluation_run
from lightly_studio.evaluation import evaluation_run as _evaluation_run
from lightly_studio.evaluation import evaluation_runs as _evaluation_runs
from lightly_studio.export import DatasetExport
from lightly_studio.quality import annotation_issues, compute_label_issues
from lightly_studio.selection.selection import find_duplicates
from lightly_studio.store import datasets as datasets_store
from lightly_studio.store import metadata as metadata_store
from lightly_studio.store import samples as samples_store
from lightly_studio.store import tags as tags_store
from lightly_studio.store._ids import as_uuid

if TYPE_CHECKING:
    import numpy as np
    import polars as pl
    from typing_extensions import Self  # typing.Self from Python 3.11

    from lightly_studio.core.dataset_query import MatchExpression
    from lightly_studio.core.sample import Sample

logger = logging.getLogger("lightly_studio")

DEFAULT_DATASET_NAME = "default_dataset"
# The façade class that opens a dataset of each kind (for error messages).
_CLASS_OF_KIND = {"image": "ImageDataset", "video": "VideoDataset", "group": "GroupDataset"}


class Dataset:
    """Base of ImageDataset and VideoDataset: everything that does not depend on media kind."""

    kind: ClassVar[str] = "image"  # dataset.kind in the DB
    sample_kind: ClassVar[str] = "image"  # kind of the samples a plain query returns

    def __init__(self, dataset_id: uuid.UUID, name: str) -> None:
        self.dataset_id = as_uuid(dataset_id)
        self.name = name

    # -- creating and loading -------------------------------------------------------------------
    @classmethod
    def create(cls, name: str | None = None) -> Self:
        """Create a new, empty dataset. Raises if a dataset of that name exists."""
        name = DEFAULT_DATASET_NAME if name is None else name
        if not isinstance(name, str) or not name.strip():
            raise ValueError(f"A dataset name must be a non-empty string, got {name!r}.")
        with transaction() as con:
            if datasets_store.find_by_name(con, name) is not None:
                raise DatasetExistsError(
                    f"A dataset named {name!r} already exists in this database. Use "
                    f"{cls.__name__}.load({name!r}) or load_or_create() to reuse it, or pick "
                    "another name."
                )
            dataset_id = datasets_store.insert_dataset(con, name, cls.kind)
        return cls(dataset_id, name)

    @classmethod
    def load(cls, name: str | None = None) -> Self:
        """Load an existing dataset by name.

        Without a name: the default dataset, or the only dataset of this kind in the file.
        """
        con = get_connection()
        if name is None:
            row = datasets_store.find_by_name(con, DEFAULT_DATASET_NAME)
            if row is None:
                rows = datasets_store.of_kind(con, cls.kind)
                if len(rows) == 1:
                    row = rows[0]
                else:
                    names = ", ".join(repr(r[1]) for r in rows) or "none"
                    raise DatasetNotFoundError(
                        f"No dataset name given and no single {cls.kind} dataset to pick "
                        f"(datasets: {names}). Pass a name."
                    )
        else:
            row = datasets_store.find_by_name(con, name)
            if row is None:
                names = ", ".join(repr(n) for n in datasets_store.names(con)) or "none"
                raise DatasetNotFoundError(
                    f"No dataset named {name!r} in {db_file()} (datasets: {names}). "
                    f"Create it with {cls.__name__}.create({name!r}) or load_or_create()."
                )
        dataset_id, found_name, kind = row
        if kind != cls.kind:
            raise DatasetNotFoundError(
                f"Dataset {found_name!r} holds {kind}s; open it with the matching class "
                f"({_CLASS_OF_KIND.get(kind, 'ImageDataset')})."
            )
        return cls(dataset_id, found_name)

    @classmethod
    def load_or_create(cls, name: str | None = None) -> Self:
        """Load the dataset if it exists, else create it."""
        try:
            return cls.load(name if name is not None else DEFAULT_DATASET_NAME)
        except DatasetNotFoundError:
            if (
                datasets_store.find_by_name(get_connection(), name or DEFAULT_DATASET_NAME)
                is not None
            ):
                raise
            return cls.create(name)

    @staticmethod
    def from_id(dataset_id: uuid.UUID) -> Dataset:
        """The dataset with this id, as an instance of the class matching its kind."""
        row = datasets_store.find_by_id(get_connection(), dataset_id)
        if row is None:
            raise DatasetNotFoundError(f"No dataset with id {dataset_id}.")
        # lazy: cycle, the subclass modules import this one
        if row[1] == "video":
            from lightly_studio.core.video_dataset import VideoDataset

            return VideoDataset(dataset_id, row[0])
        if row[1] == "group":
            from lightly_studio.core.group_dataset import GroupDataset

            return GroupDataset(dataset_id, row[0])
        from lightly_studio.core.image_dataset import ImageDataset

        return ImageDataset(dataset_id, row[0])

    @staticmethod
    def list_names() -> list[str]:
        """Names of all datasets in the database file."""
        return datasets_store.names(get_connection())

    # -- samples -----------------------------------------------------------------------------------
    def query(self) -> DatasetQuery:
        """A fresh query over all samples of the dataset."""
        return DatasetQuery(self)

    def match(self, expression: MatchExpression) -> DatasetQuery:
        """A query of the samples for which ``expression`` holds."""
        return self.query().match(expression)

    def match_text(self, text: str) -> DatasetQuery:
        """A query of the samples the text query ``text`` matches, e.g.
        ``dataset.match_text('width >= 640 OR NOT "reviewed" IN tags')`` (see docs/queries.md).
        Raises ``QueryTextError`` (line, column, offset) when ``text`` is not a query."""
        return self.query().match_text(text)

    def __iter__(self) -> Iterator[Sample]:
        return iter(self.query())

    def __len__(self) -> int:
        return self.query().count()

    def __getitem__(self, key: slice | int) -> Any:
        return self.query()[key]

    def get_sample(self, sample_id: uuid.UUID | str) -> Sample:
        """The sample with this id; KeyError when the dataset has none."""
        record = samples_store.sample_row(get_connection(), self.dataset_id, sample_id)
        if record is None:
            raise KeyError(f"No sample {sample_id} in dataset {self.name!r}.")
        return SAMPLE_CLASS_BY_KIND[record["kind"]](record)

    def sort_by_similarity(
        self,
        text: str | None = None,
        samples: list | None = None,
        k: int | None = None,
        embedding_model_name: str | None = None,
    ) -> DatasetQuery:
        """All samples ordered by similarity to a text or example samples (see DatasetQuery)."""
        return self.query().sort_by_similarity(
            text=text, samples=samples, k=k, embedding_model_name=embedding_model_name
        )

    @property
    def tags(self) -> list[str]:
        """Names of the dataset's sample tags."""
        return tags_store.list_tags(get_connection(), self.dataset_id)["name"].to_list()

    def rename_tag(self, old: str, new: str) -> int:
        """Rename the sample tag ``old`` to ``new``; its samples keep it. Returns how many
        samples carry it. Fails (changing nothing) when ``old`` is not a tag or ``new`` is one.
        Undoable with ``undo()``."""
        return annotation_edits.rename_tag(self.dataset_id, old, new)

    def delete_tag(self, name: str) -> int:
        """Take the sample tag ``name`` off every sample and delete it (one transaction).
        Returns how many samples carried it. Undoable with ``undo()``: the tag comes back on
        the same samples."""
        return annotation_edits.delete_tag(self.dataset_id, name)

    # -- many annotations at once, and undo -----------------------------------------------------

    def relabel_annotations(self, annotation_ids: list, label: str) -> int:
        """Give these annotations the class ``label`` in one transaction (undoable). Returns
        how many changed; fails, changing nothing, when an id is not in this dataset."""
        return annotation_edits.relabel(self.dataset_id, annotation_ids, label)

    def delete_annotations(self, annotation_ids: list) -> int:
        """Delete these annotations in one transaction (undoable). Returns how many."""
        return annotation_edits.delete(self.dataset_id, annotation_ids)

    def tag_annotation_samples(self, annotation_ids: list, tag: str) -> int:
        """Tag the samples of these annotations with ``tag`` (undoable). Returns how many
        samples got the tag."""
        return annotation_edits.tag_samples(self.dataset_id, annotation_ids, tag)

    def undo(self) -> str:
        """Revert the newest undoable edit of this dataset (bulk relabel / delete / tag,
        tag rename or delete; from Python or a view of this process) in one transaction.
        Returns what was undone, e.g. "relabel 3 annotation(s) as 'dog'";
        LightlyStudioError when there is nothing to undo. The history lives in memory."""
        description, _ = _undo.undo(self.dataset_id)
        return description

    @property
    def last_undoable(self) -> str | None:
        """What ``undo()`` would revert now (None: nothing)."""
        return _undo.last(self.dataset_id)

    @property
    def metadata_keys(self) -> dict[str, str]:
        """Metadata keys of the dataset and the value type each holds."""
        return metadata_store.metadata_keys(get_connection(), self.dataset_id)

    # -- export ---------------------------------------------------------------------------------
    def publish(self, url: str, storage_options: dict | None = None) -> str:
        """Write this dataset (rows, annotations, embeddings) as Parquet plus a manifest to any
        fsspec URL, for ``lightly_studio.open_published(url)`` to open read-only anywhere."""
        from lightly_studio.core.published import publish

        return publish(self, url, storage_options)

    def export(self, query: DatasetQuery | None = None):
        """Exporter for the whole dataset or a query of it: COCO, YOLO, captions, CSV."""
        return DatasetExport(self, query if query is not None else self.query())

    # -- embeddings -----------------------------------------------------------------------------
    def compute_embeddings(
        self,
        embedding_model: str | None = None,
        *,
        engine: str = "local",
        ray_address: str | None = None,
        num_workers: int | None = None,
        num_gpus_per_worker: float = 0.0,
        batch_size: int | None = None,
        shard_dir: str | None = None,
    ) -> int:
        """Embed every sample that has no embedding for the model yet. Returns how many.

        ``engine="ray"`` spreads the work over a Ray cluster (``ray_address``, or a local
        one; docs/scaling.md); the vectors are the local path's."""
        return _embed.compute_embeddings(
            self,
            embedding_model=embedding_model,
            engine=engine,
            ray_address=ray_address,
            num_workers=num_workers,
            num_gpus_per_worker=num_gpus_per_worker,
            batch_size=batch_size,
            shard_dir=shard_dir,
        )

    @property
    def embedding_models(self) -> list[str]:
        """Names of the embedding models with vectors in this dataset."""
        return _embed.embedding_model_names(self)

    def add_embeddings(self, name: str, sample_ids: list, vectors: np.ndarray | Any) -> None:
        """Store your own vectors (numpy or torch, one row per sample id) under ``name``."""
        _embed.add_embeddings(self, name, sample_ids, vectors)

    def compute_typicality_metadata(
        self, metadata_name: str = "typicality", embedding_model_name: str | None = None, **kwargs
    ) -> str:
        """Store each sample's typicality (mean similarity to its nearest neighbours)."""
        return _embed.compute_typicality_metadata(
            self, metadata_name=metadata_name, embedding_model_name=embedding_model_name, **kwargs
        )

    def compute_similarity_metadata(
        self,
        query_tag_name: str,
        metadata_name: str | None = None,
        embedding_model_name: str | None = None,
    ) -> str:
        """Store each sample's max similarity to the samples tagged ``query_tag_name``."""
        return _embed.compute_similarity_metadata(
            self,
            query_tag_name,
            metadata_name=metadata_name,
            embedding_model_name=embedding_model_name,
        )

    def compute_projection(
        self, embedding_model_name: str | None = None, recompute: bool = False
    ) -> pl.DataFrame:
        """2-D PaCMAP coordinates of the embedded samples (cached in the DB)."""
        return _embed.compute_projection(
            self, embedding_model_name=embedding_model_name, recompute=recompute
        )

    def find_duplicates(self, threshold: float, embedding_model_name: str | None = None):
        """Groups of near-duplicate samples (cosine distance below ``threshold``)."""
        return find_duplicates(self, threshold, embedding_model_name=embedding_model_name)

    # -- evaluation -----------------------------------------------------------------------------
    def evaluate(self, query: DatasetQuery | None = None) -> Evaluation:
        """Evaluate a model's annotations against ground truth, over the whole dataset or a
        query of it: ``dataset.evaluate().object_detection("run", "ground_truth", "model")``."""
        return Evaluation(query if query is not None else self.query())

    def evaluation_runs(self) -> list[EvaluationResult]:
        """The dataset's stored evaluation runs, newest first."""
        return _evaluation_runs(self.dataset_id)

    def evaluation_run(self, name: str) -> EvaluationResult:
        """The stored evaluation run called ``name``."""
        return _evaluation_run(self.dataset_id, name)

    def delete_evaluation_run(self, name: str) -> bool:
        """Delete a stored evaluation run and its rows. Returns whether there was one."""
        return _delete_evaluation_run(self.dataset_id, name)

    # -- data quality (docs/quality.md) ---------------------------------------------------------
    def compute_label_issues(
        self,
        annotation_source: str = "ground_truth",
        pred_annotation_source: str | None = None,
        embedding_model_name: str | None = None,
    ) -> pl.DataFrame:
        """Score the annotations of ``annotation_source`` for label issues (cleanlab, and
        geometric box/mask checks); stores the scores per annotation and
        ``label_issue_count`` per sample. Returns the scores, worst first."""
        return compute_label_issues(
            self,
            annotation_source=annotation_source,
            pred_annotation_source=pred_annotation_source,
            embedding_model_name=embedding_model_name,
        )

    def annotation_issues(self, issue: str | None = None, flagged_only: bool = False):
        """The stored label-issue scores of the annotations (one row per annotation and
        issue), worst first."""
        return annotation_issues(self, issue=issue, flagged_only=flagged_only)

    # -- few-shot classifiers -------------------------------------------------------------------
    def few_shot_classifier(
        self,
        name: str,
        classes: list[str] | None = None,
        embedding_model_name: str | None = None,
    ) -> FewShotClassifier:
        """With ``classes``: a new classifier of the samples into them (replacing one of the
        same name), trained on the stored embeddings of a few examples per class:
        ``add_examples()``, ``train()``, ``predict()``, ``uncertain()``, ``apply()`` (writes
        annotations into a source named ``name``). Without: the classifier ``name`` made
        before, also in an earlier session (classifiers are stored in the database)."""
        if classes is None:
            return find_classifier(self, name)
        return FewShotClassifier(self, name, classes, embedding_model_name)

    def load_few_shot_classifier(self, path: str) -> FewShotClassifier:
        """A classifier saved with ``classifier.save(path)``; the dataset must have
        embeddings of the model it was trained on."""
        return FewShotClassifier.load(path, self)

    # -- notebook -------------------------------------------------------------------------------
    def show(self):
        """Display the dataset in the notebook explorer and return it (``explorer =
        dataset.show()`` shows the view and keeps a handle on it; see docs/views.md)."""
        return self.query().show()

    def _repr_mimebundle_(self, include=None, exclude=None):
        """A dataset as a cell's value shows the explorer, with the dataset's own text repr."""
        bundle = self.query()._repr_mimebundle_(include=include, exclude=exclude)
        data, metadata = bundle if isinstance(bundle, tuple) else (bundle, {})
        return {**data, "text/plain": repr(self)}, metadata

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, samples={len(self)})"

    # -- hooks for ingest -----------------------------------------------------------------------
    def _after_ingest(self, new_sample_ids: list, embed: bool) -> None:
        """Run after new samples are stored: compute their embeddings when asked."""
        if not embed or not new_sample_ids:
            return
        try:
            compute_embeddings = _embed.compute_embeddings  # loads embed._api on first use
        except ImportError:  # the embeddings package is optional at this layer
            logger.warning("Embeddings are not available; samples were indexed without them.")
            return
        compute_embeddings(self, sample_ids=new_sample_ids)
