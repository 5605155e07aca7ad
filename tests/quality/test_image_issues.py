"""Image checks: what they find on planted defects, next to CleanVision on the same images,
and how their results land as queryable metadata."""

from __future__ import annotations

import shutil
import warnings
from pathlib import Path

import numpy as np
import polars as pl
import pytest
from PIL import Image, ImageFilter

import lightly_studio as ls
from lightly_studio.quality import IMAGE_ISSUES, flag_key, score_key
from lightly_studio.query import ImageSampleField, OrderByField
from tests.conftest import EXAMPLES
from tests.quality._planted import plant


def _names(dataset) -> dict[str, str]:
    return {str(s.sample_id): s.file_name for s in dataset}


@pytest.fixture(scope="module")
def planted(tmp_path_factory):
    examples = EXAMPLES
    target = tmp_path_factory.mktemp("planted")
    expected, untouched = plant(
        [examples / "coco_subset_128_images" / "images", examples / "road_signs_yolo"], target
    )
    return target, expected, untouched


@pytest.fixture(scope="module")
def cleanvision_issues(planted):
    """CleanVision's flags and scores on the planted set, by file name (one process)."""
    imagelab = pytest.importorskip("cleanvision").Imagelab
    target, _, _ = planted
    lab = imagelab(filepaths=sorted(str(p) for p in target.iterdir()))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        lab.find_issues(n_jobs=1, verbose=False)
    issues = lab.issues
    issues.index = [Path(p).name for p in issues.index]
    return issues


@pytest.mark.slow
def test_checks_find_planted_defects_and_flag_no_more_untouched_images_than_cleanvision(
    db, planted, cleanvision_issues
):
    target, expected, untouched = planted
    dataset = ls.ImageDataset.create("planted")
    dataset.add_images_from_path(str(target), embed=False)
    with pytest.warns(UserWarning, match="no embeddings"):
        found = dataset.compute_image_issues()
    names = _names(dataset)
    found = found.with_columns(pl.col("sample_id").replace_strict(names).alias("name"))
    cv = cleanvision_issues
    for issue in IMAGE_ISSUES:
        ours = set(found.filter(pl.col("issue") == issue)["name"])
        theirs = set(cv.index[cv[f"is_{issue}_issue"]])
        planted_here = expected[issue]
        share = len(ours & planted_here) / len(planted_here)
        assert share >= 0.95, (issue, sorted(planted_here - ours))
        assert len(ours & untouched) <= len(theirs & untouched), (
            issue,
            sorted((ours - theirs) & untouched),
        )
        if issue not in ("blurry", "near_duplicates"):
            # Same definitions: the same images are flagged, untouched or not. (Blur has
            # recalibrated thresholds: CleanVision finds 11 of the 24 blurred copies.)
            assert ours == theirs, (issue, sorted(ours ^ theirs))


@pytest.mark.slow
def test_blurred_copies_of_images_held_out_from_the_threshold_choice_are_found(
    db, planted, tmp_path
):
    # The blur thresholds were set on the planted set; the COCO photos it left untouched were
    # not blurred there, so their blurred copies check the thresholds on unseen images.
    target, _, untouched = planted
    held_out = sorted(name for name in untouched if name[0].isdigit())
    assert len(held_out) >= 40
    for name in held_out:
        with Image.open(target / name) as im:
            blurred = im.convert("RGB").filter(ImageFilter.GaussianBlur(max(im.size) / 40))
            blurred.save(tmp_path / name, quality=92)
    dataset = ls.ImageDataset.create("held_out")
    dataset.add_images_from_path(str(tmp_path), embed=False)
    found = dataset.compute_image_issues(checks=["blurry"])
    assert found.height >= 0.95 * len(held_out)


@pytest.mark.slow
def test_scores_match_cleanvision_from_the_reduced_decode(db, planted, cleanvision_issues):
    target, _, _ = planted
    dataset = ls.ImageDataset.create("planted")
    dataset.add_images_from_path(str(target), embed=False)
    dataset.compute_image_issues(checks=["dark", "light", "low_information", "odd_size"])
    frame = dataset.query().to_polars()
    names = frame["file_name"].to_list()
    cv = cleanvision_issues.loc[names]
    for issue, tolerance in (("dark", 0.1), ("light", 0.06), ("low_information", 0.03)):
        diff = np.abs(frame[f"{score_key(issue)}"].to_numpy() - cv[f"{issue}_score"])
        # A 1/2 or 1/4 DCT decode moves distribution statistics by thousandths.
        assert np.median(diff) < 0.01, issue
        assert diff.max() < tolerance, issue
    np.testing.assert_allclose(
        frame[f"{score_key('odd_size')}"].to_numpy(), cv["odd_size_score"], atol=1e-9
    )


