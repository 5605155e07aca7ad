-- Model evaluation runs (lightly_studio.evaluation): one row per run, a run's name unique per
-- dataset (re-running a name replaces the run and its rows in one transaction).
-- task: 'object_detection' | 'instance_segmentation' | 'classification'
--       | 'semantic_segmentation'. config and metrics: JSON objects.
CREATE TABLE evaluation_run (
    run_id UUID NOT NULL,
    dataset_id UUID NOT NULL,
    name VARCHAR NOT NULL,
    task VARCHAR NOT NULL,
    gt_source VARCHAR NOT NULL,
    pred_source VARCHAR NOT NULL,
    config JSON NOT NULL,
    metrics JSON NOT NULL,
    sample_count INTEGER NOT NULL,
    gt_annotation_count INTEGER NOT NULL,
    pred_annotation_count INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Per-sample metrics of a run, one row per evaluated sample. NULL where a metric does not
-- apply to the task (tp/fp/fn for semantic segmentation, miou for detection).
CREATE TABLE evaluation_sample (
    run_id UUID NOT NULL,
    sample_id UUID NOT NULL,
    tp INTEGER,
    fp INTEGER,
    fn INTEGER,
    "precision" DOUBLE,
    recall DOUBLE,
    miou DOUBLE,
    disagreement DOUBLE
);

-- Per-annotation outcome of a run: a matched pair (gt and pred set), an unmatched prediction
-- (outcome 'fp', gt NULL) or an unmatched ground truth ('fn', pred NULL).
-- outcome: 'tp' (same class) | 'mismatch' (matched, other class: counts as FP and FN)
--          | 'fp' | 'fn' | 'ignored' (a crowd region and what it absorbed).
CREATE TABLE evaluation_match (
    run_id UUID NOT NULL,
    sample_id UUID NOT NULL,
    gt_annotation_id UUID,
    pred_annotation_id UUID,
    gt_label VARCHAR,
    pred_label VARCHAR,
    iou DOUBLE,
    confidence DOUBLE,
    outcome VARCHAR NOT NULL
);
