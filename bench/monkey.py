"""The monkey, long: `captioner --demo` in tmux under a random storm for 10 minutes.

The same storm as tests/e2e/test_monkey.py (tests/monkey.py: keys, SGR mouse events, pastes,
resizes 20x6 to 200x60), in rounds of --round seconds, each a new process and a new seed, so
start-up, the demo's end and q are exercised too. Prints the events sent, the app processes,
the quits asked with the mouse, the crashes (any failure: a traceback, an unasked exit, an
internal error in the log, a journal short of a turn) and each failure with its seed.

    python bench/monkey.py [--minutes 10] [--round 60] [--seed 1]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))

from monkey import Monkey  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--minutes", type=float, default=10.0)
    ap.add_argument("--round", type=float, default=60.0, help="seconds of storm per app process")
    ap.add_argument("--seed", type=int, default=int(time.time()) % 100_000, help="first seed")
    args = ap.parse_args()
    end = time.monotonic() + args.minutes * 60
    events = runs = quits = rounds = 0
    failures = []
    seed = args.seed
    with tempfile.TemporaryDirectory(prefix="monkey-") as tmp:
        while time.monotonic() < end:
            seconds = min(args.round, max(end - time.monotonic(), 5.0))
            result = Monkey(Path(tmp) / f"seed{seed}", seed, seconds).run()
            print(result.line(), flush=True)
            rounds += 1
            events, runs, quits = events + result.events, runs + result.runs, quits + result.quits
            if result.failure:
                failures.append(result.line())
            seed += 1
    print(f"monkey_minutes: {args.minutes:g}")
    print(f"monkey_seeds: {rounds} ({args.seed}..{seed - 1})")
    print(f"monkey_events: {events}")
    print(f"monkey_app_processes: {runs}")
    print(f"monkey_mouse_quits: {quits}")
    print(f"monkey_crashes: {len(failures)}")
    for line in failures:
        print(f"  {line}")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
