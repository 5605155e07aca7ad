"""Data quality: image checks (CleanVision's definitions), leaky splits and label issues
(cleanlab), stored as sample metadata and annotation issue scores. See docs/quality.md."""

from lightly_studio.quality._image_issues import (
    CORRUPT,
    IMAGE_ISSUES,
    compute_image_issues,
    flag_key,
    score_key,
    set_key,
)
from lightly_studio.quality._label_issues import (
    LABEL_ISSUE_COUNT,
    LABEL_QUALITY_SCORE,
    annotation_issues,
    compute_label_issues,
)
from lightly_studio.quality._splits import find_leaky_splits

__all__ = [
    "CORRUPT",
    "IMAGE_ISSUES",
    "LABEL_ISSUE_COUNT",
    "LABEL_QUALITY_SCORE",
    "annotation_issues",
    "compute_image_issues",
    "compute_label_issues",
    "find_leaky_splits",
    "flag_key",
    "score_key",
    "set_key",
]
