"""Resizing for the model never trips over float rounding of the crop box."""

from __future__ import annotations

from PIL import Image

from lightly_studio.embed._images import fit_image


def test_crop_box_rounding_stays_inside_the_image():
    # 640x428 to 224x224: the exact crop height is 428.00000000000006 in floating point.
    out = fit_image(Image.new("RGB", (640, 428), (10, 20, 30)), (224, 224))
    assert out.shape == (224, 224, 3)
    assert tuple(out[0, 0]) == (10, 20, 30)
