"""The v3 stream: protocol messages, the streaming client, turn assembly, events."""
