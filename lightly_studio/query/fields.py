"""Fields of samples that queries can match and order on."""

from __future__ import annotations

from typing import Any

import polars as pl

from lightly_studio.db import Fragment, param, sql
from lightly_studio.errors import QueryError
from lightly_studio.query.expressions import (
    _OPS,
    Comparison,
    FrameCondition,
    MatchExpression,
    RawCondition,
    SqlContext,
    check_value,
)


class Field:
    """A value of a sample that can be ordered on."""

    name: str = "field"

    def sql_value(self, ctx: SqlContext) -> Fragment:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"<field {self.name}>"


class OrdinalField(Field):
    """A field compared with <, <=, >, >=, ==, != (numbers, datetimes)."""

    kind = "float"

    def _compare(self, op: str, value: Any) -> MatchExpression:
        return Comparison(None, op, check_value(value, self.kind, self.name), field=self)

    def __lt__(self, value: Any) -> MatchExpression:
        return self._compare("<", value)

    def __le__(self, value: Any) -> MatchExpression:
        return self._compare("<=", value)

    def __gt__(self, value: Any) -> MatchExpression:
        return self._compare(">", value)

    def __ge__(self, value: Any) -> MatchExpression:
        return self._compare(">=", value)

    def __eq__(self, value: Any) -> MatchExpression:  # type: ignore[override]
        return self._compare("==", value)

    def __ne__(self, value: Any) -> MatchExpression:  # type: ignore[override]
        return self._compare("!=", value)

    def between(self, low: Any, high: Any) -> MatchExpression:
        """low <= value <= high."""
        return self._compare(">=", low) & self._compare("<=", high)

    __hash__ = Field.__hash__


class ColumnMixin:
    column: str

    def sql_value(self, ctx: SqlContext) -> Fragment:
        return Fragment(f"s.{self.column}")


class NumberField(ColumnMixin, OrdinalField):
    def __init__(self, column: str, kind: str = "int") -> None:
        self.column = self.name = column
        self.kind = kind


class DatetimeField(ColumnMixin, OrdinalField):
    kind = "datetime"

    def __init__(self, column: str) -> None:
        self.column = self.name = column


class StringField(ColumnMixin, Field):
    """A text field: ==, !=, contains(), startswith(), is_in()."""

    def __init__(self, column: str) -> None:
        self.column = self.name = column

    def __eq__(self, value: Any) -> MatchExpression:  # type: ignore[override]
        return Comparison(None, "==", check_value(value, "str", self.name), field=self)

    def __ne__(self, value: Any) -> MatchExpression:  # type: ignore[override]
        return Comparison(None, "!=", check_value(value, "str", self.name), field=self)

    def _ordinal(self, *_: Any) -> MatchExpression:
        raise QueryError(
            f"{self.name} is a text field: use ==, !=, contains(), startswith() or is_in()."
        )

    __lt__ = __le__ = __gt__ = __ge__ = _ordinal
    __hash__ = Field.__hash__

    def contains(self, text: str) -> MatchExpression:
        """Case-sensitive substring match (no wildcards: % and _ are plain characters)."""
        check_value(text, "str", self.name)
        return RawCondition(f"contains(s.{self.column}, $p0)", text)

    def startswith(self, prefix: str) -> MatchExpression:
        check_value(prefix, "str", self.name)
        return RawCondition(f"starts_with(s.{self.column}, $p0)", prefix)

    def is_in(self, values: list[str]) -> MatchExpression:
        values = [check_value(v, "str", self.name) for v in values]
        return FrameCondition(
            self.column, pl.DataFrame({"v": values}, schema={"v": pl.Utf8}), "VARCHAR"
        )


def _check_uuids(ids: pl.Series) -> None:
    bad = ids.filter(~ids.str.contains(_UUID_RE) | ids.is_null())
    if len(bad):
        raise QueryError(f"sample_id.is_in() expects sample ids; {bad[0]!r} is not one.")


_UUID_RE = r"^[0-9a-fA-F]{8}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{4}-?[0-9a-fA-F]{12}$"


