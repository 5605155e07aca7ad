"""Operators end to end through api/operators.py: list with forms, run, poll, cancel, scope."""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass

import pytest

from lightly_studio.api import operators as api
from lightly_studio.plugins.base_operator import BaseOperator, OperatorResult
from lightly_studio.plugins.parameter import IntParameter, TagParameter

from .conftest import GREETING_OPERATOR, import_from_source


def _call(method, **params):
    reply, buffers = method(params)
    assert buffers == []
    return reply


def _wait_finished(run_id: str, timeout: float = 10.0) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        status = _call(api.operator_status, run_id=run_id)
        if status["finished"]:
            return status
        time.sleep(0.01)
    raise AssertionError(f"run {run_id} did not finish")


@pytest.fixture
def greeting(tmp_path, clean_registry):
    module = import_from_source(tmp_path, "greeting_operator", GREETING_OPERATOR)
    clean_registry.register(module.GreetingOperator())
    return clean_registry


def test_greeting_operator_is_listed_with_its_form(image_dataset, greeting):
    reply = _call(api.operators_list, dataset_id=str(image_dataset.dataset_id))
    ops = {op["name"]: op for op in reply["operators"]}
    greeting_json = ops["GreetingOperator"]
    assert greeting_json["description"] == "This operator greet you"
    assert greeting_json["parameters"] == [
        {
            "name": "name",
            "type": "string",
            "param_type": "string",
            "widget": "text",
            "title": "name",
            "description": "your name",
            "required": True,
            "default": "beautiful and smart person",
        }
    ]
    assert greeting_json["schema"]["required"] == ["name"]
    assert "Export" in ops  # built-ins are listed alongside


def test_greeting_operator_runs_and_is_polled_until_done(image_dataset, greeting):
    started = _call(
        api.operator_run,
        dataset_id=str(image_dataset.dataset_id),
        operator="GreetingOperator",
        parameters={"name": "Ada"},
    )
    assert started["status"] in ("pending", "running", "succeeded")
    done = _wait_finished(started["run_id"])
    assert done["status"] == "succeeded" and done["success"] is True
    assert done["message"] == "Hello Ada!"
    assert done["result"] == {"success": True, "message": "Hello Ada!", "data_changed": None}


def test_greeting_operator_uses_the_default_name(image_dataset, greeting):
    done = _call(
        api.operator_run,
        dataset_id=str(image_dataset.dataset_id),
        operator="GreetingOperator",
        parameters={},
        wait=True,
    )
    assert done["message"] == "Hello beautiful and smart person!"


def test_invalid_values_return_a_message_and_run_nothing(image_dataset, greeting):
    reply = _call(
        api.operator_run,
        dataset_id=str(image_dataset.dataset_id),
        operator="GreetingOperator",
        parameters={"name": "", "age": 3},
    )
    assert reply["status"] == "invalid" and reply["success"] is False
    assert set(reply["errors"]) == {"name", "age"}
    assert "Traceback" not in reply["message"]
    assert "'name': a value is required" in reply["message"]


@dataclass
class Raises(BaseOperator):
    name: str = "Raises"

    def execute(self, *, session, collection_id, parameters):
        raise RuntimeError("model file missing")


def test_an_exception_in_execute_becomes_a_failed_run_and_is_logged(
    image_dataset, clean_registry, caplog
):
    clean_registry.register(Raises())
    done = _call(
        api.operator_run, dataset_id=str(image_dataset.dataset_id), operator="Raises", wait=True
    )
    assert done["status"] == "failed" and done["success"] is False
    assert done["message"] == "Raises failed: RuntimeError: model file missing"
    assert any("Raises" in r.getMessage() and r.exc_info for r in caplog.records)


@dataclass
class AddsLabelThenFails(BaseOperator):
    name: str = "AddsLabelThenFails"

    def execute(self, *, session, collection_id, parameters):
        from lightly_studio.models.annotation_label import AnnotationLabelCreate
        from lightly_studio.resolvers import annotation_label_resolver

        annotation_label_resolver.create(
            session=session, label=AnnotationLabelCreate(annotation_label_name="ghost")
        )
        return OperatorResult(success=False, message="changed my mind")


def test_a_failed_run_leaves_no_half_written_data(image_dataset, clean_registry):
    from lightly_studio.plugins.context import Session
    from lightly_studio.resolvers import annotation_label_resolver

    clean_registry.register(AddsLabelThenFails())
    done = _call(
        api.operator_run,
        dataset_id=str(image_dataset.dataset_id),
        operator="AddsLabelThenFails",
        wait=True,
    )
    assert done["status"] == "failed" and done["message"] == "changed my mind"
    assert (
        annotation_label_resolver.get_by_label_name(
            session=Session(image_dataset), label_name="ghost"
        )
        is None
    )


class Slow(BaseOperator):
    """Tags samples one by one, reporting progress; waits for the test between steps."""

    name = "Slow"

    def __init__(self) -> None:
        self.step = threading.Event()

    @property
    def parameters(self):
        return [IntParameter(name="steps", default=100, min=1)]

    def execute(self, *, session, collection_id, parameters, context):
        from lightly_studio.store.tags import tag_sample_ids

        ids = context.sample_ids()
        tag_sample_ids(session.connection, collection_id, "touched", ids[:1])
        for _ in context.track(range(parameters["steps"]), message="working"):
            self.step.wait(5)
            self.step.clear()
        return OperatorResult(success=True, message="done")


