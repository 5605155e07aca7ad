"""Sample tags: moved to ``lightly_studio.store.tags`` (and ``store._ids``)."""

# moved to lightly_studio.store.tags / store._ids; re-exported until callers move (#25)
from lightly_studio.store._ids import SampleIds, ids_subquery, shift_params  # noqa: F401
from lightly_studio.store.tags import (  # noqa: F401
    clear_tag,
    get_or_create_tag_id,
    get_tag_id,
    list_tags,
    tag_names_frame,
    tag_number,
    tag_numbers_to_names,
    tag_sample_ids,
    tagged_subquery,
    untag_sample_ids,
    validate_tag_name,
)