class SampleIdField(Field):
    """``ImageSampleField.sample_id.is_in(ids)``: samples by id (a grid or plot selection)."""

    name = "sample_id"

    def is_in(self, sample_ids) -> MatchExpression:
        """Samples whose id is in ``sample_ids`` (ids, strings, or a polars Series of them)."""
        if isinstance(sample_ids, pl.Series):
            ids = sample_ids.cast(pl.Utf8)
        else:
            ids = pl.Series([str(i) for i in sample_ids], dtype=pl.Utf8)
        _check_uuids(ids)
        return FrameCondition("sample_id", ids.alias("sample_id").to_frame(), "UUID")

    def __eq__(self, sample_id: Any) -> MatchExpression:  # type: ignore[override]
        return RawCondition("s.sample_id = $p0::UUID", str(sample_id))

    __hash__ = Field.__hash__

    def sql_value(self, ctx: SqlContext) -> Fragment:
        return Fragment("s.sample_id")


class TagsField(Field):
    name = "tags"

    def contains(self, tag: str) -> MatchExpression:
        """Samples that carry the tag."""
        check_value(tag, "str", "tags.contains")
        return _HasTag(tag)

    def sql_value(self, ctx: SqlContext) -> Fragment:
        raise QueryError("Samples cannot be ordered by their tags.")


class _HasTag(MatchExpression):
    def __init__(self, tag: str) -> None:
        self.tag = tag

    def to_sql(self, ctx: SqlContext) -> Fragment:
        number = ctx.tag_number(self.tag)
        if number is None:
            return Fragment("false")  # no such tag (yet): no sample has it
        return sql("list_contains(s.tag_numbers, $tag)", tag=number)


class MetadataField(OrdinalField):
    """``ImageSampleField.metadata["key"]``: compared like a column of the key's type.

    Samples without the key never match (not even with !=) and sort last.
    """

    def __init__(self, key: str) -> None:
        if not isinstance(key, str) or not key:
            raise QueryError(f"Metadata keys are non-empty strings, got {key!r}.")
        self.key = key
        self.name = f"metadata[{key!r}]"

    def _key(self, ctx: SqlContext):
        found = ctx.metadata_key(self.key)
        if found.value_type == "json":
            raise QueryError(
                f"Metadata key {self.key!r} holds lists/dicts, which cannot be compared or sorted."
            )
        return found

    def _compare(self, op: str, value: Any) -> MatchExpression:
        return _MetadataComparison(self, op, value)

    def sql_value(self, ctx: SqlContext) -> Fragment:
        return Fragment(f"s.{self._key(ctx).column}")

    def is_missing(self) -> MatchExpression:
        """Samples without a value for the key (``~field.is_missing()``: those with one)."""
        return _MetadataMissing(self)

    __hash__ = Field.__hash__


class _MetadataMissing(MatchExpression):
    def __init__(self, field: MetadataField) -> None:
        self.field = field

    def to_sql(self, ctx: SqlContext) -> Fragment:
        # Any value type, json included: a missing value is a NULL in the key's column.
        return Fragment(f"(s.{ctx.metadata_key(self.field.key).column} IS NULL)")


class _MetadataComparison(MatchExpression):
    # The value's type is checked when the query compiles: the key's type lives in the DB.
    def __init__(self, field: MetadataField, op: str, value: Any) -> None:
        self.field, self.op, self.value = field, op, value

    def to_sql(self, ctx: SqlContext) -> Fragment:
        found = self.field._key(ctx)
        if found.value_type == "bool" and self.op not in ("==", "!="):
            raise QueryError(f"{self.field.name} holds booleans: use == or !=.")
        if found.value_type == "str" and self.op not in ("==", "!="):
            raise QueryError(f"{self.field.name} holds text: use == or !=.")
        value = check_value(
            self.value, {"int": "float"}.get(found.value_type, found.value_type), self.field.name
        )
        return f"(s.{found.column} {_OPS[self.op]} " + param(value) + ")"


class MetadataAccessor:
    def __getitem__(self, key: str) -> MetadataField:
        return MetadataField(key)


def _annotation_filters(
    label,
    source,
    annotation_type,
    min_confidence,
    max_confidence,
    min_area,
    max_area,
    track_id=None,
) -> tuple[str, list]:
    clauses: list[str] = []
    values: list[Any] = []

    def add(clause: str, value: Any) -> None:
        clauses.append(clause.replace("?", f"$p{len(values)}"))
        values.append(value)

    if label is not None:
        add("l.name = ?", check_value(label, "str", "label"))
    if source is not None:
        add("a.source = ?", check_value(source, "str", "source"))
    if annotation_type is not None:
        add("a.annotation_type = ?", str(getattr(annotation_type, "value", annotation_type)))
    if min_confidence is not None:
        add("a.confidence >= ?", check_value(min_confidence, "float", "min_confidence"))
    if max_confidence is not None:
        add("a.confidence <= ?", check_value(max_confidence, "float", "max_confidence"))
    if min_area is not None:
        add("a.width * a.height >= ?", check_value(min_area, "float", "min_area"))
    if max_area is not None:
        add("a.width * a.height <= ?", check_value(max_area, "float", "max_area"))
    if track_id is not None:
        add("a.track_id = ?", check_value(track_id, "int", "track_id"))
    return (" AND ".join(clauses) or "true"), values


