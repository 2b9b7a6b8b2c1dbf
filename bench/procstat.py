"""CPU, threads and wake-ups of a process tree, read from /proc (Linux).

Not a benchmark itself. `sample(pid)` takes one reading of the process and its descendants;
`rates(a, b)` turns two readings into % of one core and wake-ups a second, whole tree and per
thread (by tid, with its comm name: libpulse's `threaded-ml`, PortAudio's callback thread...).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass, field

TICK = os.sysconf("SC_CLK_TCK")


def _stat_times(path: str) -> tuple[str, float]:
    """(comm, user+system seconds) from a /proc .../stat file."""
    with open(path) as f:
        text = f.read()
    comm = text[text.index("(") + 1 : text.rindex(")")]
    fields = text[text.rindex(")") + 2 :].split()
    return comm, (int(fields[11]) + int(fields[12])) / TICK  # utime, stime (fields 14, 15)


def _switches(path: str) -> int:
    """Voluntary context switches: the times the thread went to sleep, so woke up again."""
    with open(path) as f:
        for line in f:
            if line.startswith("voluntary_ctxt_switches"):
                return int(line.split()[1])
    return 0


def descendants(pid: int) -> list[int]:
    """pid and all its descendants (children listed by /proc/PID/task/*/children)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        try:
            for tid in os.listdir(f"/proc/{p}/task"):
                with open(f"/proc/{p}/task/{tid}/children") as f:
                    todo += [int(c) for c in f.read().split()]
        except OSError:
            continue
    return out


@dataclass
class Sample:
    at: float
    cpu_s: float = 0.0  # the whole tree (threads that ended included: the process's own stat)
    threads: dict[int, tuple[str, float, int]] = field(default_factory=dict)  # tid -> (comm, cpu, wakes)


def sample(pid: int) -> Sample:
    s = Sample(time.monotonic())
    for p in descendants(pid):
        try:
            s.cpu_s += _stat_times(f"/proc/{p}/stat")[1]
            for tid in os.listdir(f"/proc/{p}/task"):
                base = f"/proc/{p}/task/{tid}"
                comm, cpu = _stat_times(f"{base}/stat")
                label = "main" if int(tid) == p else comm
                s.threads[int(tid)] = (f"{label}" if p == pid else f"child:{label}", cpu, _switches(f"{base}/status"))
        except (OSError, ValueError):
            continue
    return s


@dataclass
class Rates:
    cpu_pct: float
    wakeups_per_s: float
    threads: list[tuple[str, float, float]]  # (name, cpu %, wake-ups/s), busiest first


def rates(a: Sample, b: Sample) -> Rates:
    wall = b.at - a.at
    threads = []
    for tid, (name, cpu, wakes) in b.threads.items():
        _, cpu0, wakes0 = a.threads.get(tid, (name, 0.0, 0))
        threads.append((name, 100 * (cpu - cpu0) / wall, (wakes - wakes0) / wall))
    threads.sort(key=lambda t: -t[1])
    return Rates(100 * (b.cpu_s - a.cpu_s) / wall, sum(t[2] for t in threads), threads)


def peak_rss_mb(pid: int) -> float:
    """VmHWM of the process (not its children), MB."""
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmHWM"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return float("nan")