def test_flags_and_scores_are_metadata_the_query_filters_and_sorts_by(db, tmp_path, examples):
    folder = tmp_path / "images"
    folder.mkdir()
    originals = sorted((examples / "coco_subset_128_images" / "images").glob("*.jpg"))[:6]
    for p in originals:
        shutil.copy(p, folder / p.name)
    shutil.copy(originals[0], folder / "copy.jpg")
    dataset = ls.ImageDataset.create("small")
    dataset.add_images_from_path(str(folder), embed=False)
    with pytest.warns(UserWarning):
        found = dataset.compute_image_issues()
    assert found.columns == ["sample_id", "issue", "score"]
    dupes = found.filter(pl.col("issue") == "exact_duplicates")
    assert sorted(dupes["score"].to_list()) == [0.5, 0.5]
    flagged = dataset.match(ImageSampleField.metadata[flag_key("exact_duplicates")] == True)  # noqa: E712
    assert sorted(s.file_name for s in flagged) == sorted(["copy.jpg", originals[0].name])
    keys = dataset.metadata_keys
    for issue in IMAGE_ISSUES:
        assert keys[score_key(issue)] == "float"
        assert keys[flag_key(issue)] == "bool"
    darkest = (
        dataset.query()
        .order_by(OrderByField(ImageSampleField.metadata[score_key("dark")]))
        .to_polars()
    )
    scores = darkest[f"{score_key('dark')}"].to_list()
    assert scores == sorted(scores)


def test_only_the_requested_checks_run_on_the_query_s_samples(db, tmp_path, examples):
    folder = tmp_path / "images"
    folder.mkdir()
    for p in sorted((examples / "coco_subset_128_images" / "images").glob("*.jpg"))[:4]:
        shutil.copy(p, folder / p.name)
    dataset = ls.ImageDataset.create("small")
    dataset.add_images_from_path(str(folder), embed=False)
    first = next(iter(dataset))
    query = dataset.match(ImageSampleField.file_name == first.file_name)
    dataset.compute_image_issues(checks=["odd_aspect_ratio"], query=query)
    assert set(dataset.metadata_keys) == {
        score_key("odd_aspect_ratio"),
        flag_key("odd_aspect_ratio"),
    }
    with_score = dataset.match(ImageSampleField.metadata[score_key("odd_aspect_ratio")] > 0).count()
    assert with_score == 1
    with pytest.raises(ls.errors.LightlyStudioError, match="Unknown image check"):
        dataset.compute_image_issues(checks=["fuzzy"])


def test_a_corrupt_image_is_reported_and_the_others_are_still_checked(db, tmp_path, examples):
    folder = tmp_path / "images"
    folder.mkdir()
    originals = sorted((examples / "coco_subset_128_images" / "images").glob("*.jpg"))[:3]
    for p in originals:
        shutil.copy(p, folder / p.name)
    dataset = ls.ImageDataset.create("small")
    dataset.add_images_from_path(str(folder), embed=False)
    # Damaged after ingest: the header is gone.
    (folder / originals[1].name).write_bytes(b"\x00" * 100)
    with pytest.warns(UserWarning):
        found = dataset.compute_image_issues()
    names = _names(dataset)
    corrupt = found.filter(pl.col("issue") == "corrupt")
    assert [names[i] for i in corrupt["sample_id"]] == [originals[1].name]
    frame = dataset.query().to_polars().sort("file_name")
    assert frame[f"{flag_key('corrupt')}"].to_list() == [False, True, False]
    dark = frame[f"{score_key('dark')}"].to_list()
    assert dark[1] is None and dark[0] is not None and dark[2] is not None
    # Checks that need no pixels still ran on it.
    assert frame[f"{score_key('odd_aspect_ratio')}"].null_count() == 0


def test_near_duplicates_come_from_embeddings_when_the_dataset_has_them(db, tmp_path, examples):
    folder = tmp_path / "images"
    folder.mkdir()
    for p in sorted((examples / "coco_subset_128_images" / "images").glob("*.jpg"))[:4]:
        shutil.copy(p, folder / p.name)
    dataset = ls.ImageDataset.create("small")
    dataset.add_images_from_path(str(folder), embed=False)
    samples = sorted(dataset, key=lambda s: s.file_name)
    rng = np.random.default_rng(0)
    vectors = rng.normal(size=(4, 8)).astype(np.float32)
    vectors[1] = vectors[0] + 1e-3  # two images the model sees as the same
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    dataset.add_embeddings("mine", [s.sample_id for s in samples], vectors)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no "needs embeddings" warning now
        found = dataset.compute_image_issues(checks=["near_duplicates"])
    assert set(found["sample_id"]) == {str(samples[0].sample_id), str(samples[1].sample_id)}
    frame = dataset.query().to_polars()
    sets = frame["near_duplicates_set"].drop_nulls().to_list()
    assert sets == [0, 0]


def test_without_embeddings_a_warning_names_the_check_that_uses_them_and_every_check_runs(
    db, tmp_path, examples
):
    folder = tmp_path / "images"
    folder.mkdir()
    originals = sorted((examples / "coco_subset_128_images" / "images").glob("*.jpg"))[:3]
    for p in originals:
        shutil.copy(p, folder / p.name)
    with Image.open(originals[0]) as im:  # a 3/4-size copy: a near duplicate by hash
        im.resize((im.width * 3 // 4, im.height * 3 // 4)).save(folder / "smaller.jpg")
    dataset = ls.ImageDataset.create("no_embeddings")
    dataset.add_images_from_path(str(folder), embed=False)

    with pytest.warns(UserWarning) as caught:
        found = dataset.compute_image_issues()

    messages = [str(w.message) for w in caught]
    assert len(messages) == 1
    assert messages[0].startswith("near_duplicates:")
    assert "compute_embeddings()" in messages[0]
    keys = dataset.metadata_keys
    assert all(score_key(issue) in keys and flag_key(issue) in keys for issue in IMAGE_ISSUES)
    near = found.filter(pl.col("issue") == "near_duplicates")
    assert sorted(_names(dataset)[i] for i in near["sample_id"]) == sorted(
        ["smaller.jpg", originals[0].name]
    )