class AnnotationCount(OrdinalField):
    """Number of a sample's annotations that pass the filters (0 when none)."""

    kind = "int"

    def __init__(self, where: str, values: list) -> None:
        self.where, self.values = where, values
        self.name = "annotations.count"

    def sql_value(self, ctx: SqlContext) -> Fragment:
        slots = {f"p{i}": v for i, v in enumerate(self.values)}
        return sql(
            "(SELECT count(*) FROM annotation a JOIN annotation_label l "
            "ON l.label_id = a.label_id WHERE a.sample_id = s.sample_id AND " + self.where + ")",
            **slots,
        )

    __hash__ = Field.__hash__


class AnnotationsField:
    """Predicates on a sample's annotations (labels, boxes, masks, classifications)."""

    def exists(
        self,
        *,
        label: str | None = None,
        source: str | None = None,
        annotation_type: Any = None,
        min_confidence: float | None = None,
        max_confidence: float | None = None,
        min_area: float | None = None,
        max_area: float | None = None,
        track_id: int | None = None,
    ) -> MatchExpression:
        """Samples with at least one annotation passing every given filter.

        Area is width × height of the box in pixels; confidence is NULL for ground truth, so
        a confidence filter only matches predictions. ``track_id``: video frames showing
        that object track.
        """
        where, values = _annotation_filters(
            label,
            source,
            annotation_type,
            min_confidence,
            max_confidence,
            min_area,
            max_area,
            track_id,
        )
        return RawCondition(
            "s.sample_id IN (SELECT a.sample_id FROM annotation a JOIN annotation_label l "
            "ON l.label_id = a.label_id WHERE " + where + ")",
            *values,
        )

    def match(self, condition: MatchExpression, *, annotation_type: Any = None) -> MatchExpression:
        """Samples with at least one annotation for which ``condition`` (on ``AnnotationField``
        s, combined with AND/OR/NOT) holds; ``annotation_type`` (one or a list) narrows the
        annotations looked at. The text query ``object_detection(class_name = "cat")`` is
        ``match(AnnotationField.class_name == "cat", annotation_type="object_detection")``."""
        if not isinstance(condition, MatchExpression):
            raise QueryError(
                f"annotations.match() expects an expression on AnnotationField, got {condition!r}."
            )
        if annotation_type is None:
            types: list[str] = []
        elif isinstance(annotation_type, (list, tuple)):
            types = [str(getattr(t, "value", t)) for t in annotation_type]
        else:
            types = [str(getattr(annotation_type, "value", annotation_type))]
        return _AnnotationMatch(condition, types)

    def contains_label(self, label: str, *, source: str | None = None) -> MatchExpression:
        """Samples with an annotation of class ``label``."""
        return self.exists(label=label, source=source)

    def count(
        self,
        *,
        label: str | None = None,
        source: str | None = None,
        annotation_type: Any = None,
        min_confidence: float | None = None,
        max_confidence: float | None = None,
        min_area: float | None = None,
        max_area: float | None = None,
        track_id: int | None = None,
    ) -> AnnotationCount:
        """``annotations.count(label="car") > 3``: compare the number of matching annotations."""
        return AnnotationCount(
            *_annotation_filters(
                label,
                source,
                annotation_type,
                min_confidence,
                max_confidence,
                min_area,
                max_area,
                track_id,
            )
        )


