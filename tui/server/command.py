"""`captioner serve`: the local v3 server on the command line.

The server key is never taken from argv (other users can read a process's argv):
it comes from CAPTIONER_SERVER_KEY or from a file named with --key-file.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tui.core.stream.protocol import is_loopback_host
from tui.server.faults import Faults

SERVER_KEY_ENV = "CAPTIONER_SERVER_KEY"


def _parser() -> argparse.ArgumentParser:
    from tui.server.engines import ENGINE_NAMES

    ap = argparse.ArgumentParser(prog="captioner serve",
                                 description="Serve the AssemblyAI v3 streaming protocol locally.")
    ap.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    ap.add_argument("--port", type=int, default=8765, help="port; 0 picks a free one (default 8765)")
    ap.add_argument("--engine", default="moonshine", choices=ENGINE_NAMES,
                    help="recognizer: moonshine (offline model) or scripted (deterministic, for tests)")
    ap.add_argument("--threads", type=int, default=1, help="CPU cores the engine may use")
    ap.add_argument("--model-dir", help="a sherpa-onnx streaming model folder instead of the built-in model")
    ap.add_argument("--script", help="scripted engine: JSON script of turns")
    ap.add_argument("--repeat", action="store_true", help="scripted engine: loop the script")
    ap.add_argument("--timecode", action="store_true",
                    help="scripted engine: follow the timecode in test audio, not session time")
    ap.add_argument("--key-file", type=Path, help=f"file holding the key clients must present "
                    f"(or set {SERVER_KEY_ENV}); required when binding beyond loopback")
    ap.add_argument("--max-session", type=float, default=10800, help="session limit in seconds (3008 after)")
    ap.add_argument("--in-model-formatting", action="store_true",
                    help="2026 mode: formatted partials, one end-of-turn message")
    ap.add_argument("--exit-on-stdin-eof", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--begin-delay", type=float, default=0.0, help=argparse.SUPPRESS)
    ap.add_argument("--rate-buffer", type=float, default=300.0, help=argparse.SUPPRESS)
    # Fault injection for reconnect tests.
    ap.add_argument("--fault-drop-after-ms", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--fault-error-after-ms", type=int, help=argparse.SUPPRESS)
    ap.add_argument("--fault-error-code", type=int, default=3005, help=argparse.SUPPRESS)
    ap.add_argument("--fault-ignore-terminate", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--fault-termination-delay", type=float, default=0.0, help=argparse.SUPPRESS)
    ap.add_argument("--fault-first-sessions", type=int, help=argparse.SUPPRESS)
    return ap


def _server_key(args: argparse.Namespace) -> str | None:
    if args.key_file:
        try:
            return args.key_file.read_text().strip() or None
        except OSError as exc:
            raise SystemExit(f"captioner serve: cannot read --key-file: {exc.strerror}") from None
    return os.environ.get(SERVER_KEY_ENV) or None


def serve_main(argv: list[str]) -> int:
    from tui.server.server import ServerConfig, run_serve

    args = _parser().parse_args(argv)
    key = _server_key(args)
    if not is_loopback_host(args.host) and not key:
        print(f"captioner serve: binding to {args.host} needs a key: set {SERVER_KEY_ENV} "
              "or pass --key-file", file=sys.stderr)
        return 2
    options: dict = {}
    if args.model_dir:
        options["model_dir"] = args.model_dir
    if args.script:
        options["script"] = args.script
    if args.repeat:
        options["repeat"] = True
    if args.timecode:
        options["timecode"] = True
    faults = Faults(drop_after_audio_ms=args.fault_drop_after_ms,
                    error_after_audio_ms=args.fault_error_after_ms, error_code=args.fault_error_code,
                    ignore_terminate=args.fault_ignore_terminate,
                    termination_delay_s=args.fault_termination_delay,
                    first_sessions=args.fault_first_sessions)
    config = ServerConfig(host=args.host, port=args.port, engine=args.engine, engine_options=options,
                          api_key=key, max_session_s=args.max_session, begin_delay_s=args.begin_delay,
                          rate_buffer_s=args.rate_buffer, in_model_formatting=args.in_model_formatting,
                          threads=args.threads, faults=faults, exit_on_stdin_eof=args.exit_on_stdin_eof)
    return run_serve(config)
