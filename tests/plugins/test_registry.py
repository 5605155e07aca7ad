"""The operator registry: register / list / get, built-ins, and entry-point discovery."""

from __future__ import annotations

import sys
from dataclasses import dataclass
from importlib.metadata import EntryPoint

import pytest

from lightly_studio.plugins.base_operator import BaseOperator, OperatorResult
from lightly_studio.plugins.operator_registry import (
    OperatorNotFoundError,
    OperatorRegistry,
    operator_registry,
)
from lightly_studio.plugins.parameter import IntParameter, StringParameter

BUILTINS = [
    "Compute typicality",
    "Compute similarity to a tag",
    "Select diverse samples",
    "Find near-duplicates",
    "Export",
]


@dataclass
class Echo(BaseOperator):
    name: str = "Echo"
    description: str = "says what it got"

    @property
    def parameters(self):
        return [StringParameter(name="text", default="hi")]

    def execute(self, *, session, collection_id, parameters):
        return OperatorResult(success=True, message=parameters["text"])


def test_register_list_get():
    reg = OperatorRegistry(builtins=False)
    op = reg.register(Echo())
    assert reg.list() == [op]
    assert reg.get("Echo") is op
    assert "Echo" in reg and "Nope" not in reg


def test_builtins_come_first_and_user_operators_follow():
    reg = OperatorRegistry()
    reg.register(Echo())
    assert reg.names() == [*BUILTINS, "Echo"]


def test_the_process_wide_registry_lists_the_builtins():
    assert operator_registry.names()[:5] == BUILTINS


def test_registering_the_same_name_again_replaces_the_operator():
    reg = OperatorRegistry(builtins=False)
    reg.register(Echo())
    second = reg.register(Echo(description="newer"))
    assert reg.list() == [second]


def test_a_class_is_instantiated_on_register():
    reg = OperatorRegistry(builtins=False)
    assert isinstance(reg.register(Echo), Echo)


def test_get_of_an_unknown_name_says_what_is_registered():
    reg = OperatorRegistry(builtins=False)
    reg.register(Echo())
    with pytest.raises(OperatorNotFoundError, match=r"No operator named 'Missing'.*'Echo'"):
        reg.get("Missing")


def test_unregister_and_clear():
    reg = OperatorRegistry(builtins=False)
    reg.register(Echo())
    reg.unregister("Echo")
    reg.unregister("Echo")  # absent: no error
    assert reg.list() == []


def test_broken_operators_are_refused_at_registration():
    reg = OperatorRegistry(builtins=False)
    with pytest.raises(TypeError, match="BaseOperator"):
        reg.register(object())
    with pytest.raises(ValueError, match="name"):
        reg.register(Echo(name=""))

    @dataclass
    class TwoSameNames(Echo):
        name: str = "Twice"

        @property
        def parameters(self):
            return [IntParameter(name="n"), IntParameter(name="n")]

    with pytest.raises(ValueError, match="two parameters are named 'n'"):
        reg.register(TwoSameNames())

    @dataclass
    class NotAParameter(Echo):
        name: str = "Bad"

        @property
        def parameters(self):
            return [{"name": "n"}]

    with pytest.raises(TypeError, match="Parameter objects"):
        reg.register(NotAParameter())


def test_an_operator_without_execute_cannot_be_created():
    class NoExecute(BaseOperator):
        name = "x"

    with pytest.raises(TypeError):
        NoExecute()


def _plugin_module(tmp_path, monkeypatch):
    (tmp_path / "my_ls_plugin.py").write_text(
        "from dataclasses import dataclass\n"
        "from lightly_studio.plugins.base_operator import BaseOperator, OperatorResult\n"
        "@dataclass\n"
        "class FromPlugin(BaseOperator):\n"
        "    name: str = 'FromPlugin'\n"
        "    def execute(self, *, session, collection_id, parameters):\n"
        "        return OperatorResult(success=True)\n"
        "def many():\n"
        "    return [FromPlugin(name='A'), FromPlugin(name='B')]\n"
        "def broken():\n"
        "    raise RuntimeError('boom')\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "my_ls_plugin", raising=False)


def test_entry_points_register_instances_classes_and_factories(tmp_path, monkeypatch):
    _plugin_module(tmp_path, monkeypatch)
    eps = [
        EntryPoint("cls", "my_ls_plugin:FromPlugin", "lightly_studio.plugins"),
        EntryPoint("factory", "my_ls_plugin:many", "lightly_studio.plugins"),
        EntryPoint("bad", "my_ls_plugin:broken", "lightly_studio.plugins"),
    ]
    seen_groups = []

    def fake_entry_points(*, group):
        seen_groups.append(group)
        return eps

    monkeypatch.setattr("importlib.metadata.entry_points", fake_entry_points)
    reg = OperatorRegistry(builtins=False)
    assert reg.load_entry_points() == ["FromPlugin", "A", "B"]
    assert seen_groups == ["lightly_studio.plugins"]
    assert reg.names() == ["FromPlugin", "A", "B"]
    # A failing plugin is reported, not raised, so the app still starts.
    assert len(reg.entry_point_errors) == 1 and "boom" in reg.entry_point_errors[0]
    # Loading runs once per process unless forced.
    assert reg.load_entry_points() == []