class AnnotationColumn(Field):
    """A column of one annotation (alias ``a``, its class's label alias ``l``), compared inside
    ``ImageSampleField.annotations.match(...)``."""

    def __init__(self, name: str, column: str, kind: str) -> None:
        self.name, self.column, self.kind = name, column, kind

    def sql_value(self, ctx: SqlContext) -> Fragment:
        return Fragment(self.column)

    def _compare(self, op: str, value: Any) -> MatchExpression:
        if self.kind == "str" and op not in ("==", "!="):
            raise QueryError(f"{self.name} is a text field: use == or !=.")
        return Comparison(None, op, check_value(value, self.kind, self.name), field=self)

    def __lt__(self, value: Any) -> MatchExpression:
        return self._compare("<", value)

    def __le__(self, value: Any) -> MatchExpression:
        return self._compare("<=", value)

    def __gt__(self, value: Any) -> MatchExpression:
        return self._compare(">", value)

    def __ge__(self, value: Any) -> MatchExpression:
        return self._compare(">=", value)

    def __eq__(self, value: Any) -> MatchExpression:  # type: ignore[override]
        return self._compare("==", value)

    def __ne__(self, value: Any) -> MatchExpression:  # type: ignore[override]
        return self._compare("!=", value)

    __hash__ = Field.__hash__


class AnnotationField:
    """Fields of one annotation: ``ImageSampleField.annotations.match(AND(
    AnnotationField.class_name == "cat", AnnotationField.width >= 50))``.

    Box fields are in pixels; confidence is NULL for ground truth (so it never matches there).
    """

    class_name = AnnotationColumn("class_name", "l.name", "str")
    source = AnnotationColumn("source", "a.source", "str")
    confidence = AnnotationColumn("confidence", "a.confidence", "float")
    x = AnnotationColumn("x", "a.x", "float")
    y = AnnotationColumn("y", "a.y", "float")
    width = AnnotationColumn("width", "a.width", "float")
    height = AnnotationColumn("height", "a.height", "float")


class _AnnotationMatch(MatchExpression):
    """Samples with at least one annotation (of the given types) for which ``condition`` holds."""

    def __init__(self, condition: MatchExpression, annotation_types: list[str]) -> None:
        self.condition, self.annotation_types = condition, annotation_types

    def to_sql(self, ctx: SqlContext) -> Fragment:
        where = self.condition.to_sql(ctx)
        if self.annotation_types:
            where = (
                "a.annotation_type IN ("
                + Fragment.join(", ", (param(t) for t in self.annotation_types))
                + ") AND "
                + where
            )
        return (
            "s.sample_id IN (SELECT a.sample_id FROM annotation a JOIN annotation_label l "
            "ON l.label_id = a.label_id WHERE " + where + ")"
        )


class CaptionsField:
    def contains(self, text: str) -> MatchExpression:
        """Samples with a caption containing ``text`` (case-insensitive)."""
        check_value(text, "str", "captions.contains")
        return RawCondition(
            "s.sample_id IN (SELECT c.sample_id FROM caption c "
            "WHERE contains(lower(c.text), lower($p0)))",
            text,
        )


class ImageSampleField:
    """Fields of image samples: ``ImageSampleField.width > 100``."""

    sample_id = SampleIdField()
    file_name = StringField("file_name")
    file_path_abs = StringField("file_path_abs")
    width = NumberField("width")
    height = NumberField("height")
    created_at = DatetimeField("created_at")
    tags = TagsField()
    metadata = MetadataAccessor()
    annotations = AnnotationsField()
    captions = CaptionsField()


class VideoSampleField(ImageSampleField):
    """Fields of video samples: adds fps, duration_s and frame_count."""

    fps = NumberField("fps", "float")
    duration_s = NumberField("duration_s", "float")
    frame_count = NumberField("frame_count")


class FrameSampleField(ImageSampleField):
    """Fields of video frames: adds frame_number and timestamp_s."""

    frame_number = NumberField("frame_number")
    timestamp_s = NumberField("timestamp_s", "float")


class OrderByField:
    """Sort key: ``OrderByField(ImageSampleField.width).desc()``. Missing values sort last."""

    def __init__(self, field: Field, descending: bool = False) -> None:
        if not isinstance(field, (Field, AnnotationCount)):
            raise QueryError(f"OrderByField expects a sample field, got {field!r}.")
        if isinstance(field, TagsField):
            raise QueryError("Samples cannot be ordered by their tags.")
        self.field = field
        self.descending = descending

    def asc(self) -> OrderByField:
        return OrderByField(self.field, descending=False)

    def desc(self) -> OrderByField:
        return OrderByField(self.field, descending=True)

    def to_sql(self, ctx: SqlContext) -> Fragment:
        direction = "DESC" if self.descending else "ASC"
        return self.field.sql_value(ctx) + f" {direction} NULLS LAST"


