"""Operator parameters: declared types, JSON form schema, and server-side validation."""

from __future__ import annotations

import pytest

from lightly_studio.plugins.parameter import (
    BoolParameter,
    EnumParameter,
    FloatParameter,
    IntParameter,
    LabelParameter,
    ParameterValidationError,
    StringParameter,
    TagParameter,
    parameters_schema,
    validate_parameters,
)


def test_missing_values_take_their_defaults():
    params = [StringParameter(name="name", default="you"), FloatParameter(name="t", default=0.4)]
    assert validate_parameters(params, {}) == {"name": "you", "t": 0.4}


def test_values_from_a_form_are_converted_to_the_declared_types():
    params = [
        IntParameter(name="n"),
        FloatParameter(name="t"),
        BoolParameter(name="b"),
        StringParameter(name="s"),
    ]
    got = validate_parameters(params, {"n": "12", "t": "0.5", "b": "true", "s": 7})
    assert got == {"n": 12, "t": 0.5, "b": True, "s": "7"}
    assert type(got["n"]) is int and type(got["t"]) is float


def test_an_int_given_to_a_float_parameter_becomes_a_float():
    assert validate_parameters([FloatParameter(name="t")], {"t": 1}) == {"t": 1.0}


def test_wrong_types_are_rejected_with_one_message_naming_every_bad_field():
    params = [IntParameter(name="n"), FloatParameter(name="t"), BoolParameter(name="b")]
    with pytest.raises(ParameterValidationError) as info:
        validate_parameters(params, {"n": 1.5, "t": "abc", "b": 1}, operator_name="Op")
    assert set(info.value.errors) == {"n", "t", "b"}
    message = str(info.value)
    assert "'Op'" in message and "'n'" in message and "'abc'" in message


def test_booleans_are_not_numbers():
    with pytest.raises(ParameterValidationError):
        validate_parameters([IntParameter(name="n")], {"n": True})
    with pytest.raises(ParameterValidationError):
        validate_parameters([FloatParameter(name="t")], {"t": False})


def test_number_ranges_are_inclusive_and_checked():
    params = [FloatParameter(name="t", min=0.0, max=1.0), IntParameter(name="k", min=1)]
    assert validate_parameters(params, {"t": 1.0, "k": 1}) == {"t": 1.0, "k": 1}
    with pytest.raises(ParameterValidationError) as info:
        validate_parameters(params, {"t": 1.5, "k": 0})
    assert "above the maximum 1.0" in info.value.errors["t"]
    assert "below the minimum 1" in info.value.errors["k"]


def test_non_finite_floats_are_rejected():
    with pytest.raises(ParameterValidationError):
        validate_parameters([FloatParameter(name="t")], {"t": float("nan")})


def test_required_without_default_must_be_given_and_optional_becomes_none():
    params = [StringParameter(name="a"), IntParameter(name="b", required=False)]
    with pytest.raises(ParameterValidationError) as info:
        validate_parameters(params, {})
    assert info.value.errors == {"a": "a value is required"}
    assert validate_parameters(params, {"a": "x"}) == {"a": "x", "b": None}


def test_a_cleared_required_text_field_is_an_error_not_the_default():
    params = [StringParameter(name="name", required=True, default="you")]
    with pytest.raises(ParameterValidationError):
        validate_parameters(params, {"name": "  "})
    assert validate_parameters([StringParameter(name="note", required=False)], {"note": ""}) == {
        "note": ""
    }


def test_an_empty_number_field_falls_back_to_the_default():
    assert validate_parameters([IntParameter(name="n", default=3)], {"n": ""}) == {"n": 3}


def test_unknown_parameter_names_are_rejected():
    with pytest.raises(ParameterValidationError) as info:
        validate_parameters([IntParameter(name="n", default=1)], {"m": 2})
    assert "not a parameter" in info.value.errors["m"]


def test_enum_accepts_only_its_choices():
    p = EnumParameter(name="fmt", choices=["coco", "yolo"], default="coco")
    assert validate_parameters([p], {"fmt": "yolo"}) == {"fmt": "yolo"}
    with pytest.raises(ParameterValidationError, match="not one of"):
        validate_parameters([p], {"fmt": "voc"})
    with pytest.raises(ValueError, match="choices must not be empty"):
        EnumParameter(name="fmt")


def test_an_invalid_default_fails_when_the_parameter_is_declared():
    with pytest.raises(ValueError, match="default"):
        IntParameter(name="n", default="many")
    with pytest.raises(ValueError, match="default"):
        FloatParameter(name="t", default=2.0, max=1.0)


class _FakeContext:
    def tag_names(self):
        return ["train", "val"]

    def label_names(self):
        return ["car", "person"]


def test_tag_and_label_must_exist_in_the_dataset():
    params = [TagParameter(name="tag"), LabelParameter(name="label")]
    ctx = _FakeContext()
    assert validate_parameters(params, {"tag": "val", "label": "car"}, context=ctx) == {
        "tag": "val",
        "label": "car",
    }
    with pytest.raises(ParameterValidationError) as info:
        validate_parameters(params, {"tag": "test", "label": "dog"}, context=ctx)
    assert "no tag 'test'" in info.value.errors["tag"]
    assert "no label 'dog'" in info.value.errors["label"]


def test_json_schema_describes_the_form():
    params = [
        StringParameter(name="name", description="your name", default="you"),
        FloatParameter(name="t", default=0.4, min=0.0, max=1.0, required=False),
        IntParameter(name="k", min=1),
        BoolParameter(name="b", default=False),
        EnumParameter(name="fmt", choices=["a", "b"]),
        TagParameter(name="tag"),
        LabelParameter(name="label"),
    ]
    schema = parameters_schema(params, _FakeContext())
    props = schema["properties"]
    assert list(props) == ["name", "t", "k", "b", "fmt", "tag", "label"]
    assert schema["required"] == ["name", "k", "b", "fmt", "tag", "label"]
    assert props["name"] == {
        "name": "name",
        "type": "string",
        "param_type": "string",
        "widget": "text",
        "title": "name",
        "description": "your name",
        "required": True,
        "default": "you",
    }
    assert props["t"]["type"] == "number" and props["t"]["minimum"] == 0.0
    assert props["t"]["maximum"] == 1.0 and props["t"]["default"] == 0.4
    assert props["k"]["type"] == "integer" and "maximum" not in props["k"]
    assert props["b"]["type"] == "boolean" and props["b"]["default"] is False
    assert props["fmt"]["enum"] == ["a", "b"] and props["fmt"]["widget"] == "select"
    assert props["tag"]["enum"] == ["train", "val"] and props["tag"]["widget"] == "tag"
    assert props["label"]["enum"] == ["car", "person"]
    assert [p.param_type for p in params] == [
        "string",
        "float",
        "int",
        "bool",
        "enum",
        "tag",
        "label",
    ]
