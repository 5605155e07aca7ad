"""Plain data records used by plugins and ``lightly_studio.resolvers``.

They mirror the names the reference product's plugin examples import
(``models.annotation.annotation_base.AnnotationCreate``, ``models.annotation_label``), so those
examples run unchanged. Storage is DuckDB; these classes hold no database state.
"""
