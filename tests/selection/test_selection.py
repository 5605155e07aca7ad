"""Selection on a dataset: the documented API, tags, filters, errors, strategies end to end.

Samples are rows without image files; their embeddings are hand-made unit vectors in the
plane (angles in degrees), so the expected picks can be worked out by hand.
"""

from __future__ import annotations

import numpy as np
import polars as pl
import pytest

import lightly_studio as ls
from lightly_studio.core.dataset_query import ImageSampleField
from lightly_studio.errors import SelectionError
from lightly_studio.selection.selection_config import (
    AnnotationClassBalancingStrategy,
    EmbeddingDiversityStrategy,
    EmbeddingSimilarityStrategy,
    MetadataWeightingStrategy,
)

MODEL = "my_model_name"


def make_dataset(angles: list[float], name: str = "sel", embed: bool = True):
    """Samples s00, s01, … (width = index + 1) with embeddings at the given angles."""
    from lightly_studio.db import transaction
    from lightly_studio.store.samples import insert_samples

    dataset = ls.ImageDataset.create(name)
    n = len(angles)
    frame = pl.DataFrame(
        {
            "file_path_abs": [f"/data/{name}/s{i:02d}.jpg" for i in range(n)],
            "file_name": [f"s{i:02d}.jpg" for i in range(n)],
            "width": list(range(1, n + 1)),
            "height": [10] * n,
        }
    )
    with transaction() as con:
        stored = insert_samples(con, dataset.dataset_id, frame)
    by_path = dict(zip(stored["file_path_abs"], stored["sample_id"], strict=True))
    ids = [by_path[p] for p in frame["file_path_abs"]]
    if embed:
        add_vectors(dataset, ids, angles)
    return dataset, ids


def add_vectors(dataset, ids, angles, name: str = MODEL):
    rad = np.radians(np.asarray(angles, dtype=np.float64))
    vectors = np.stack([np.cos(rad), np.sin(rad)], axis=1).astype(np.float32)
    dataset.add_embeddings(name, ids, vectors)


def names(samples) -> list[str]:
    return [s.file_name for s in samples]


def tagged(dataset, tag: str) -> list[str]:
    return sorted(names(dataset.match(ImageSampleField.tags.contains(tag)).to_list()))


def set_metadata(dataset, ids, key, values):
    from lightly_studio.db import get_connection
    from lightly_studio.store.metadata import set_metadata_values

    frame = pl.DataFrame(
        {
            "sample_id": [str(i) for i, v in zip(ids, values, strict=True) if v is not None],
            "value": [v for v in values if v is not None],
        }
    )
    set_metadata_values(get_connection(), dataset.dataset_id, key, frame)


LINE = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90]


# -- diverse --------------------------------------------------------------------------------------
def test_diverse_as_documented_tags_and_returns_the_farthest_point_picks(db):
    dataset, _ = make_dataset(LINE)
    picked = (
        dataset.query()
        .selection()
        .diverse(
            n_samples_to_select=3,
            selection_result_tag_name="diverse_selection",
            embedding_model_name=MODEL,
        )
    )
    # both ends first (an exact tie, decided by the seed), then the middle of the arc
    assert sorted(names(picked[:2])) == ["s00.jpg", "s09.jpg"]
    assert names(picked)[2] in ("s04.jpg", "s05.jpg")
    assert tagged(dataset, "diverse_selection") == sorted(names(picked))


def test_diverse_runs_within_the_filter_of_the_query(db):
    dataset, _ = make_dataset(LINE)
    query = dataset.match(ImageSampleField.width <= 6)  # s00..s05: 0..50 degrees
    picked = query.selection().diverse(2, "within", embedding_model_name=MODEL)
    assert sorted(names(picked)) == ["s00.jpg", "s05.jpg"]


def test_same_seed_same_picks_and_the_seed_breaks_exact_ties(db):
    dataset, _ = make_dataset([0, 0, 0, 0, 0, 0, 90, 90, 90, 90, 90, 90])
    runs = {}
    for seed in range(6):
        runs[seed] = names(
            dataset.query()
            .selection()
            .diverse(2, f"seed{seed}", embedding_model_name=MODEL, seed=seed)
        )
    again = names(
        dataset.query().selection().diverse(2, "again", embedding_model_name=MODEL, seed=3)
    )
    assert again == runs[3]
    # always one sample of each direction, but which duplicate depends on the seed
    for picks in runs.values():
        assert sorted(int(n[1:3]) >= 6 for n in picks) == [False, True]
    assert len({tuple(sorted(p)) for p in runs.values()}) > 1


