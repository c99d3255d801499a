"""The settings every property runs under: derandomized, so CI draws the same cases as a laptop."""

from hypothesis import settings


def repeatable(examples: int, **options):
    """``settings`` of a property: ``examples`` cases, the same on every run, no per-case deadline; ``options``
    are further hypothesis settings."""
    return settings(max_examples=examples, deadline=None, derandomize=True, database=None, **options)
