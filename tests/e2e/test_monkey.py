"""A monkey on the real app: `captioner --demo` in tmux under a seeded random storm of keys,
mouse events, pastes and resizes (tests/monkey.py). It must stay alive, never show a
traceback, and exit 0 on q with every finished turn in its journal.

MONKEY_SEED picks the seed (default: a new one, printed); MONKEY_SECONDS the length.
"""

from __future__ import annotations

import os
import random

from monkey import Monkey


def test_monkey_storm_on_the_demo(tmp_path):
    seed = int(os.environ.get("MONKEY_SEED") or random.randrange(1_000_000))
    seconds = float(os.environ.get("MONKEY_SECONDS", "30"))
    print(f"monkey seed {seed} (MONKEY_SEED={seed} to repeat)")
    result = Monkey(tmp_path, seed, seconds).run()
    print(result.line())
    assert result.failure is None, result.line()
    assert result.events > 100 and result.runs >= 1