def test_existing_result_tag_is_an_error_unless_overwrite(db):
    dataset, ids = make_dataset(LINE)
    dataset.get_sample(ids[3]).add_tag("taken")
    with pytest.raises(SelectionError, match="'taken' already exists"):
        dataset.query().selection().diverse(2, "taken", embedding_model_name=MODEL)
    picked = (
        dataset.query().selection().diverse(2, "taken", embedding_model_name=MODEL, overwrite=True)
    )
    assert tagged(dataset, "taken") == sorted(names(picked)) == ["s00.jpg", "s09.jpg"]


def test_more_than_the_pool_selects_everything_with_a_warning(db):
    dataset, _ = make_dataset([0, 45, 90])
    with pytest.warns(UserWarning, match="only 3 samples can be selected"):
        picked = dataset.query().selection().diverse(10, "all", embedding_model_name=MODEL)
    assert sorted(names(picked)) == ["s00.jpg", "s01.jpg", "s02.jpg"]


def test_preselected_tag_continues_an_earlier_selection(db):
    dataset, ids = make_dataset(LINE)
    dataset.get_sample(ids[0]).add_tag("round1")
    picked = (
        dataset.query()
        .selection()
        .diverse(2, "round2", embedding_model_name=MODEL, preselected_tag_name="round1")
    )
    assert names(picked) == ["s09.jpg", *names(picked)[1:]]
    assert names(picked)[1] in ("s04.jpg", "s05.jpg")
    assert "s00.jpg" not in tagged(dataset, "round2")


def test_unknown_preselected_tag_is_an_error(db):
    dataset, _ = make_dataset(LINE)
    with pytest.raises(SelectionError, match="no tag 'nope'"):
        dataset.query().selection().diverse(
            2, "x", embedding_model_name=MODEL, preselected_tag_name="nope"
        )


def test_samples_without_embeddings_are_left_out_with_a_warning(db):
    dataset, ids = make_dataset(LINE, embed=False)
    add_vectors(dataset, ids[2:], LINE[2:])
    with pytest.warns(UserWarning) as caught:
        picked = dataset.query().selection().diverse(20, "x", embedding_model_name=MODEL)
    messages = [str(w.message) for w in caught]
    assert any("2 of the 10 samples have no embedding" in m for m in messages)
    assert any("only 8 samples can be selected" in m for m in messages)
    assert all(w.filename == __file__ for w in caught)  # attributed to the caller's line
    assert sorted(names(picked)) == [f"s{i:02d}.jpg" for i in range(2, 10)]


def test_invalid_arguments_are_clear_errors(db):
    dataset, _ = make_dataset(LINE)
    selection = dataset.query().selection()
    with pytest.raises(SelectionError, match="non-negative integer"):
        selection.diverse(-1, "x", embedding_model_name=MODEL)
    with pytest.raises(SelectionError, match="non-empty string"):
        selection.diverse(2, "", embedding_model_name=MODEL)
    with pytest.raises(SelectionError, match="at least one"):
        selection.multi_strategies(2, "x", [])


# -- metadata weighting ---------------------------------------------------------------------------
def test_metadata_weighting_takes_the_highest_values_and_never_missing_ones(db):
    dataset, ids = make_dataset(LINE, embed=False)
    values = [0.5, 0.9, None, 0.1, 0.7, None, 0.3, 0.8, 0.2, 0.6]
    set_metadata(dataset, ids, "typicality", values)
    picked = (
        dataset.query()
        .selection()
        .metadata_weighting(
            n_samples_to_select=3, selection_result_tag_name="top", metadata_key="typicality"
        )
    )
    assert names(picked) == ["s01.jpg", "s07.jpg", "s04.jpg"]
    lowest = dataset.query().selection().metadata_weighting(3, "low", "typicality", strength=-1.0)
    assert names(lowest) == ["s03.jpg", "s08.jpg", "s06.jpg"]
    with pytest.warns(UserWarning, match="only 8 samples"):
        everything = dataset.query().selection().metadata_weighting(10, "all", "typicality")
    assert "s02.jpg" not in names(everything) and "s05.jpg" not in names(everything)


def test_metadata_weighting_on_integer_values(db):
    dataset, ids = make_dataset([0, 1, 2, 3], embed=False)
    set_metadata(dataset, ids, "count", [3, 1, 4, 2])
    assert names(dataset.query().selection().metadata_weighting(2, "t", "count")) == [
        "s02.jpg",
        "s00.jpg",
    ]


def test_metadata_weighting_needs_an_existing_numeric_key(db):
    dataset, ids = make_dataset([0, 1, 2], embed=False)
    set_metadata(dataset, ids, "weather", ["sun", "rain", "fog"])
    with pytest.raises(SelectionError, match="'weather' holds str values"):
        dataset.query().selection().metadata_weighting(2, "t", "weather")
    with pytest.raises(SelectionError, match="no metadata key 'typicality'"):
        dataset.query().selection().metadata_weighting(2, "t", "typicality")