def test_progress_is_reported_and_a_run_can_be_cancelled(image_dataset, clean_registry):
    op = clean_registry.register(Slow())
    started = _call(
        api.operator_run,
        dataset_id=str(image_dataset.dataset_id),
        operator="Slow",
        parameters={"steps": 4},
    )
    run_id = started["run_id"]
    op.step.set()
    deadline = time.monotonic() + 5
    status = _call(api.operator_status, run_id=run_id)
    while status["progress"] in (None, 0.0) and time.monotonic() < deadline:
        time.sleep(0.01)
        status = _call(api.operator_status, run_id=run_id)
    assert status["status"] == "running"
    assert 0.0 < status["progress"] < 1.0 and status["progress_message"] == "working"

    cancelled = _call(api.operator_cancel, run_id=run_id)
    assert cancelled["cancel_requested"] is True
    op.step.set()
    done = _wait_finished(run_id)
    assert done["status"] == "cancelled"
    assert done["message"] == "Slow was cancelled; no changes were stored."
    from lightly_studio.db import get_connection

    assert (
        get_connection()
        .execute("SELECT count(*) FROM sample WHERE len(tag_numbers) > 0")
        .fetchone()[0]
        == 0
    )


@dataclass
class ScopeProbe(BaseOperator):
    name: str = "ScopeProbe"

    def execute(self, *, session, collection_id, parameters, context):
        names = sorted(s.file_name for s in context.query().to_list())
        assert session.context is context and session.dataset is context.dataset
        assert collection_id == context.dataset.dataset_id
        return OperatorResult(success=True, message=f"{context.scope.kind}: {','.join(names)}")


def test_operators_see_the_selection_or_the_filter(image_dataset, clean_registry):
    from lightly_studio.db import transaction
    from lightly_studio.store.tags import tag_sample_ids

    clean_registry.register(ScopeProbe())
    by_name = {s.file_name: s.sample_id for s in image_dataset.query().to_list()}
    ds_id = str(image_dataset.dataset_id)

    whole = _call(api.operator_run, dataset_id=ds_id, operator="ScopeProbe", wait=True)
    assert whole["message"] == "dataset: a.png,b.png,c.png"

    selected = _call(
        api.operator_run,
        dataset_id=ds_id,
        operator="ScopeProbe",
        wait=True,
        scope={"kind": "selection", "sample_ids": [str(by_name["a.png"]), str(by_name["c.png"])]},
    )
    assert selected["message"] == "selection: a.png,c.png"

    with transaction() as con:
        tag_sample_ids(con, image_dataset.dataset_id, "keep", [by_name["b.png"]])
    filtered = _call(
        api.operator_run,
        dataset_id=ds_id,
        operator="ScopeProbe",
        wait=True,
        scope={"kind": "filter", "spec": {"tags": ["keep"]}},
    )
    assert filtered["message"] == "filter: b.png"


def test_a_bad_scope_is_an_invalid_request(image_dataset, clean_registry):
    clean_registry.register(ScopeProbe())
    reply = _call(
        api.operator_run,
        dataset_id=str(image_dataset.dataset_id),
        operator="ScopeProbe",
        scope={"kind": "selection", "sample_ids": ["nope"]},
    )
    assert reply["status"] == "invalid" and "invalid sample id" in reply["message"]


@dataclass
class NeedsTag(BaseOperator):
    name: str = "NeedsTag"

    @property
    def parameters(self):
        return [TagParameter(name="tag")]

    def execute(self, *, session, collection_id, parameters):
        return OperatorResult(success=True, message=parameters["tag"])


def test_tag_parameters_offer_and_require_existing_tags(image_dataset, clean_registry):
    from lightly_studio.db import transaction
    from lightly_studio.store.tags import tag_sample_ids

    clean_registry.register(NeedsTag())
    with transaction() as con:
        tag_sample_ids(con, image_dataset.dataset_id, "val", image_dataset.query().sample_ids()[:1])
    ds_id = str(image_dataset.dataset_id)
    listed = {o["name"]: o for o in _call(api.operators_list, dataset_id=ds_id)["operators"]}
    assert listed["NeedsTag"]["parameters"][0]["enum"] == ["val"]
    bad = _call(api.operator_run, dataset_id=ds_id, operator="NeedsTag", parameters={"tag": "test"})
    assert bad["status"] == "invalid" and "no tag 'test'" in bad["errors"]["tag"]
    ok = _call(
        api.operator_run,
        dataset_id=ds_id,
        operator="NeedsTag",
        parameters={"tag": "val"},
        wait=True,
    )
    assert ok["message"] == "val"


def test_unknown_operator_and_run_ids_raise_user_errors(image_dataset):
    from lightly_studio.errors import LightlyStudioError

    with pytest.raises(LightlyStudioError, match="No operator named 'Nope'"):
        api.operator_run({"dataset_id": str(image_dataset.dataset_id), "operator": "Nope"})
    with pytest.raises(LightlyStudioError, match="No operator run"):
        api.operator_status({"run_id": "missing"})
