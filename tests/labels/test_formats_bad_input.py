"""Bad label files: a clear error naming file and line/element, and nothing stored."""

from __future__ import annotations

import json

import numpy as np
import pytest
from PIL import Image

import lightly_studio as ls
from lightly_studio.errors import IngestError
from tests.conftest import make_images
from tests.labels.formats_helpers import label_names, sample_count


@pytest.fixture
def ds(db):
    return ls.ImageDataset.create("ds")


@pytest.fixture
def images(tmp_path):
    root = tmp_path / "images"
    make_images(root, {"a.jpg": (40, 30), "b.jpg": (20, 20)})
    return root


def _cvat(tmp_path, body: str, header: str = "") -> str:
    path = tmp_path / "cvat.xml"
    path.write_text(f"{header}<annotations><version>1.1</version>{body}</annotations>")
    return str(path)


def _assert_nothing_stored(ds) -> None:
    assert sample_count(ds) == 0
    assert label_names(ds) == []


def test_malformed_cvat_xml_names_file_and_line(ds, images, tmp_path):
    path = _cvat(tmp_path, '<image name="a.jpg" width="40" height="30">\n<box label="x"></image>')
    with pytest.raises(IngestError, match=r"cvat\.xml, line 2, column \d+: malformed XML"):
        ds.add_samples_from_cvat(path, str(images), embed=False)
    _assert_nothing_stored(ds)


@pytest.mark.parametrize(
    "header",
    [
        '<!DOCTYPE lolz [<!ENTITY lol "lol">]>',
        '<!DOCTYPE x SYSTEM "file:///etc/passwd">',
    ],
)
def test_dtd_and_entities_are_refused(ds, images, tmp_path, header):
    path = _cvat(tmp_path, "", header=header)
    with pytest.raises(IngestError, match="DTD and entity declarations are not allowed"):
        ds.add_samples_from_cvat(path, str(images), embed=False)


def test_cvat_missing_image_names_the_element(ds, images, tmp_path):
    path = _cvat(tmp_path, '<image id="0" name="gone.jpg" width="40" height="30"/>')
    with pytest.raises(IngestError, match=r"<image> #1 \(name='gone.jpg'\).*missing or unreadable"):
        ds.add_samples_from_cvat(path, str(images), embed=False)
    _assert_nothing_stored(ds)


def test_cvat_polygon_with_two_points(ds, images, tmp_path):
    path = _cvat(
        tmp_path,
        '<image name="a.jpg" width="40" height="30"><polygon label="x" points="1,1;5,5"/></image>',
    )
    with pytest.raises(IngestError, match=r"<polygon> #1: a polygon needs at least 3 points"):
        ds.add_samples_from_cvat(path, str(images), embed=False)


def test_a_failed_import_is_rolled_back(ds, images, tmp_path):
    """The degenerate polygon is found after the samples were inserted: all is undone."""
    path = _cvat(
        tmp_path,
        '<image name="a.jpg" width="40" height="30"><box label="ok" xtl="1" ytl="1" xbr="9" '
        'ybr="9"/></image><image name="b.jpg" width="20" height="20">'
        '<polygon label="flat" points="1,1;5,5;9,9"/></image>',
    )
    with pytest.raises(IngestError, match=r"b.jpg'\), <polygon> #1: the polygon is degenerate"):
        ds.add_samples_from_cvat(path, str(images), embed=False)
    _assert_nothing_stored(ds)


def test_cvat_image_size_differs_from_the_file(ds, images, tmp_path):
    path = _cvat(tmp_path, '<image name="a.jpg" width="41" height="30"/>')
    with pytest.raises(IngestError, match=r"41x30 in the label file but .*a.jpg is 40x30"):
        ds.add_samples_from_cvat(path, str(images), embed=False)


def test_cvat_mask_outside_the_image(ds, images, tmp_path):
    path = _cvat(
        tmp_path,
        '<image name="a.jpg" width="40" height="30">'
        '<mask label="m" rle="0, 4" left="38" top="0" width="4" height="1"/></image>',
    )
    with pytest.raises(IngestError, match=r"<mask> #1: the mask's crop 4x1 at \(38, 0\)"):
        ds.add_samples_from_cvat(path, str(images), embed=False)


