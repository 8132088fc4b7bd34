#!/bin/sh
# phase_sim_eval_smoke.sh EVAL BUILD WORKFLOWS_DIR - tools/bench/phase-sim-eval
# --quick end to end (simulated series, phase training, proactive runs):
# a table row per configuration and results.json with both modes' figures.
set -u
D=$(mktemp -d /tmp/phase_sim_eval.XXXXXX)
trap 'rm -rf "$D"' EXIT
TIERFS_WORKFLOWS_DIR=$3 /usr/bin/python3 "$1" --quick --build "$2" -o "$D" >"$D/out" 2>"$D/err" ||
	{ echo "FAIL: phase-sim-eval: $(cat "$D/err")"; exit 1; }
grep -q '^| nfi-rnaseq-dirt02-001 | 1 | 0.05x' "$D/table.md" || { echo "FAIL: table: $(cat "$D/table.md")"; exit 1; }
/usr/bin/python3 -c "
import json, sys
rows = json.load(open(sys.argv[1]))
assert rows and all(r['static']['ticks'] > 0 and 'io_s' in r['proactive'] and 'io_s' in r['prefetch'] for r in rows), rows
" "$D/results.json" || { echo "FAIL: results.json"; exit 1; }
echo ok
