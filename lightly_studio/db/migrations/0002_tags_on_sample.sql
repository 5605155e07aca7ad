-- Tags move from the sample_tag link table onto the sample row (tag_numbers), and samples
-- get a stable ordinal (sample_idx) that is their default order.
--
-- Why: a tag filter on a link table is a hash semi-join of every sample against the tag's
-- links, ~60 ms per tag term at 1,000,000 samples on 2 cores; list_contains over the row's
-- own list is a plain scan. Small integers rather than tag UUIDs: they compress to a few
-- bits each, so that scan reads ~1/20 of the bytes (benchmarks/bench_query.py).
-- Updating a list column rewrites the row (DuckDB runs it as delete + insert), so rowid no
-- longer follows insertion order; sample_idx does, and stays put.
CREATE SEQUENCE tag_number_seq START 1;

CREATE TABLE tag_new (
    tag_id UUID NOT NULL,
    dataset_id UUID NOT NULL,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL DEFAULT 'sample',
    created_at TIMESTAMP NOT NULL,
    -- What sample.tag_numbers holds. From a sequence: unique even across transactions.
    tag_number INTEGER NOT NULL DEFAULT nextval('tag_number_seq')
);
INSERT INTO tag_new (tag_id, dataset_id, name, kind, created_at)
SELECT tag_id, dataset_id, name, kind, created_at FROM tag ORDER BY created_at;
DROP TABLE tag;
ALTER TABLE tag_new RENAME TO tag;

CREATE TABLE sample_new (
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
    timestamp_s DOUBLE,
    -- Insertion order (ties possible only between concurrent ingests).
    sample_idx BIGINT NOT NULL,
    -- tag.tag_number of the sample's tags (kind 'sample'), no duplicates, no order.
    tag_numbers INTEGER[] NOT NULL DEFAULT []
);

INSERT INTO sample_new
SELECT s.sample_id, s.dataset_id, s.kind, s.file_path_abs, s.file_name, s.width, s.height,
       s.created_at, s.fps, s.duration_s, s.frame_count, s.codec, s.parent_sample_id,
       s.frame_number, s.timestamp_s, s.rowid, coalesce(st.tag_numbers, []::INTEGER[])
FROM sample s
LEFT JOIN (SELECT l.sample_id, list(DISTINCT t.tag_number) AS tag_numbers
           FROM sample_tag l JOIN tag t ON t.tag_id = l.tag_id
           GROUP BY l.sample_id) st ON st.sample_id = s.sample_id
ORDER BY s.rowid;

DROP TABLE sample;
ALTER TABLE sample_new RENAME TO sample;
DROP TABLE sample_tag;