def test_cvat_image_name_may_not_leave_the_images_folder(ds, images, tmp_path):
    path = _cvat(tmp_path, '<image name="../x.jpg" width="40" height="30"/>')
    with pytest.raises(IngestError, match="points outside the images folder"):
        ds.add_samples_from_cvat(path, str(images), embed=False)


def _voc(tmp_path, xml: str):
    ann = tmp_path / "Annotations"
    ann.mkdir(exist_ok=True)
    (ann / "a.xml").write_text(xml)
    return ann


def test_malformed_voc_xml(ds, images, tmp_path):
    ann = _voc(tmp_path, "<annotation><filename>a.jpg</filename>\n\n<object></annotation>")
    with pytest.raises(IngestError, match=r"a\.xml, line 3, column \d+: malformed XML"):
        ds.add_samples_from_pascal_voc(str(images), str(ann), embed=False)


def test_voc_box_without_coordinates_names_the_object(ds, images, tmp_path):
    ann = _voc(
        tmp_path,
        "<annotation><filename>a.jpg</filename><object><name>cat</name><bndbox><xmin>1</xmin>"
        "<ymin>1</ymin><xmax>oops</xmax><ymax>3</ymax></bndbox></object></annotation>",
    )
    with pytest.raises(IngestError, match=r"a\.xml, <object> #1 <bndbox>: <xmax> is not a number"):
        ds.add_samples_from_pascal_voc(str(images), str(ann), embed=False)


def test_voc_missing_image(ds, images, tmp_path):
    ann = _voc(tmp_path, "<annotation><filename>nope.jpg</filename></annotation>")
    with pytest.raises(IngestError, match=r"a\.xml: the image file .*nope.jpg is missing"):
        ds.add_samples_from_pascal_voc(str(images), str(ann), embed=False)
    _assert_nothing_stored(ds)


def _mask(tmp_path, arr: np.ndarray) -> str:
    masks = tmp_path / "masks"
    masks.mkdir(exist_ok=True)
    Image.fromarray(arr.astype(np.uint8), mode="L").save(masks / "a.png")
    return str(masks)


def test_voc_segmentation_unknown_class_id(ds, images, tmp_path):
    arr = np.zeros((30, 40))
    arr[0, 0] = 7
    masks = _mask(tmp_path, arr)
    with pytest.raises(IngestError, match=r"a\.png: has class ids \[7\] that are not in"):
        ds.add_samples_from_pascal_voc_segmentations(str(images), masks, {1: "cat"}, embed=False)


def test_voc_segmentation_mask_size_differs_from_the_image(ds, images, tmp_path):
    arr = np.ones((30, 41))
    masks = _mask(tmp_path, arr)
    with pytest.raises(IngestError, match=r"a\.png: class id 1: the mask is 41x30 but the image"):
        ds.add_samples_from_pascal_voc_segmentations(str(images), masks, {1: "cat"}, embed=False)
    _assert_nothing_stored(ds)


def test_voc_segmentation_rgb_masks_are_refused(ds, images, tmp_path):
    masks = tmp_path / "masks"
    masks.mkdir()
    Image.new("RGB", (40, 30)).save(masks / "a.png")
    with pytest.raises(IngestError, match="palette or grayscale PNG of class ids"):
        ds.add_samples_from_pascal_voc_segmentations(str(images), str(masks), {1: "c"}, embed=False)


def _labelme(images, doc) -> str:
    (images / "a.json").write_text(doc if isinstance(doc, str) else json.dumps(doc))
    return str(images)


def _doc(**kw):
    doc = {"shapes": [], "imagePath": "a.jpg", "imageWidth": 40, "imageHeight": 30}
    doc.update(kw)
    return doc


def test_malformed_labelme_json(ds, images):
    folder = _labelme(images, '{"shapes": [\n  {"label": "x",\n}')
    with pytest.raises(IngestError, match=r"a\.json: malformed JSON at line 3"):
        ds.add_samples_from_labelme(folder, embed=False)


def test_labelme_polygon_with_two_points(ds, images):
    shape = {"label": "x", "points": [[1, 1], [4, 4]], "shape_type": "polygon"}
    folder = _labelme(images, _doc(shapes=[shape]))
    with pytest.raises(IngestError, match=r"a\.json, shapes\[0\]: a polygon needs at least 3"):
        ds.add_samples_from_labelme(folder, embed=False)


