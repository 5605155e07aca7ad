"""Running operators: validate, execute in a worker thread, report progress, cancel.

``start_run`` validates the parameters on the caller's thread (a wrong value raises
``ParameterValidationError`` before anything runs), then executes the operator in a background
thread and returns an ``OperatorRun`` whose ``to_json()`` the GUI polls. ``run_operator`` does
the same and waits: handy in scripts and tests.

Whatever the operator does wrong (raises, returns something other than an OperatorResult) ends
as a failed run with a one-line message; the traceback goes to the ``lightly_studio.plugins``
logger.
"""

from __future__ import annotations

import inspect
import logging
import threading
import time
import uuid
from collections import OrderedDict
from typing import Any

from lightly_studio.db import transaction
from lightly_studio.plugins.base_operator import BaseOperator, OperatorResult
from lightly_studio.plugins.context import (
    OperatorCancelledError,
    OperatorContext,
    OperatorScope,
    Session,
    _Progress,
)
from lightly_studio.plugins.parameter import validate_parameters

__all__ = ["OperatorRun", "cancel_run", "get_run", "run_operator", "start_run"]

logger = logging.getLogger("lightly_studio.plugins")

# Finished runs are kept so a GUI that polls late still sees the result; bounded.
_MAX_RUNS = 200
_runs: OrderedDict[str, OperatorRun] = OrderedDict()
_runs_lock = threading.Lock()


class _RolledBack(Exception):
    """Raised inside the run's transaction to undo the writes of a failed run."""


class OperatorRun:
    """One execution of an operator. ``status``: pending → running → succeeded | failed |
    cancelled."""

    def __init__(
        self, operator: BaseOperator, dataset: Any, parameters: dict[str, Any], scope: OperatorScope
    ) -> None:
        self.run_id = uuid.uuid4().hex
        self.operator = operator
        self.dataset = dataset
        self.parameters = parameters
        self.scope = scope
        self.status = "pending"
        self.result: OperatorResult | None = None
        self.error: str | None = None
        self.started_at = time.time()
        self.finished_at: float | None = None
        self._progress = _Progress()
        self._done = threading.Event()
        self.context = OperatorContext(dataset, scope, self._progress)

    @property
    def finished(self) -> bool:
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the run ends (or ``timeout`` seconds pass); True when it ended."""
        return self._done.wait(timeout)

    def cancel(self) -> None:
        """Ask the operator to stop; it does at its next progress report."""
        if not self.finished:
            self._progress.cancel.set()

    def to_json(self) -> dict[str, Any]:
        result = self.result.to_json() if self.result is not None else None
        return {
            "run_id": self.run_id,
            "operator": self.operator.name,
            "dataset_id": str(self.dataset.dataset_id),
            "scope": self.scope.to_json(),
            "status": self.status,
            "finished": self.finished,
            "cancel_requested": self._progress.cancel.is_set(),
            "progress": self._progress.fraction,
            "progress_done": self._progress.done,
            "progress_total": self._progress.total,
            "progress_message": self._progress.message,
            "result": result,
            "message": result["message"] if result else (self.error or ""),
            "success": result["success"] if result else None,
            "elapsed_s": round((self.finished_at or time.time()) - self.started_at, 3),
        }

    # -- execution ---------------------------------------------------------------------------
    def _execute(self) -> None:
        op = self.operator
        self.status = "running"
        try:
            result = _call_execute(op, self.context, self.parameters)
            self.result = result
            self.status = "succeeded" if result.success else "failed"
        except OperatorCancelledError:
            kept = "no changes were stored" if op.atomic else "changes made so far are kept"
            self.result = OperatorResult(success=False, message=f"{op.name} was cancelled; {kept}.")
            self.status = "cancelled"
        except Exception as exc:
            logger.exception("Operator %r failed (dataset %s)", op.name, self.dataset.dataset_id)
            self.error = f"{op.name} failed: {type(exc).__name__}: {exc}"
            self.result = OperatorResult(success=False, message=self.error)
            self.status = "failed"
        finally:
            self.finished_at = time.time()
            self._done.set()


def _call_execute(
    op: BaseOperator, context: OperatorContext, parameters: dict[str, Any]
) -> OperatorResult:
    session = Session(context.dataset, context)
    kwargs: dict[str, Any] = {
        "session": session,
        "collection_id": context.collection_id,
        "parameters": dict(parameters),
    }
    if _accepts_context(op.execute):
        kwargs["context"] = context
    if not op.atomic:
        return _checked(op, op.execute(**kwargs))
    outcome: list[OperatorResult] = []
    try:
        with transaction():
            result = _checked(op, op.execute(**kwargs))
            outcome.append(result)
            if not result.success:
                raise _RolledBack
            # A cancel that arrives after the work is done still undoes it: the person asked.
            context.raise_if_cancelled()
    except _RolledBack:
        pass
    return outcome[0]


def _checked(op: BaseOperator, result: Any) -> OperatorResult:
    if isinstance(result, OperatorResult):
        return result
    raise TypeError(f"execute() must return an OperatorResult, got {type(result).__name__}")


def _accepts_context(fn: Any) -> bool:
    try:
        params = inspect.signature(fn).parameters
    except (TypeError, ValueError):
        return False
    return "context" in params or any(
        p.kind is inspect.Parameter.VAR_KEYWORD for p in params.values()
    )


def start_run(
    operator: BaseOperator,
    dataset: Any,
    parameters: dict[str, Any] | None = None,
    scope: OperatorScope | None = None,
    *,
    background: bool = True,
) -> OperatorRun:
    """Validate ``parameters`` and start ``operator`` on ``dataset``.

    Raises ``ParameterValidationError`` (nothing runs) when a value is wrong. With
    ``background`` the operator runs in a daemon thread and this returns at once.
    """
    scope = scope or OperatorScope()
    probe = OperatorContext(dataset, scope)
    values = validate_parameters(
        operator.parameters, parameters, context=probe, operator_name=operator.name
    )
    run = OperatorRun(operator, dataset, values, scope)
    with _runs_lock:
        _runs[run.run_id] = run
        while len(_runs) > _MAX_RUNS:
            oldest = next(iter(_runs))
            if not _runs[oldest].finished:
                break
            _runs.pop(oldest)
    if background:
        threading.Thread(target=run._execute, name=f"operator-{operator.name}", daemon=True).start()
    else:
        run._execute()
    return run


def run_operator(
    operator: BaseOperator,
    dataset: Any,
    parameters: dict[str, Any] | None = None,
    scope: OperatorScope | None = None,
) -> OperatorResult:
    """Validate and run ``operator`` on this thread; return its result."""
    run = start_run(operator, dataset, parameters, scope, background=False)
    assert run.result is not None
    return run.result


def get_run(run_id: str) -> OperatorRun | None:
    with _runs_lock:
        return _runs.get(run_id)


def cancel_run(run_id: str) -> OperatorRun | None:
    run = get_run(run_id)
    if run is not None:
        run.cancel()
    return run
