"""Decoding and resizing images for the model."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from lightly_studio.embed._images import fit_image, load_for_model, read_image


def striped(w: int, h: int) -> Image.Image:
    """Left half red, right half blue: crops and pads show up in the pixel values."""
    arr = np.zeros((h, w, 3), dtype=np.uint8)
    arr[:, : w // 2, 0] = 255
    arr[:, w // 2 :, 2] = 255
    return Image.fromarray(arr)


def test_shortest_side_resize_centre_crops_to_the_model_size():
    out = fit_image(striped(400, 200), (64, 64), "shortest")
    assert out.shape == (64, 64, 3) and out.dtype == np.uint8
    # The centre crop keeps the middle half of the width: left half red, right half blue.
    assert out[32, 5, 0] > 200 and out[32, 58, 2] > 200


def test_longest_side_resize_pads_and_squash_stretches():
    padded = fit_image(striped(400, 200), (64, 64), "longest")
    assert padded.shape == (64, 64, 3)
    assert padded[2, 32].tolist() == [0, 0, 0]  # padding above the letterboxed image
    squashed = fit_image(striped(400, 200), (32, 64), "squash")
    assert squashed.shape == (32, 64, 3)


def test_large_jpegs_are_decoded_at_reduced_scale_with_the_same_result(tmp_path):
    path = tmp_path / "big.jpg"
    striped(1600, 1200).save(path, quality=95)
    with read_image(str(path)) as img:
        fast = fit_image(img, (224, 224), "shortest")
    with read_image(str(path)) as img:
        img.load()  # fully decoded: no draft possible
        full = fit_image(img.copy(), (224, 224), "shortest")
    assert fast.shape == full.shape == (224, 224, 3)
    assert np.abs(fast.astype(int) - full.astype(int)).mean() < 3


@pytest.mark.parametrize("mode", ["RGBA", "L", "P", "I;16", "CMYK"])
def test_every_common_mode_becomes_rgb(tmp_path, mode):
    img = striped(40, 30)
    img = (
        img.convert(mode)
        if mode != "I;16"
        else Image.fromarray((np.arange(1200).reshape(30, 40) * 50).astype(np.uint16))
    )
    path = tmp_path / ("x.tiff" if mode in ("I;16", "CMYK") else "x.png")
    img.save(path)
    assert load_for_model(str(path), (16, 16), "shortest", "bicubic").shape == (16, 16, 3)


def test_images_are_read_through_fsspec_urls():
    import fsspec

    fs = fsspec.filesystem("memory")
    buffer = fs.open("/bucket/a.png", "wb")
    striped(50, 50).save(buffer, format="PNG")
    buffer.close()
    assert load_for_model("memory://bucket/a.png", (8, 8), "shortest", "bilinear").shape == (
        8,
        8,
        3,
    )
