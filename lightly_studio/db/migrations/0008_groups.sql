-- Groups: a sample of kind 'group' (in a dataset of kind 'group') bundles member samples of the
-- same dataset, each under a named view ("front", "rear", …). The group row is a sample like
-- any other, so tags and metadata on groups use the sample machinery unchanged; members are
-- image or video samples with their own tags and metadata.

-- The views of a group dataset, in the order the grid shows members in.
CREATE TABLE group_view (
    dataset_id UUID NOT NULL,
    view_name VARCHAR NOT NULL,
    view_position INTEGER NOT NULL
);

-- A member belongs to one group; a group has at most one member per view. sample_id is the
-- member's (named so that a published dataset keeps exactly its own rows of this table).
CREATE TABLE group_member (
    group_sample_id UUID NOT NULL,
    sample_id UUID NOT NULL,
    view_name VARCHAR NOT NULL
);
