"""Fixtures shared by the test modules."""

from vmic import vmic  # noqa: F401 - the session-wide virtual microphone


def pytest_collection_modifyitems(items):
    """Each test is marked with its layer, the folder it lives in: `-m unit` is the edit loop."""
    for item in items:
        layer = item.path.parent.name
        if layer in ("unit", "app", "e2e"):
            item.add_marker(layer)
