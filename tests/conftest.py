"""Fixtures shared by the test modules."""

from vmic import vmic  # noqa: F401 - the session-wide virtual microphone
