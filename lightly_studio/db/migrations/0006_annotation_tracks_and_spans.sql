-- Video annotations: object tracks and temporal spans.
--
-- track_id: the object track a frame annotation belongs to (YouTube-VIS / COCO-video
-- instance id). The boxes of one object across the frames of a video share it, so a track
-- can be queried, drawn with one colour, and exported again with its id.
-- start_s / end_s: the time span (seconds from the video's first frame) of a classification
-- on a video sample — an ActivityNet event. NULL on every other annotation.
--
-- Why columns rather than metadata: they are read with every frame's overlays and filtered
-- on (annotations.exists(track_id=...)), and DuckDB adds NULL columns without rewriting.
ALTER TABLE annotation ADD COLUMN track_id BIGINT;
ALTER TABLE annotation ADD COLUMN start_s DOUBLE;
ALTER TABLE annotation ADD COLUMN end_s DOUBLE;
