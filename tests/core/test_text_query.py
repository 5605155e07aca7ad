"""The text query language: each query matches exactly what the equivalent Python DSL matches,
its equivalent Python source rebuilds the same query, and errors point at their place."""

from __future__ import annotations

import datetime

import pytest

import lightly_studio as ls
from lightly_studio import db_manager
from lightly_studio.core.dataset_query import AND, NOT, OR, ImageSampleField
from lightly_studio.errors import QueryError, QueryTextError
from lightly_studio.query.fields import AnnotationField
from lightly_studio.query.text import expected_at, parse

F = ImageSampleField
A = AnnotationField


@pytest.fixture(scope="module")
def coco(tmp_path_factory, examples_dir):
    """The 128-image COCO subset, a few tags and metadata (one database for the module)."""
    db_manager.connect(db_file=tmp_path_factory.mktemp("text") / "lightly_studio.db")
    root = examples_dir / "coco_subset_128_images"
    dataset = ls.ImageDataset.create("coco")
    dataset.add_samples_from_coco(
        annotations_json=str(root / "instances_train2017.json"),
        images_path=str(root / "images"),
        embed=False,
    )
    dataset.add_annotations_from_coco(
        str(root / "instances_train2017.json"),
        annotation_type="instance_segmentation",
        annotation_source="masks",
    )
    dataset[:19].add_tag("reviewed")
    dataset[10:30].add_tag("needs labeling")
    for i, sample in enumerate(dataset[:40]):
        sample.metadata["brightness"] = i / 40
        sample.metadata["weather"] = "rain" if i % 3 else "sun"
    yield dataset
    db_manager.close()


@pytest.fixture(scope="module")
def examples_dir():
    from tests.conftest import EXAMPLES

    return EXAMPLES


def ids(query) -> set:
    return set(query.sample_ids())


# Each text query of the reference (and of our extensions) next to the Python DSL expression
# it stands for.
EQUIVALENT = [
    ("width >= 640 OR height >= 400", OR(F.width >= 640, F.height >= 400)),
    ('NOT "reviewed" IN tags', NOT(F.tags.contains("reviewed"))),
    (
        'object_detection(class_name = "cat" AND width >= 50)',
        F.annotations.match(
            AND(A.class_name == "cat", A.width >= 50), annotation_type="object_detection"
        ),
    ),
    (
        'segmentation_mask(class_name = "person" AND NOT (height < 100 OR x > 300))',
        F.annotations.match(
            AND(A.class_name == "person", NOT(OR(A.height < 100, A.x > 300))),
            annotation_type=["instance_segmentation", "semantic_segmentation"],
        ),
    ),
    ("width < 500 and height != 480", AND(F.width < 500, F.height != 480)),
    ('file_name = "000000000009.jpg"', F.file_name == "000000000009.jpg"),
    ("file_name != '000000000009.jpg'", F.file_name != "000000000009.jpg"),
    ('file_path_abs CONTAINS "0000000001"', F.file_path_abs.contains("0000000001")),
    ('metadata["brightness"] > 0.5', F.metadata["brightness"] > 0.5),
    ('metadata["weather"] = "sun"', F.metadata["weather"] == "sun"),
    (
        'created_at > "2020-01-01"',
        F.created_at > datetime.datetime(2020, 1, 1),
    ),
    (
        '("reviewed" IN tags OR "needs labeling" IN tags) AND NOT width > 600',
        AND(
            OR(F.tags.contains("reviewed"), F.tags.contains("needs labeling")),
            NOT(F.width > 600),
        ),
    ),
]


@pytest.mark.parametrize(("text", "expression"), EQUIVALENT, ids=[t for t, _ in EQUIVALENT])
def test_text_query_matches_what_the_python_dsl_matches(coco, text, expression):
    from_text = coco.match_text(text)
    from_python = coco.match(expression)
    assert ids(from_text) == ids(from_python)
    # Same expressions, so the same SQL (up to the generated parameter names).
    assert _shape(from_text) == _shape(from_python)


def _shape(query) -> str:
    import re

    text = query.sample_ids_subquery()[0]
    return re.sub(r"\$\w+", "$", text)


def test_the_reference_examples_select_sensible_subsets(coco):
    assert 0 < coco.match_text("width >= 640 OR height >= 400").count() < 128
    assert coco.match_text('NOT "reviewed" IN tags').count() == 128 - 19
    assert coco.match_text('metadata["brightness"] > 0.5').count() == 19
    people = coco.match_text('segmentation_mask(class_name = "person")').count()
    assert people == coco.match(F.annotations.contains_label("person", source="masks")).count()
    assert people > 0
    boxed = coco.match_text('object_detection(class_name = "person" AND source = "masks")')
    assert boxed.count() == 0  # the masks source holds no boxes


