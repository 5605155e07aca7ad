"""Operator plugins for the views: list them with their forms, run one, poll it, cancel it.

Transport-free like the rest of ``api/``: each method takes the request's ``params`` dict and
returns ``(json-able reply, binary buffers)``.

- ``operators_list({"dataset_id"?})`` → ``{"operators": [{name, description, parameters,
  schema}], "entry_point_errors": [...]}``. With a dataset id, tag/label pickers carry that
  dataset's tags and labels as ``enum``. Loads entry-point plugins on first use.
- ``operator_run({"dataset_id", "operator", "parameters"?, "scope"?, "wait"?})`` → the run's
  status (below). Wrong parameter values answer ``{"status": "invalid", "message", "errors":
  {name: why}}``: a message for the form, never a traceback; nothing runs.
- ``operator_status({"run_id"})`` → ``{run_id, operator, status (pending | running |
  succeeded | failed | cancelled), finished, progress (0..1 or null), progress_message,
  message, success, result: {success, message, data_changed}}``.
- ``operator_cancel({"run_id"})`` → the status after asking the run to stop.

``scope`` says what the person had in view: absent / ``{"kind": "dataset"}`` for the whole
dataset, ``{"kind": "selection", "sample_ids": [...]}`` for selected samples, or
``{"kind": "filter", "spec": {...}}`` with the grid's query spec (see ``api/_spec.py``).
"""

from __future__ import annotations

from typing import Any

from lightly_studio.api import _contracts as c
from lightly_studio.api._methods import method
from lightly_studio.api._spec import dataset_of, query_from_spec
from lightly_studio.errors import LightlyStudioError
from lightly_studio.plugins.context import OperatorContext, OperatorScope
from lightly_studio.plugins.operator_registry import operator_registry
from lightly_studio.plugins.parameter import ParameterValidationError
from lightly_studio.plugins.runner import get_run, start_run

__all__ = ["operator_cancel", "operator_run", "operator_status", "operators_list"]


@method("operators_list", c.OperatorsListParams, c.OperatorsListResult)
def operators_list(params: dict) -> tuple[Any, list[bytes]]:
    operator_registry.load_entry_points()
    context = None
    if params.get("dataset_id"):
        context = OperatorContext(_dataset(params["dataset_id"]))
    operators = []
    for op in operator_registry.list():
        try:
            operators.append(op.to_json(context))
        except Exception as exc:  # noqa: BLE001 - one broken plugin must not hide the others
            operators.append(
                {
                    "name": op.name,
                    "description": op.description,
                    "parameters": [],
                    "schema": None,
                    "error": f"{type(exc).__name__}: {exc}",
                }
            )
    return {
        "operators": operators,
        "entry_point_errors": list(operator_registry.entry_point_errors),
    }, []


@method("operator_run", c.OperatorRunParams, c.RunStatus)
def operator_run(params: dict) -> tuple[Any, list[bytes]]:
    name = params.get("operator")
    if not isinstance(name, str):
        raise LightlyStudioError("operator_run needs the operator's name as 'operator'.")
    operator_registry.load_entry_points()
    op = operator_registry.get(name)
    dataset = _dataset(params.get("dataset_id"))
    values = params.get("parameters") or {}
    if not isinstance(values, dict):
        raise LightlyStudioError("'parameters' must be an object {name: value}.")
    try:
        scope = _scope(dataset, params.get("scope"))
        run = start_run(op, dataset, values, scope)
    except ParameterValidationError as exc:
        return {
            "status": "invalid",
            "finished": True,
            "success": False,
            "operator": name,
            "message": str(exc),
            "errors": exc.errors,
        }, []
    if params.get("wait"):
        run.wait(params.get("timeout_s"))
    return run.to_json(), []


@method("operator_status", c.RunRef, c.RunStatus)
def operator_status(params: dict) -> tuple[Any, list[bytes]]:
    return _run(params.get("run_id")).to_json(), []


@method("operator_cancel", c.RunRef, c.RunStatus)
def operator_cancel(params: dict) -> tuple[Any, list[bytes]]:
    run = _run(params.get("run_id"))
    run.cancel()
    return run.to_json(), []


# -- helpers ------------------------------------------------------------------------------------


def _run(run_id: Any):
    run = get_run(str(run_id))
    if run is None:
        raise LightlyStudioError(
            f"No operator run {run_id!r} in this process (the last 200 runs are kept)."
        )
    return run


def _dataset(dataset_id: Any):
    return dataset_of(dataset_id)


def _scope(dataset: Any, scope: Any):
    if not scope or scope.get("kind", "dataset") == "dataset":
        return OperatorScope()
    kind = scope.get("kind")
    if kind == "selection":
        try:
            return OperatorScope.from_sample_ids(scope.get("sample_ids") or [])
        except (ValueError, TypeError, AttributeError):
            raise ParameterValidationError(
                "The selection holds an invalid sample id.", {"scope": "invalid sample id"}
            ) from None
    if kind == "filter":
        spec = dict(scope.get("spec") or {})
        spec.setdefault("dataset_id", str(dataset.dataset_id))
        query = query_from_spec(spec)
        if str(query.dataset.dataset_id) != str(dataset.dataset_id):
            raise ParameterValidationError(
                "The filter belongs to another dataset.", {"scope": "filter of another dataset"}
            )
        return OperatorScope.from_query(query)
    raise ParameterValidationError(
        f"Unknown scope kind {kind!r} (dataset, selection, filter).",
        {"scope": f"unknown kind {kind!r}"},
    )
