"""Query terms over stored evaluation runs (tables of migration 0004, written by
``store.evaluations``): samples by their per-sample metrics or by their matches, and sort keys.

    SampleEvaluationQuery("det", EvaluationMetricField("fp") > 0)
    AnnotationMetricQuery.confusion("det", "person", "dog", AnnotationEvaluationMetricField("iou") > 0.3)
    AnnotationMetricQuery.false_positive("det", "person")
    OrderByEvaluationMetricField("det", "fn").desc()

A run is named per dataset; a name with no stored run matches no sample.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from lightly_studio.db import Fragment, sql
from lightly_studio.errors import QueryError
from lightly_studio.query.expressions import MatchExpression, SqlContext, check_value
from lightly_studio.query.fields import OrderByField, OrdinalField

# Frozen copies of store.evaluations' columns (this layer does not import the store).
SAMPLE_METRICS = ("tp", "fp", "fn", "precision", "recall", "miou", "disagreement")
MATCH_METRICS = ("iou", "confidence")

_RUN = (
    "JOIN evaluation_run er ON er.run_id = {alias}.run_id "
    "WHERE er.dataset_id = $dataset AND er.name = $run"
)


def _check_run(run_name: Any) -> str:
    if not isinstance(run_name, str) or not run_name:
        raise QueryError(f"An evaluation run name is a non-empty string, got {run_name!r}.")
    return run_name


def _check_terms(terms: tuple, kind: type, where: str) -> list:
    for term in terms:
        if not isinstance(term, MatchExpression):
            raise QueryError(f"{where} expects conditions like {kind.__name__}('fp') > 0.")
    return list(terms)


class EvaluationMetricField(OrdinalField):
    """A per-sample metric of a run (``tp``, ``fp``, ``fn``, ``precision``, ``recall``,
    ``miou``, ``disagreement``), compared inside ``SampleEvaluationQuery``."""

    def __init__(self, name: str) -> None:
        if name not in SAMPLE_METRICS:
            raise QueryError(
                f"Unknown evaluation metric {name!r}; per-sample metrics: {', '.join(SAMPLE_METRICS)}."
            )
        self.name = name
        self.kind = "float"

    def sql_value(self, ctx: SqlContext) -> Fragment:
        return Fragment(f'es."{self.name}"')

    __hash__ = OrdinalField.__hash__


class AnnotationEvaluationMetricField(OrdinalField):
    """A value of a match row (``iou``, ``confidence``), compared inside
    ``AnnotationMetricQuery``."""

    def __init__(self, name: str) -> None:
        if name not in MATCH_METRICS:
            raise QueryError(
                f"Unknown match metric {name!r}; match metrics: {', '.join(MATCH_METRICS)}."
            )
        self.name = name
        self.kind = "float"

    def sql_value(self, ctx: SqlContext) -> Fragment:
        return Fragment(f"em.{self.name}")

    __hash__ = OrdinalField.__hash__


def _conditions(terms: list, ctx: SqlContext) -> Fragment:
    out = Fragment()
    for term in terms:
        out = out + " AND " + term.to_sql(ctx)
    return out


class SampleEvaluationQuery(MatchExpression):
    """Samples of run ``run_name`` whose per-sample metrics meet every condition."""

    def __init__(self, run_name: str, *conditions: MatchExpression) -> None:
        self.run_name = _check_run(run_name)
        self.conditions = _check_terms(conditions, EvaluationMetricField, "SampleEvaluationQuery")

    def to_sql(self, ctx: SqlContext) -> Fragment:
        return (
            sql(
                "s.sample_id IN (SELECT es.sample_id FROM evaluation_sample es "
                + _RUN.format(alias="es"),
                dataset=ctx.dataset_id,
                run=self.run_name,
            )
            + _conditions(self.conditions, ctx)
            + ")"
        )


class AnnotationMetricQuery(MatchExpression):
    """Samples with a match row of run ``run_name`` of the given kind. Build with
    ``confusion``, ``false_positive``, ``false_negative`` or ``true_positive``."""

    def __init__(
        self,
        run_name: str,
        outcomes: tuple[str, ...] | None,
        labels: Mapping[str, str | None],
        conditions: tuple,
    ) -> None:
        self.run_name = _check_run(run_name)
        self.outcomes = outcomes
        self.labels = {
            column: None if value is None else check_value(value, "str", column)
            for column, value in labels.items()
        }
        self.conditions = _check_terms(
            conditions, AnnotationEvaluationMetricField, "AnnotationMetricQuery"
        )

    @classmethod
    def confusion(
        cls,
        run_name: str,
        ground_truth: str | None,
        prediction: str | None,
        *conditions: MatchExpression,
    ) -> AnnotationMetricQuery:
        """A cell of the confusion matrix: a ground truth of class ``ground_truth`` matched
        with a prediction of class ``prediction``. None on one side is the background: an
        unmatched prediction (ground_truth=None) or an unmatched ground truth
        (prediction=None)."""
        if ground_truth is None and prediction is None:
            raise QueryError("confusion() needs a ground-truth class, a predicted class, or both.")
        return cls(
            run_name,
            ("tp", "mismatch", "fp", "fn"),
            {"gt_label": ground_truth, "pred_label": prediction},
            conditions,
        )

    @classmethod
    def false_positive(
        cls, run_name: str, prediction: str | None = None, *conditions: MatchExpression
    ) -> AnnotationMetricQuery:
        """A prediction (of class ``prediction``; None: any) that matched no ground truth of
        its class."""
        labels = {} if prediction is None else {"pred_label": prediction}
        return cls(run_name, ("fp", "mismatch"), labels, conditions)

    @classmethod
    def false_negative(
        cls, run_name: str, ground_truth: str | None = None, *conditions: MatchExpression
    ) -> AnnotationMetricQuery:
        """A ground truth (of class ``ground_truth``; None: any) that no prediction of its
        class matched."""
        labels = {} if ground_truth is None else {"gt_label": ground_truth}
        return cls(run_name, ("fn", "mismatch"), labels, conditions)

    @classmethod
    def true_positive(
        cls, run_name: str, label: str | None = None, *conditions: MatchExpression
    ) -> AnnotationMetricQuery:
        """A prediction matched with a ground truth of the same class (``label``; None: any)."""
        labels = {} if label is None else {"gt_label": label}
        return cls(run_name, ("tp",), labels, conditions)

    def to_sql(self, ctx: SqlContext) -> Fragment:
        where = sql(
            "s.sample_id IN (SELECT em.sample_id FROM evaluation_match em "
            + _RUN.format(alias="em"),
            dataset=ctx.dataset_id,
            run=self.run_name,
        )
        if self.outcomes is not None:
            where = where + " AND list_contains(" + sql("$outcomes", outcomes=list(self.outcomes))
            where = where + "::VARCHAR[], em.outcome)"
        for column, value in self.labels.items():
            if value is None:
                where = where + f" AND em.{column} IS NULL"
            else:
                where = where + f" AND em.{column} = " + sql("$label", label=value)
        return where + _conditions(self.conditions, ctx) + ")"


class _RunMetricValue(OrdinalField):
    """A sample's per-sample metric in one run (NULL for samples outside the run)."""

    def __init__(self, run_name: str, metric: str) -> None:
        self.run_name = _check_run(run_name)
        self.metric = EvaluationMetricField(metric).name
        self.name = f"{run_name}.{metric}"
        self.kind = "float"

    def sql_value(self, ctx: SqlContext) -> Fragment:
        return sql(
            f'(SELECT es."{self.metric}" FROM evaluation_sample es '
            + _RUN.format(alias="es")
            + " AND es.sample_id = s.sample_id)",
            dataset=ctx.dataset_id,
            run=self.run_name,
        )

    __hash__ = OrdinalField.__hash__


class OrderByEvaluationMetricField(OrderByField):
    """Sort key: ``OrderByEvaluationMetricField("det", "fn").desc()``; samples outside the
    run sort last."""

    def __init__(self, run_name: str, metric: str, descending: bool = False) -> None:
        super().__init__(_RunMetricValue(run_name, metric), descending=descending)
        self.run_name, self.metric = run_name, metric

    def asc(self) -> OrderByEvaluationMetricField:
        return OrderByEvaluationMetricField(self.run_name, self.metric, descending=False)

    def desc(self) -> OrderByEvaluationMetricField:
        return OrderByEvaluationMetricField(self.run_name, self.metric, descending=True)