def test_labelme_missing_image(ds, images):
    folder = _labelme(images, _doc(imagePath="missing.png"))
    with pytest.raises(IngestError, match=r"a\.json: the image file .*missing.png is missing"):
        ds.add_samples_from_labelme(folder, embed=False)


def test_labelme_declared_size_differs(ds, images):
    folder = _labelme(images, _doc(imageWidth=10))
    with pytest.raises(IngestError, match="10x30 in the label file"):
        ds.add_samples_from_labelme(folder, embed=False)


def test_image_folders_image_outside_a_class_folder(ds, tmp_path):
    make_images(tmp_path / "c", {"cat/a.jpg": (8, 8), "loose.jpg": (8, 8)})
    with pytest.raises(IngestError, match=r"loose\.jpg: the image is not inside a class folder"):
        ds.add_samples_from_image_folders(str(tmp_path / "c"), embed=False)


def test_yolo_segment_task_refuses_box_lines(ds, tmp_path):
    make_images(tmp_path / "y/train/images", {"a.jpg": (40, 30)})
    (tmp_path / "y/train/labels").mkdir(parents=True)
    (tmp_path / "y/train/labels/a.txt").write_text("0 0.1 0.1 0.5 0.1 0.5 0.5\n0 0.5 0.5 0.2 0.2\n")
    (tmp_path / "y/data.yaml").write_text("train: train/images\nnames: [cat]\n")
    with pytest.raises(IngestError, match=r"a\.txt, line 2: is a box .* task='segment'"):
        ds.add_samples_from_yolo(str(tmp_path / "y/data.yaml"), task="segment", embed=False)
    _assert_nothing_stored(ds)


def test_voc_instance_png_of_another_size_names_the_file(ds, images, tmp_path):
    for folder, size in (("cls", (40, 30)), ("obj", (20, 20))):
        (tmp_path / folder).mkdir()
        Image.fromarray(np.ones(size[::-1], np.uint8), mode="L").save(tmp_path / folder / "a.png")
    with pytest.raises(IngestError, match=r"obj/a.png: the instance PNG is 20x20 but its class"):
        ds.add_samples_from_pascal_voc_segmentations(
            str(images),
            str(tmp_path / "cls"),
            {1: "cat"},
            instances_path=str(tmp_path / "obj"),
            embed=False,
        )
    _assert_nothing_stored(ds)


def test_labelme_classifications_must_be_a_list_of_names(ds, images, tmp_path):
    doc = {"shapes": [], "imagePath": "../images/a.jpg", "imageWidth": 40, "imageHeight": 30}
    (tmp_path / "lm").mkdir()
    (tmp_path / "lm" / "a.json").write_text(json.dumps({**doc, "classifications": "cat"}))
    with pytest.raises(IngestError, match=r"a.json: 'classifications' must be a list"):
        ds.add_samples_from_labelme(str(tmp_path / "lm"), embed=False)
    _assert_nothing_stored(ds)


def test_hf_instance_mask_of_another_size_names_row_and_object(ds, tmp_path):
    import io

    datasets = pytest.importorskip("datasets")

    def png(array) -> dict:
        buf = io.BytesIO()
        Image.fromarray(array).save(buf, format="PNG")
        return {"bytes": buf.getvalue(), "path": None}

    features = datasets.Features(
        {
            "image": datasets.Image(),
            "objects": {
                "bbox": datasets.List(datasets.List(datasets.Value("float64"), length=4)),
                "category": datasets.List(datasets.ClassLabel(names=["cat"])),
                "mask": datasets.List(datasets.Image()),
            },
        }
    )
    hf = datasets.Dataset.from_dict(
        {
            "image": [png(np.zeros((30, 40, 3), np.uint8))],
            "objects": [
                {"bbox": [[1, 1, 4, 4]], "category": [0], "mask": [png(np.ones((8, 8), bool))]}
            ],
        },
        features=features,
    )
    with pytest.raises(
        IngestError, match=r"row 0: object 0: the mask is 8x8 but the image is 40x30"
    ):
        ds.add_samples_from_hf_dataset(hf, images_cache_path=str(tmp_path / "c"), embed=False)
    _assert_nothing_stored(ds)