# -- similarity -----------------------------------------------------------------------------------
def test_similarity_towards_and_away_from_a_tagged_query_set(db):
    dataset, ids = make_dataset(LINE)
    dataset.get_sample(ids[2]).add_tag("query")  # 20 degrees
    near = (
        dataset.match(~ImageSampleField.tags.contains("query"))
        .selection()
        .similarity(3, "near", query_tag_name="query", embedding_model_name=MODEL)
    )
    assert sorted(names(near)) == ["s01.jpg", "s03.jpg", names(near)[2]]
    assert names(near)[2] in ("s00.jpg", "s04.jpg")
    far = (
        dataset.query()
        .selection()
        .multi_strategies(
            2,
            "far",
            [EmbeddingSimilarityStrategy("query", strength=-1.0, embedding_model_name=MODEL)],
        )
    )
    assert names(far) == ["s09.jpg", "s08.jpg"]


# -- class balancing ------------------------------------------------------------------------------
def annotate(dataset, ids, labels_per_sample):
    from lightly_studio.core.annotation import CreateClassification

    for sample_id, labels in zip(ids, labels_per_sample, strict=True):
        if labels:
            dataset.get_sample(sample_id).add_annotations(
                [CreateClassification(label=label) for label in labels]
            )


def histogram(dataset, samples) -> dict[str, int]:
    counts: dict[str, int] = {}
    for sample in samples:
        for annotation in sample.annotations:
            counts[annotation.label] = counts.get(annotation.label, 0) + 1
    return counts


@pytest.fixture
def skewed(db):
    """24 samples: 16 cats, 6 dogs, 2 birds (one class annotation each)."""
    dataset, ids = make_dataset(list(range(24)), embed=False)
    labels = [["cat"]] * 16 + [["dog"]] * 6 + [["bird"]] * 2
    annotate(dataset, ids, labels)
    return dataset


def test_uniform_balancing_evens_out_the_classes(skewed):
    picked = (
        skewed.query()
        .selection()
        .annotation_balancing(
            n_samples_to_select=6,
            selection_result_tag_name="balanced_uniform",
            target_distribution="uniform",
        )
    )
    assert histogram(skewed, picked) == {"cat": 2, "dog": 2, "bird": 2}


def test_custom_target_distribution(skewed):
    picked = (
        skewed.query()
        .selection()
        .annotation_balancing(
            n_samples_to_select=10,
            selection_result_tag_name="balanced_custom",
            target_distribution={"cat": 0.2, "dog": 0.6, "bird": 0.2},
        )
    )
    assert histogram(skewed, picked) == {"cat": 2, "dog": 6, "bird": 2}


def test_unnamed_classes_share_the_rest_of_the_target(skewed):
    # dog 0.5, everything else (cat, bird) 0.5 together
    picked = (
        skewed.query()
        .selection()
        .annotation_balancing(8, "half_dogs", target_distribution={"dog": 0.5})
    )
    counts = histogram(skewed, picked)
    assert counts["dog"] == 4 and counts.get("cat", 0) + counts.get("bird", 0) == 4


def test_input_distribution_keeps_the_pool_shares(skewed):
    picked = (
        skewed.query()
        .selection()
        .annotation_balancing(12, "same_shares", target_distribution="input")
    )
    assert histogram(skewed, picked) == {"cat": 8, "dog": 3, "bird": 1}


def test_unknown_class_and_missing_annotations_are_clear_errors(skewed, tmp_path):
    with pytest.raises(SelectionError, match=r"unknown class name.*'horse'.*'bird', 'cat', 'dog'"):
        skewed.query().selection().annotation_balancing(5, "x", target_distribution={"horse": 1.0})
    with pytest.raises(SelectionError, match="target_distribution must be"):
        skewed.query().selection().annotation_balancing(5, "x", target_distribution="even")
    empty, _ = make_dataset([0, 1], name="unlabelled", embed=False)
    with pytest.raises(SelectionError, match="have no annotations"):
        empty.query().selection().annotation_balancing(1, "x")


# -- multiple strategies --------------------------------------------------------------------------
def test_multi_strategies_as_documented(db):
    dataset, ids = make_dataset(LINE)
    set_metadata(dataset, ids, "typicality", [0.1 * i for i in range(10)])
    picked = (
        dataset.query()
        .selection()
        .multi_strategies(
            n_samples_to_select=4,
            selection_result_tag_name="multi_strategy_selection",
            selection_strategies=[
                MetadataWeightingStrategy(metadata_key="typicality", strength=1.0),
                EmbeddingDiversityStrategy(embedding_model_name=MODEL, strength=2.0),
            ],
        )
    )
    assert len(picked) == 4
    assert tagged(dataset, "multi_strategy_selection") == sorted(names(picked))


