"""Planted defects on the example images, for the accuracy tests of the image checks."""

from __future__ import annotations

import shutil
from pathlib import Path

from PIL import Image, ImageFilter

PER_DEFECT = 24


def _blurred(im: Image.Image) -> Image.Image:
    return im.filter(ImageFilter.GaussianBlur(radius=max(im.size) / 40))


def _dark(im: Image.Image) -> Image.Image:
    return im.point(lambda v: int(v * 0.15))


def _light(im: Image.Image) -> Image.Image:
    return im.point(lambda v: 255 - int((255 - v) * 0.04))


def _near(im: Image.Image) -> Image.Image:
    return im.resize((im.width * 3 // 4, im.height * 3 // 4), Image.Resampling.BICUBIC)


def _crop(im: Image.Image) -> Image.Image:
    return im.crop((0, 0, im.width, max(1, im.width // 10)))


def _flat(im: Image.Image) -> Image.Image:
    return Image.new("RGB", im.size, tuple(int(v) for v in im.resize((1, 1)).getpixel((0, 0))))


def _tiny(im: Image.Image) -> Image.Image:
    return im.resize((max(1, im.width // 16), max(1, im.height // 16)))


def _gray(im: Image.Image) -> Image.Image:
    return im.convert("L")


# issue -> how a defective copy is made ("copy": the same file bytes under another name)
DEFECTS = {
    "blurry": _blurred,
    "dark": _dark,
    "light": _light,
    "exact_duplicates": "copy",
    "near_duplicates": _near,
    "odd_aspect_ratio": _crop,
    "grayscale": _gray,
    "low_information": _flat,
    "odd_size": _tiny,
}


def plant(sources: list[Path], target: Path) -> tuple[dict[str, set[str]], set[str]]:
    """Copy the images below ``sources`` to ``target`` and add defective copies of some.

    Returns (issue -> file names that should be flagged, file names of the images no copy was
    made of). For the duplicate checks both the copy and its source are expected. (A blurred
    or darkened copy is also a near duplicate of its source by perceptual hash, so the sources
    of every copy are left out of the untouched images.)
    """
    target.mkdir(parents=True, exist_ok=True)
    found = sorted(
        p for source in sources for p in source.rglob("*") if p.suffix.lower() in (".jpg", ".png")
    )
    originals = []
    for p in found:
        if not (target / p.name).exists():  # the same file name in two splits: keep one
            shutil.copy(p, target / p.name)
            originals.append(target / p.name)
    # Every third image is a source, so each defect has images of both collections.
    originals = originals[::3] + originals[1::3] + originals[2::3]
    expected: dict[str, set[str]] = {}
    used: set[str] = set()
    for k, (issue, make) in enumerate(DEFECTS.items()):
        chosen = originals[k * PER_DEFECT : (k + 1) * PER_DEFECT]
        names = set()
        for p in chosen:
            name = f"{issue}_{p.stem}.jpg" if make != "copy" else f"{issue}_{p.name}"
            if make == "copy":
                shutil.copy(p, target / name)
            else:
                with Image.open(p) as im:
                    make(im.convert("RGB")).save(target / name, quality=92)
            names.add(name)
            if issue in ("exact_duplicates", "near_duplicates"):
                names.add(p.name)
            used.add(p.name)
        expected[issue] = names
    untouched = {p.name for p in originals} - used
    return expected, untouched
