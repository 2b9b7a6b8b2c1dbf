"""Audio: sources (microphone, files, stdin), conversion, levels, recording."""