def test_raising_a_strength_moves_the_combined_result_its_way(db):
    dataset, ids = make_dataset(LINE)
    set_metadata(dataset, ids, "score", [float(i) for i in range(10)])  # high at 90 degrees

    def run(tag, metadata_strength, diversity_strength):
        picked = (
            dataset.query()
            .selection()
            .multi_strategies(
                4,
                tag,
                [
                    MetadataWeightingStrategy("score", strength=metadata_strength),
                    EmbeddingDiversityStrategy(
                        embedding_model_name=MODEL, strength=diversity_strength
                    ),
                ],
            )
        )
        return sorted(int(n[1:3]) for n in names(picked))

    # metadata dominates: the four top scores
    assert run("meta", 10.0, 1.0) == [6, 7, 8, 9]
    # diversity dominates: farthest-point picks (90, 0, then 50 and 70 — metadata only breaks
    # the exact distance ties towards higher scores)
    assert run("div", 0.1, 10.0) == [0, 5, 7, 9]
    # in between, the picks drift towards high scores as the metadata strength grows
    ladder = [run(f"mixed{i}", strength, 1.0) for i, strength in enumerate([1.0, 1.2, 1.4, 2.0])]
    assert ladder == [[0, 5, 7, 9], [0, 4, 8, 9], [0, 7, 8, 9], [6, 7, 8, 9]]


def test_balancing_combined_with_diversity(skewed):
    add_vectors(
        skewed, [s.sample_id for s in skewed.query().to_list()], [i * 3.0 for i in range(24)]
    )
    picked = (
        skewed.query()
        .selection()
        .multi_strategies(
            6,
            "mix",
            [
                AnnotationClassBalancingStrategy("uniform", strength=5.0),
                EmbeddingDiversityStrategy(embedding_model_name=MODEL, strength=1.0),
            ],
        )
    )
    assert histogram(skewed, picked) == {"cat": 2, "dog": 2, "bird": 2}


# -- duplicates -----------------------------------------------------------------------------------
def test_deduplicate_keeps_one_sample_per_group_of_near_duplicates(db):
    angles = [0, 0.2, 0.4, 30, 60, 60.3, 90, 90.1, 90.2, 90.3]
    dataset, _ = make_dataset(angles)
    kept = (
        dataset.query()
        .selection()
        .deduplicate(
            selection_result_tag_name="unique",
            stopping_condition_minimum_distance=0.001,
            embedding_model_name=MODEL,
        )
    )
    groups = [{0, 1, 2}, {3}, {4, 5}, {6, 7, 8, 9}]
    kept_idx = [int(n[1:3]) for n in names(kept)]
    assert len(kept_idx) == 4
    assert all(len(group & set(kept_idx)) == 1 for group in groups)


def test_find_duplicates_returns_groups_of_samples(db):
    angles = [0, 0.2, 0.4, 30, 60, 60.3, 90]
    dataset, _ = make_dataset(angles)
    groups = dataset.find_duplicates(0.001, embedding_model_name=MODEL)
    assert [names(g) for g in groups] == [["s00.jpg", "s01.jpg", "s02.jpg"], ["s04.jpg", "s05.jpg"]]
    assert dataset.find_duplicates(1e-9, embedding_model_name=MODEL) == []
    with pytest.raises(SelectionError, match="between 0 and 2"):
        dataset.find_duplicates(3.0, embedding_model_name=MODEL)


def test_documented_calls_work_without_a_model_name_or_licence_key(db, monkeypatch):
    monkeypatch.delenv("LIGHTLY_STUDIO_LICENSE_KEY", raising=False)
    dataset, ids = make_dataset([0, 10, 20, 30, 40, 50, 60, 70, 80, 95])
    set_metadata(dataset, ids, "typicality", [0.1 * i for i in range(10)])
    diverse = (
        dataset.query()
        .selection()
        .diverse(n_samples_to_select=3, selection_result_tag_name="diverse_selection")
    )
    assert names(diverse) == ["s09.jpg", "s00.jpg", "s05.jpg"]
    top = (
        dataset.query()
        .selection()
        .metadata_weighting(
            n_samples_to_select=2,
            selection_result_tag_name="metadata_weighting_selection",
            metadata_key="typicality",
        )
    )
    assert names(top) == ["s09.jpg", "s08.jpg"]
    multi = (
        dataset.query()
        .selection()
        .multi_strategies(
            n_samples_to_select=3,
            selection_result_tag_name="multi_strategy_selection",
            selection_strategies=[
                MetadataWeightingStrategy(metadata_key="typicality", strength=1.0),
                EmbeddingDiversityStrategy(strength=2.0),
            ],
        )
    )
    assert len(multi) == 3 and names(multi)[0] == "s09.jpg"
