-- Label-issue scores per annotation (lightly_studio.quality, docs/quality.md).
-- issue: what was checked, e.g. 'wrong_label' (classification, cleanlab), 'bad_location',
-- 'swapped_label', 'overlooked' (detection, cleanlab), 'box_outside_image', 'tiny_box',
-- 'duplicate_box', 'empty_mask', 'mask_outside_box' (geometric checks).
-- score in [0, 1], lower is worse (cleanlab's convention); is_issue: the check's verdict.
-- One row per (annotation, issue); rerunning a check replaces its rows of the dataset. Rows of
-- deleted annotations are never read: every read joins the annotation.
CREATE TABLE annotation_issue_score (
    annotation_id UUID NOT NULL,
    dataset_id UUID NOT NULL,
    issue VARCHAR NOT NULL,
    score DOUBLE NOT NULL,
    is_issue BOOLEAN NOT NULL,
    created_at TIMESTAMP NOT NULL
);