class _MemberMatch(MatchExpression):
    """Groups with a member (in ``view``, or in any view) for which ``condition`` holds.

    The condition compiles against the member's row under the same alias ``s`` as any sample
    condition: inside the subquery ``s`` is the member, outside it the group."""

    def __init__(self, condition: MatchExpression | None, view: str | None) -> None:
        self.condition, self.view = condition, view

    def to_sql(self, ctx: SqlContext) -> Fragment:
        where = [Fragment("true")]
        if self.view is not None:
            where.append(sql("m.view_name = $view", view=self.view))
        if self.condition is not None:
            where.append(self.condition.to_sql(ctx))
        return (
            "s.sample_id IN (SELECT m.group_sample_id FROM group_member m "
            "JOIN sample s ON s.sample_id = m.sample_id WHERE "
            + Fragment.join(" AND ", where)
            + ")"
        )


class MembersField:
    """Predicates on a group's members: ``GroupSampleField.members.match(
    ImageSampleField.tags.contains("blurry"), view="front")``."""

    def match(self, condition: MatchExpression, *, view: str | None = None) -> MatchExpression:
        """Groups with at least one member (in ``view``, if given) for which ``condition``
        (an expression on ``ImageSampleField``) holds."""
        if not isinstance(condition, MatchExpression):
            raise QueryError(
                f"members.match() expects an expression on ImageSampleField, got {condition!r}."
            )
        if view is not None:
            check_value(view, "str", "view")
        return _MemberMatch(condition, view)

    def exists(self, view: str) -> MatchExpression:
        """Groups that have a member in ``view``."""
        return _MemberMatch(None, check_value(view, "str", "view"))


class _MemberAnnotations:
    """``GroupSampleField.annotations``: a group has no annotations of its own, so these are
    its members' (groups with a member whose annotations match; text queries such as
    ``object_detection(class_name = "car")`` on a group dataset come here)."""

    def match(self, condition: MatchExpression, *, annotation_type: Any = None) -> MatchExpression:
        return _MemberMatch(
            ImageSampleField.annotations.match(condition, annotation_type=annotation_type), None
        )

    def exists(self, **filters: Any) -> MatchExpression:
        return _MemberMatch(ImageSampleField.annotations.exists(**filters), None)

    def contains_label(self, label: str, *, source: str | None = None) -> MatchExpression:
        return self.exists(label=label, source=source)


class _MemberCaptions:
    """``GroupSampleField.captions``: groups with a member whose caption contains a text."""

    def contains(self, text: str) -> MatchExpression:
        return _MemberMatch(ImageSampleField.captions.contains(text), None)


class GroupSampleField:
    """Fields of groups: ``GroupSampleField.tags.contains("reviewed")``, ``GroupSampleField.name``
    (the group's name: the file stem it was imported from) and ``GroupSampleField.members``;
    ``annotations`` and ``captions`` are the members' (a group has none of its own)."""

    sample_id = SampleIdField()
    name = StringField("file_name")
    file_name = StringField("file_name")
    created_at = DatetimeField("created_at")
    tags = TagsField()
    metadata = MetadataAccessor()
    members = MembersField()
    annotations = _MemberAnnotations()
    captions = _MemberCaptions()


def member_of_view(view: str) -> MatchExpression:
    """Samples that are a group's member in ``view`` (for queries over a group dataset's
    members: ``GroupDataset.members(view="front")``)."""
    check_value(view, "str", "view")
    return RawCondition(
        "s.sample_id IN (SELECT m.sample_id FROM group_member m WHERE m.view_name = $p0)",
        view,
    )


class _MemberOfGroups(MatchExpression):
    """Samples that are a member of one of the groups a group query yields."""

    def __init__(self, groups: Any) -> None:
        self.groups = groups

    def to_sql(self, ctx: SqlContext) -> Fragment:
        return (
            "s.sample_id IN (SELECT m.sample_id FROM group_member m "
            "WHERE m.group_sample_id IN (SELECT sample_id FROM ("
            + self.groups.sample_ids_fragment()
            + ")))"
        )


def member_of_groups(groups: Any) -> MatchExpression:
    """Samples that are a member of one of ``groups`` (a query over a group dataset's groups:
    ``GroupDataset.members(groups=...)``, the group dataset's export)."""
    if getattr(groups, "kind", None) != "group":
        raise QueryError(f"member_of_groups() expects a query of groups, got {groups!r}.")
    return _MemberOfGroups(groups)
