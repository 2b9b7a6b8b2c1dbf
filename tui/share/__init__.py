"""Sharing a session's captions read-only over HTTP: a live page and a Server-Sent Events
stream (`--share HOST:PORT`), and the client `captioner watch` follows them with.

App layer: it may import tui.core; tui.core never imports it.
"""
