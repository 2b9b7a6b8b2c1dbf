"""The `captioner` command: the full-screen app, headless modes, and the subcommands."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from tui import __version__
from tui.config import ConfigError, Settings, load_settings
from tui.core import event_loop
from tui.core.transcript.formats import FORMATS

EXIT_USAGE = 2


def _app_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="captioner",
        description="Live captions in the terminal. With no API key, an offline engine runs locally.",
        epilog="commands: serve, devices, sessions, export, watch (captioner COMMAND --help)",
    )
    ap.add_argument("--version", action="version", version=f"captioner {__version__}")
    ap.add_argument("--config", type=Path, help="config file (default: ~/.config/captioner/config.toml)")
    ap.add_argument("-i", "--input", help="audio input: a device index or name, a file, - for "
                    "raw s16le mono PCM on stdin, or system for the system audio (default: the "
                    "system microphone)")
    ap.add_argument("--system-audio", nargs="?", const="on", metavar="NAME",
                    help="also caption the system audio (what the default output plays, or the "
                    "output NAME), labelled apart from the microphone; --input system: it alone")
    ap.add_argument("--keep-echo", action="store_true", default=None,
                    help="show microphone turns that repeat the system audio (echo) anyway")
    ap.add_argument("--demo", action="store_true", help="caption the bundled speech sample")
    ap.add_argument("--sample-rate", type=int, default=16000, help="sample rate of --input - (default 16000)")
    ap.add_argument("--engine", choices=("auto", "assemblyai", "local"), help="speech engine")
    ap.add_argument("--url", help="streaming endpoint, e.g. ws://127.0.0.1:8765/v3/ws")
    ap.add_argument("--region", choices=("auto", "us", "eu"), help="AssemblyAI data zone")
    ap.add_argument("--model", metavar="ID", help="speech model id, e.g. universal-3-6-pro "
                    "(default: universal-streaming-english; see config.example.toml)")
    ap.add_argument("--speakers", action="store_true", default=None, help="label speakers (A, B, ...)")
    ap.add_argument("--max-speakers", type=int, metavar="N", help="with --speakers: at most N speakers (0: no cap)")
    ap.add_argument("--temporary-token", action="store_true", default=None,
                    help="connect with a short-lived token instead of the key")
    ap.add_argument("--insecure", action="store_true", default=None,
                    help="allow the key over plain ws:// to a non-loopback host")
    out = ap.add_mutually_exclusive_group()
    out.add_argument("--plain", action="store_true", help="no screen: print each finished turn as a line")
    out.add_argument("--jsonl", action="store_true", help="no screen: print each finished turn as JSON")
    ap.add_argument("-o", "--output", type=Path, help="write the transcript here at the end "
                    "(txt, md, srt, vtt or json, from the extension)")
    ap.add_argument("--record", help="also save the audio sent to the service as a WAV file")
    ap.add_argument("--view", choices=("full", "captions"), help="start in this view (v switches)")
    ap.add_argument("--large", action="store_true", default=None,
                    help="large block letters in the caption view (l switches)")
    ap.add_argument("--share", metavar="HOST:PORT", help="serve the live captions read-only to "
                    "browsers and `captioner watch` (a page at /, Server-Sent Events at /events)")
    ap.add_argument("--share-token", metavar="TOKEN", help="the token viewers need (required off "
                    "loopback; auto: make one up, printed once in the URL; or set CAPTIONER_SHARE_TOKEN)")
    ap.add_argument("--speed", type=float, default=1.0, help=argparse.SUPPRESS)
    ap.add_argument("--debug", action="store_true", help="verbose log")
    return ap


def _settings(args: argparse.Namespace) -> Settings:
    overrides = {
        "service.engine": args.engine,
        "service.url": args.url,
        "service.region": args.region,
        "service.speech_model": args.model,
        "service.speaker_labels": args.speakers,
        "service.max_speakers": args.max_speakers,
        "service.temporary_token": args.temporary_token,
        "service.insecure": args.insecure,
        "audio.record": args.record,
        "audio.system_audio": args.system_audio,
        "audio.suppress_echo": False if args.keep_echo else None,
        "ui.view": args.view,
        "ui.large_text": args.large,
    }
    return load_settings(args.config, overrides=overrides)


def _setup_logging(debug: bool, to_stderr: bool) -> None:
    level = logging.DEBUG if debug else logging.WARNING
    # websockets' debug log prints every request header (the Authorization key) and URL
    # (a temporary token) and every audio frame: never below INFO.
    logging.getLogger("websockets").setLevel(max(level, logging.INFO))
    if to_stderr:
        logging.basicConfig(level=level, format="captioner: %(levelname)s %(name)s: %(message)s")
        return
    from platformdirs import user_state_dir

    log_dir = Path(user_state_dir("captioner"))
    log_dir.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=level, filename=log_dir / "captioner.log",
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


class _Redact(logging.Filter):
    """Defence in depth: a log line that somehow holds the key gets it blanked."""

    def __init__(self, secret: str) -> None:
        super().__init__()
        self.secret = secret

    def filter(self, record: logging.LogRecord) -> bool:
        text = record.getMessage()
        if self.secret in text:
            record.msg, record.args = text.replace(self.secret, "[key]"), None
        return True


def _preflight(settings: Settings) -> None:
    """Settings that cannot work are bad settings (exit status 2), found before anything starts."""
    from tui.core.stream.client import Connection, StreamError
    from tui.captioning import SetupError, resolve_engine

    if settings.api_key:
        for handler in logging.getLogger().handlers:
            handler.addFilter(_Redact(settings.api_key))
    try:
        if resolve_engine(settings) == "url":
            Connection(settings["service.url"], api_key=settings.api_key,
                       insecure=settings["service.insecure"]).check()
    except (SetupError, StreamError) as exc:
        raise ConfigError(str(exc)) from None


def _check_output(path: Path | None) -> None:
    """A transcript path that cannot be written is found now, not after a two-hour lecture."""
    if path is None:
        return
    from tui.core.transcript.formats import format_for_path

    try:
        format_for_path(path)
    except ValueError:
        raise ConfigError(f"--output {path}: name a .txt, .md, .srt, .vtt or .json file") from None
    folder = path.expanduser().parent
    if not folder.is_dir():
        raise ConfigError(f"--output {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ConfigError(f"--output {path}: the folder {folder} is not writable")


def _open_share(args: argparse.Namespace):
    if args.share is None:
        if args.share_token is not None:
            raise ConfigError("--share-token needs --share HOST:PORT")
        return None
    from tui.share.address import TOKEN_ENV, ShareError, open_share

    try:
        spec = open_share(args.share, args.share_token or os.environ.get(TOKEN_ENV) or None)
    except ShareError as exc:
        raise ConfigError(str(exc)) from None
    print(f"captioner: sharing the captions at {spec.url}", file=sys.stderr, flush=True)
    return spec


def demo_path() -> str:
    from importlib import resources  # only for the demo: it is not needed to start

    return str(resources.files("tui") / "data" / "demo.wav")


def run_app(argv: list[str]) -> int:
    args = _app_parser().parse_args(argv)
    headless = args.plain or args.jsonl
    _setup_logging(args.debug, to_stderr=headless)
    settings = _settings(args)
    for warning in settings.warnings:
        print(f"captioner: warning: {warning}", file=sys.stderr)
    from tui.captioning import RunOptions

    if args.demo and args.input:
        raise ConfigError("--demo and --input both name an input; use one")
    _preflight(settings)
    _check_output(args.output)
    options = RunOptions(input=demo_path() if args.demo else args.input, stdin_rate=args.sample_rate,
                         output=args.output, speed=args.speed, share=_open_share(args))
    if headless:
        from tui.headless import run_headless

        return event_loop.run(run_headless(settings, options, jsonl=args.jsonl))
    from tui.early_start import run_tui  # the session first, Textual meanwhile

    return run_tui(settings, options)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    commands = {"serve": _serve, "devices": _devices, "sessions": _sessions, "export": _export,
                "watch": _watch}
    try:
        if argv and argv[0] in commands:
            return commands[argv[0]](argv[1:])
        return run_app(argv)
    except ConfigError as exc:
        print(f"captioner: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        return 130


# ------------------------------------------------------------------ subcommands


def _serve(argv: list[str]) -> int:
    from tui.server.command import serve_main

    return serve_main(argv)


def _watch(argv: list[str]) -> int:
    from tui.watch import watch_main

    return watch_main(argv)


def _devices(argv: list[str]) -> int:
    argparse.ArgumentParser(prog="captioner devices",
                            description="List audio input devices and outputs (system audio).").parse_args(argv)
    from tui.core.audio.source import AudioError
    from tui.core.audio.devices import format_device_table, list_input_devices
    from tui.core.audio.pulse import format_output_table, list_outputs

    try:
        print(format_device_table(list_input_devices()))
    except AudioError as exc:
        print(f"captioner: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        print("\n" + format_output_table(list_outputs()))
    except AudioError as exc:  # inputs are listed; system audio just is not available here
        print(f"\nNo outputs listed: {exc}.")
    return 0


def _sessions_dir(arg: Path | None) -> Path:
    from tui.core.transcript.journal import default_sessions_dir

    return arg or default_sessions_dir()


def _sessions(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="captioner sessions", description="List past sessions (newest first).")
    ap.add_argument("--dir", type=Path, help="sessions folder (default: the platform data dir)")
    args = ap.parse_args(argv)
    from tui.core.transcript.archive import list_sessions, sessions_table

    print(sessions_table(list_sessions(_sessions_dir(args.dir))))
    return 0


def _export(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="captioner export", description="Write a past session's transcript.")
    ap.add_argument("session", help="'last', an id prefix, or a journal file")
    ap.add_argument("-f", "--format", choices=FORMATS,
                    help="format (default: from the -o extension, else txt)")
    ap.add_argument("-o", "--output", type=Path, help="file to write (default: stdout)")
    ap.add_argument("--dir", type=Path, help="sessions folder (default: the platform data dir)")
    ap.add_argument("--speaker", action="append", default=[], metavar="LABEL=NAME",
                    help="name a speaker in this export, e.g. --speaker A=Alice (repeatable)")
    args = ap.parse_args(argv)
    from tui.core.transcript.exports import ExportError
    from tui.core.transcript.archive import export_session
    from tui.core.transcript.speakers import parse_rename

    try:
        names = dict(parse_rename(text) for text in args.speaker)
        result = export_session(_sessions_dir(args.dir), args.session, args.format, args.output, names)
    except (ValueError, ExportError) as exc:
        print(f"captioner: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if isinstance(result, str):
        sys.stdout.write(result)
    else:
        print(f"captioner: wrote {result}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    raise SystemExit(main())
