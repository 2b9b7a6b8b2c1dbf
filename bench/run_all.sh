#!/bin/sh
# Run every benchmark (full length, about 18 minutes) and keep the output in bench/last-run.txt.
# `sh bench/run_all.sh --quick` runs the short versions (about 2 minutes), as CI could.
# Check the load first (`uptime`): other work on the machine skews the timings.

cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
QUICK=${1:-}
for b in display cpu cpu_mic memory longsession startquit engine engine_e2e soak capture mic_run share; do
    if [ "$b" = capture ] && [ -n "$QUICK" ]; then
        $PY bench/capture.py --seconds 5
    else
        $PY bench/$b.py $QUICK
    fi
done 2>&1 | tee bench/last-run.txt