def test_an_annotation_condition_holds_for_one_annotation_not_across_several(coco):
    # A sample with a small person and a big car is not a match for a big person.
    big_person = coco.match_text('object_detection(class_name = "person" AND width >= 200)')
    person = coco.match_text('object_detection(class_name = "person")')
    big_anything = coco.match_text("object_detection(width >= 200)")
    assert ids(big_person) <= ids(person) & ids(big_anything)
    assert ids(big_person) != ids(person) & ids(big_anything)


def test_keywords_are_case_insensitive_and_match_text_ands_with_earlier_matches(coco):
    assert ids(coco.match_text("width >= 640 or height >= 400")) == ids(
        coco.match_text("width >= 640 OR height >= 400")
    )
    chained = coco.match(F.width >= 600).match_text('"reviewed" IN tags')
    assert ids(chained) == ids(coco.match(AND(F.width >= 600, F.tags.contains("reviewed"))))


@pytest.mark.parametrize(("text", "expression"), EQUIVALENT, ids=[t for t, _ in EQUIVALENT])
def test_the_equivalent_python_builds_the_same_query(coco, text, expression):
    python = parse(text).python
    built = eval(
        python,
        {
            "AND": AND,
            "OR": OR,
            "NOT": NOT,
            "ImageSampleField": F,
            "AnnotationField": A,
            "datetime": datetime,
        },
    )
    assert ids(coco.match(built)) == ids(coco.match_text(text))


@pytest.mark.parametrize(
    ("text", "line", "column", "says"),
    [
        ("width >= 640 AND", 1, 17, "ends too early"),
        ("widht > 3", 1, 1, "Unknown field 'widht'"),
        ('width > "wide"', 1, 9, "compared with a number"),
        ("width >= 640 AND\n  height >", 2, 11, "ends too early"),
        ("width > 3 )", 1, 11, "Unexpected ')'"),
        ('"reviewed IN tags', 1, 1, "closing quote"),
        ('metadata["nope"] > 1', 1, 1, "Unknown metadata key 'nope'"),
        ('metadata["weather"] > 1', 1, 1, "holds text"),
        ('object_detection(colour = "red")', 1, 18, "Unknown field 'colour' inside"),
        ('class_name = "cat"', 1, 1, "inside object_detection"),
        ('"x" IN labels', 1, 8, "IN looks in tags"),
        ('created_at > "yesterday"', 1, 14, "a date like"),
        ("", 1, 1, "empty"),
    ],
)
def test_errors_say_what_and_where(coco, text, line, column, says):
    with pytest.raises(QueryTextError) as info:
        coco.match_text(text)
    error = info.value
    assert says in str(error)
    assert (error.line, error.column) == (line, column)
    assert error.offset == len("\n".join(text.split("\n")[: line - 1])) + (line > 1) + column - 1
    assert isinstance(error, QueryError)  # callers that catch QueryError catch these too


def test_text_is_never_evaluated_as_code(coco):
    with pytest.raises(QueryTextError):
        coco.match_text("__import__('os').system('true')")


@pytest.mark.parametrize(
    ("text", "kinds"),
    [
        ("", {"fields", "functions", "metadata", "tag_names", "keywords:NOT"}),
        ("width ", {"operators", "keywords:CONTAINS"}),
        ("width >= 640 ", {"keywords:AND", "keywords:OR"}),
        (
            "width < 500 AND object_detection(",
            {"annotation_fields:object_detection", "keywords:NOT"},
        ),
        ('object_detection(class_name = "', {"class_names"}),
        ("object_detection(source != ", {"source_names"}),
        ("metadata[", {"metadata_keys"}),
        ('"reviewed" IN ', {"tags"}),
        ('"reviewed" ', {"keywords:IN"}),
    ],
)
def test_what_may_come_at_the_cursor(text, kinds):
    assert set(expected_at(text, len(text)).kinds) == kinds


def test_the_word_being_typed_is_what_a_completion_replaces():
    found = expected_at("width >= 640 AND hei", 20)
    assert (found.start, found.end, found.prefix) == (17, 20, "hei")
    inside = expected_at('object_detection(class_name = "ca)', 33)
    assert (inside.start, inside.prefix, inside.kinds) == (30, '"ca', ["class_names"])
