-- Settings of the views (docs/views.md, "Settings"), saved when the user changes them in the
-- settings dialog or the View popover and read back when a view opens.
--
-- keyboard_shortcut: one row per action whose keys the user changed (the views' action ids,
-- e.g. 'grid.open', 'annotator.tool:box'); an action without a row keeps its default keys, so
-- new defaults reach users who never customised them. Keys are normalised names ('r',
-- 'Ctrl+z', 'ArrowLeft', ' ' for Space).
CREATE TABLE keyboard_shortcut (
    action VARCHAR PRIMARY KEY,
    keys VARCHAR[] NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- dataset_view_options: the grid options last chosen for a dataset (one row per dataset).
-- overlays: JSON object of booleans (boxes, masks, labels, captions, names); sort_field ''
-- means the default order (file path).
CREATE TABLE dataset_view_options (
    dataset_id UUID PRIMARY KEY,
    cell_size INTEGER NOT NULL,
    overlays JSON NOT NULL,
    sort_field VARCHAR NOT NULL,
    sort_desc BOOLEAN NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
