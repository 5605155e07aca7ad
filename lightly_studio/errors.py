"""Exceptions a user can cause. Each message says what went wrong and where."""

from __future__ import annotations


class LightlyStudioError(Exception):
    """Base class of every error raised on purpose by lightly_studio."""


class DatabaseLockedError(LightlyStudioError):
    """The DuckDB file is held by another process."""


class DatasetExistsError(LightlyStudioError):
    """A dataset with that name exists already."""


class DatasetNotFoundError(LightlyStudioError):
    """No dataset with that name is in the database."""


class IngestError(LightlyStudioError):
    """Input files could not be read (every file failed, or a label file is malformed)."""


class MetadataTypeError(LightlyStudioError, TypeError):
    """A metadata value does not match the type fixed by the key's first value."""


class QueryError(LightlyStudioError, ValueError):
    """A query expression cannot be built (wrong type, bad slice, unknown key)."""


class QueryTextError(QueryError):
    """A text query (``dataset.match_text``) cannot be parsed or translated.

    ``offset`` is the 0-based character offset of the problem in ``text``; ``line`` and
    ``column`` are 1-based (what an editor shows). The message ends with them.
    """

    def __init__(self, message: str, text: str, offset: int) -> None:
        self.text = text
        self.offset = max(0, min(offset, len(text)))
        self.line = text.count("\n", 0, self.offset) + 1
        self.column = self.offset - (text.rfind("\n", 0, self.offset) + 1) + 1
        self.reason = message
        super().__init__(f"{message} (line {self.line}, column {self.column})")


class AnnotationError(LightlyStudioError, ValueError):
    """An annotation value is invalid (box outside the image, confidence out of range, …)."""


class EmbeddingError(LightlyStudioError):
    """Embeddings are missing or a model cannot be loaded."""


class SelectionError(LightlyStudioError, ValueError):
    """A selection cannot be run as configured."""


class ServerError(LightlyStudioError):
    """The app server cannot start (port in use, bad host) or a request cannot be served."""


class InvalidTokenError(ServerError, ValueError):
    """An empty or blank token was passed to ``start_gui()``: that would disable the check."""


class ExportError(LightlyStudioError):
    """An export cannot be written as asked (root outside the images, cloud images, …)."""


class ExportPathError(ExportError, ValueError):
    """A view asked to write outside the export folder (absolute path, ``~``, ``..``, a
    symlink); see ``lightly_studio.export.view_exports``."""


class AnnotationConflictError(AnnotationError):
    """The annotation changed (e.g. from Python) since the view loaded it; nothing was written."""


class UnknownMethodError(LightlyStudioError):
    """A view called a method that is not in ``lightly_studio.api.METHODS`` (a client/server
    version mismatch); the full-page app's server answers it with 404."""


class EvaluationError(LightlyStudioError, ValueError):
    """A model evaluation cannot run as asked (unknown source, a run name taken by another
    task, several classifications per sample, …); nothing was stored."""


class ClassifierError(LightlyStudioError, ValueError):
    """A few-shot classifier cannot do what was asked (no example of a class, another model)."""


class ExampleDataError(LightlyStudioError, OSError):
    """The example datasets can be neither downloaded nor copied; the message says how to
    point at a local copy."""


class ReadOnlyDatabaseError(LightlyStudioError):
    """A write was attempted on a published dataset, which is opened read-only."""


class PublishedDatasetError(LightlyStudioError):
    """A published dataset cannot be written or opened (missing manifest, newer version, ...)."""


class SettingsError(LightlyStudioError, ValueError):
    """A view setting (a keyboard shortcut, a grid option) that cannot be stored."""
