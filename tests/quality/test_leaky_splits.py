"""Leaky splits: duplicates across train / val / test, reported per pair and taggable."""

from __future__ import annotations

import shutil

import lightly_studio as ls
from lightly_studio.query import ImageSampleField


def test_a_copy_of_a_train_image_in_val_is_a_leaky_pair_and_gets_tagged(db, tmp_path, examples):
    root = tmp_path / "splits"
    photos = sorted((examples / "coco_subset_128_images" / "images").glob("*.jpg"))[:5]
    for split, chosen in (("train", photos[:3]), ("val", photos[3:])):
        (root / split).mkdir(parents=True)
        for p in chosen:
            shutil.copy(p, root / split / p.name)
    shutil.copy(photos[0], root / "val" / "leaked.jpg")  # a train image again, in val
    shutil.copy(photos[1], root / "train" / "again.jpg")  # a duplicate within train: no leak
    dataset = ls.ImageDataset.create("splits")
    dataset.add_images_from_path(str(root), tag_depth=1, embed=False)

    pairs = dataset.find_leaky_splits(tag="leaky")  # runs the duplicate checks itself

    assert pairs.columns == ["sample_id_a", "sample_id_b", "split_a", "split_b", "issue"]
    names = {str(s.sample_id): s.file_name for s in dataset}
    found = {
        (frozenset({names[a], names[b]}), issue)
        for a, b, issue in pairs.select("sample_id_a", "sample_id_b", "issue").iter_rows()
    }
    assert found == {(frozenset({photos[0].name, "leaked.jpg"}), "exact_duplicates")}
    assert set(pairs.row(0)[2:4]) == {"train", "val"}
    tagged = dataset.match(ImageSampleField.tags.contains("leaky"))
    assert sorted(s.file_name for s in tagged) == sorted([photos[0].name, "leaked.jpg"])


def test_no_split_tags_means_no_leaks(db, tmp_path, examples):
    folder = tmp_path / "flat"
    folder.mkdir()
    photo = sorted((examples / "coco_subset_128_images" / "images").glob("*.jpg"))[0]
    shutil.copy(photo, folder / "a.jpg")
    shutil.copy(photo, folder / "b.jpg")
    dataset = ls.ImageDataset.create("flat")
    dataset.add_images_from_path(str(folder), embed=False)
    dataset.compute_image_issues(checks=["exact_duplicates", "near_duplicates"])
    assert dataset.find_leaky_splits().height == 0
