"""Undo of bulk edits: one stack per dataset, shared by Python and the views of this process.

An edit that can be undone (relabel, delete or tag many annotations; rename or delete a tag)
runs in one transaction and then pushes an ``UndoEntry``: a description and a function that
reverts it in one transaction. ``dataset.undo()``, the views' Undo button and Ctrl+Z all pop
the newest entry of that dataset. The stack lives in memory: it is gone when the process ends
(the database itself holds no undo log), and holds at most ``MAX_UNDO`` entries per dataset.

A revert is careful rather than blind: it restores only what is still as the edit left it
(e.g. a relabel's undo skips an annotation edited since), and says how many it restored.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from lightly_studio.db import transaction
from lightly_studio.errors import LightlyStudioError

MAX_UNDO = 50


@dataclass(frozen=True)
class UndoEntry:
    """What an edit did (``description``) and how to revert it (``revert(con)``, run inside a
    transaction; it returns how many rows it restored)."""

    description: str
    revert: Callable[[object], int]


_stacks: dict[str, list[UndoEntry]] = {}
_lock = threading.Lock()


def push(dataset_id: object, description: str, revert: Callable[[object], int]) -> None:
    """Record an edit that was just committed as the newest undoable one of the dataset."""
    with _lock:
        stack = _stacks.setdefault(str(dataset_id), [])
        stack.append(UndoEntry(description, revert))
        del stack[:-MAX_UNDO]


def last(dataset_id: object) -> str | None:
    """The description of the edit ``undo`` would revert now; None when there is none."""
    with _lock:
        stack = _stacks.get(str(dataset_id))
        return stack[-1].description if stack else None


def undo(dataset_id: object) -> tuple[str, int]:
    """Revert the dataset's newest undoable edit (one transaction): its description and how
    many rows were restored. LightlyStudioError when there is nothing to undo. A revert that
    fails changes nothing and stays on the stack."""
    with _lock:
        stack = _stacks.get(str(dataset_id))
        if not stack:
            raise LightlyStudioError("Nothing to undo in this dataset.")
        entry = stack.pop()
    try:
        with transaction() as tx:
            restored = entry.revert(tx)
    except Exception:
        with _lock:
            _stacks.setdefault(str(dataset_id), []).append(entry)
        raise
    return entry.description, restored


def clear(dataset_id: object | None = None) -> None:
    """Forget the undoable edits of one dataset (None: of every dataset)."""
    with _lock:
        if dataset_id is None:
            _stacks.clear()
        else:
            _stacks.pop(str(dataset_id), None)
