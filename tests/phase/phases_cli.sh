#!/bin/sh
# tiertrain phases on the command line: train on two small synthetic
# series, the report (table and JSON), the model reused with --model on an
# unseen series, and the errors bad arguments and bad files get.
# Usage: phases_cli.sh TIERTRAIN PHASE_SYNTH
set -u
TT=$1
SYN=$2
D=$(mktemp -d /tmp/tt_phases_cli.XXXXXX)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

"$SYN" "$D/a.csv" 1 i80q60d80q50i60d60 || fail "synth a"
"$SYN" "$D/b.csv" 2 q40d60i70q60d50 || fail "synth b"
"$SYN" "$D/c.csv" 3 i60d50q50i40 || fail "synth c"

"$TT" phases "$D/a.csv" "$D/b.csv" -o "$D/p.json" --epochs 60 --seed 5 >"$D/out" 2>"$D/log" ||
	fail "train: $(cat "$D/log")"
grep -q '^phases: 3 ' "$D/out" || fail "three regimes, report says: $(head -1 "$D/out")"
grep -q '^transitions P(next tick | phase):' "$D/out" || fail "no transition matrix"
grep -q 'mem_fill_q50/q95' "$D/out" || fail "no fill quantiles"
grep -q 'macro F1' "$D/out" || fail "no next-phase F1"
grep -q 'epoch 1: held-out reconstruction error' "$D/log" || fail "no progress on stderr"
grep -q '"format":.*"tierfs-phases"' "$D/p.json" || fail "model file: $(head -3 "$D/p.json")"

# Same seed, same bytes; quiet means quiet.
"$TT" phases "$D/a.csv" "$D/b.csv" -o "$D/p2.json" --epochs 60 --seed 5 -q >/dev/null 2>"$D/log2" || fail "retrain"
[ -s "$D/log2" ] && fail "-q printed: $(cat "$D/log2")"
cmp -s "$D/p.json" "$D/p2.json" || fail "same seed, different model files"

# The model on an unseen series, as JSON.
"$TT" phases "$D/c.csv" --model "$D/p.json" --json >"$D/r.json" || fail "report with --model"
python3 - "$D/r.json" <<'PY' || fail "JSON report: $(cat "$D/r.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["k"] == 3 and len(r["phases"]) == 3 and len(r["transitions"]) == 3
assert abs(sum(p["share"] for p in r["phases"]) - 1) < 1e-9
assert set(r["phases"][0]["tiers"]) == {"mem", "ssd", "pfs"}
assert r["changes"] >= 2
PY

# Errors name the problem.
"$TT" phases "$D/a.csv" 2>"$D/err" && fail "no -o accepted"
grep -q 'either -o PHASES.json' "$D/err" || fail "missing -o: $(cat "$D/err")"
"$TT" phases "$D/a.csv" -o "$D/x.json" --kmax 40 2>"$D/err" && fail "--kmax 40 accepted"
grep -q -- '--kmax "40": expected an integer from 2 to 16' "$D/err" || fail "kmax: $(cat "$D/err")"
printf 'time,foo\n1,2\n' >"$D/bad.csv"
"$TT" phases "$D/bad.csv" -o "$D/x.json" 2>"$D/err" && fail "bad CSV accepted"
grep -q "bad.csv" "$D/err" || fail "bad CSV: $(cat "$D/err")"
sed 's/"transitions"/"transition"/' "$D/p.json" >"$D/badm.json"
"$TT" phases "$D/c.csv" --model "$D/badm.json" 2>"$D/err" && fail "bad model accepted"
grep -q 'badm.json: transitions: missing' "$D/err" || fail "bad model: $(cat "$D/err")"
[ -e "$D/x.json" ] && fail "a failed run left a model"
echo "ok"
