-- One row per dataset. kind: 'image' or 'video'.
CREATE TABLE dataset (
    dataset_id UUID PRIMARY KEY,
    name VARCHAR NOT NULL UNIQUE,
    kind VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Images, videos and video frames are all samples, so tags, metadata, annotations and
-- embeddings work the same on each. kind: 'image' | 'video' | 'frame'.
-- A frame points at its video through parent_sample_id and shares its file_path_abs.
-- No UNIQUE index: ingest de-duplicates with an anti-join, which keeps bulk inserts fast.
CREATE TABLE sample (
    sample_id UUID NOT NULL,
    dataset_id UUID NOT NULL,
    kind VARCHAR NOT NULL,
    file_path_abs VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    width INTEGER NOT NULL,
    height INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL,
    -- video
    fps DOUBLE,
    duration_s DOUBLE,
    frame_count INTEGER,
    codec VARCHAR,
    -- frame
    parent_sample_id UUID,
    frame_number INTEGER,
    timestamp_s DOUBLE
);

-- kind: 'sample' (tags on samples) or 'annotation' (reserved for tags on annotations).
CREATE TABLE tag (
    tag_id UUID NOT NULL,
    dataset_id UUID NOT NULL,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL DEFAULT 'sample',
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE sample_tag (
    sample_id UUID NOT NULL,
    tag_id UUID NOT NULL
);

-- A key's value type is fixed by its first value (per dataset).
-- value_type: 'int' | 'float' | 'str' | 'bool' | 'datetime' | 'json'
CREATE TABLE metadata_key (
    dataset_id UUID NOT NULL,
    key VARCHAR NOT NULL,
    value_type VARCHAR NOT NULL
);

-- One row per (sample, key). Exactly one of the value columns is set, by value_type.
CREATE TABLE metadata (
    sample_id UUID NOT NULL,
    key VARCHAR NOT NULL,
    v_int BIGINT,
    v_float DOUBLE,
    v_str VARCHAR,
    v_bool BOOLEAN,
    v_datetime TIMESTAMP,
    v_json JSON
);

CREATE TABLE annotation_label (
    label_id UUID NOT NULL,
    dataset_id UUID NOT NULL,
    name VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- annotation_type: 'classification' | 'object_detection' | 'instance_segmentation'
--                  | 'semantic_segmentation'
-- source: 'ground_truth' or the name of a prediction source (a model).
-- Boxes in pixels, top-left origin. segmentation_mask: row-wise RLE over the whole image,
-- alternating runs starting with background (see lightly_studio.core.rle).
-- polygon: list of rings, each a flat [x0, y0, x1, y1, ...] in pixels, kept for editing and
-- for exact COCO round trips.
CREATE TABLE annotation (
    annotation_id UUID NOT NULL,
    sample_id UUID NOT NULL,
    label_id UUID NOT NULL,
    annotation_type VARCHAR NOT NULL,
    source VARCHAR NOT NULL DEFAULT 'ground_truth',
    confidence DOUBLE,
    x DOUBLE,
    y DOUBLE,
    width DOUBLE,
    height DOUBLE,
    segmentation_mask INTEGER[],
    polygon DOUBLE[][],
    iscrowd BOOLEAN NOT NULL DEFAULT false,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);

CREATE TABLE caption (
    caption_id UUID NOT NULL,
    sample_id UUID NOT NULL,
    text VARCHAR NOT NULL,
    created_at TIMESTAMP NOT NULL
);

CREATE TABLE embedding_model (
    model_id UUID NOT NULL,
    dataset_id UUID NOT NULL,
    name VARCHAR NOT NULL,
    spec VARCHAR NOT NULL,
    dim INTEGER NOT NULL,
    created_at TIMESTAMP NOT NULL
);

-- Vectors are L2-normalised.
CREATE TABLE embedding (
    sample_id UUID NOT NULL,
    model_id UUID NOT NULL,
    vector FLOAT[] NOT NULL
);

-- 2-D coordinates of the embedding plot, per model. fitted: false for points placed by
-- interpolation after the last full fit.
CREATE TABLE projection (
    sample_id UUID NOT NULL,
    model_id UUID NOT NULL,
    x FLOAT NOT NULL,
    y FLOAT NOT NULL,
    fitted BOOLEAN NOT NULL DEFAULT true
);

