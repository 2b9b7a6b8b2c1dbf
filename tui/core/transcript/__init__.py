"""The transcript: turns and markers, the crash-safe journal, exports, past sessions."""
