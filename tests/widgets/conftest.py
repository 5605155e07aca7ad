"""The widget tests use the api tests' small dataset (same fixture, one definition)."""

from tests.api.conftest import fake_projection, small_ds  # noqa: F401
