"""Annotation records for plugins: see ``annotation_base``."""
