"""Row-wise RLE codec; it lives in :mod:`lightly_studio.shapes.rle` (services import it too).

``lightly_studio.core.rle`` is the documented path (docs/annotations.md), so it stays.
"""

# moved to lightly_studio.shapes.rle (#25); re-exported for the documented public path
from lightly_studio.shapes.rle import (  # noqa: F401
    MAX_OUTLINE_LAPS,
    MAX_OUTLINE_PX,
    area,
    bbox_from_mask,
    bbox_from_rle,
    coco_polygon_rings,
    coco_segmentation_to_mask,
    decode,
    encode,
    mask_to_coco_rle,
    rle_to_coco_rle,
    validate,
)
