#!/bin/sh
# tiertrain simulate on the command line: a real workflow under a policy,
# JSON output, records that `tiertrain fit` trains on, a placement CSV, and
# the errors bad arguments get.  Usage: simulate_cli.sh TIERTRAIN WORKFLOWS_DIR
set -u
TT=$1
WF=$2/wfsim-Montage_25.xml
D=$(mktemp -d /tmp/tt_sim_cli.XXXXXX)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

cat > "$D/t.conf" <<CONF
[global]
placement = first
[tier mem]
path = m
capacity = 64M
read_bandwidth = 10G/s
write_bandwidth = 8G/s
latency = 1us
[tier ssd]
path = s
capacity = 25%
read_bandwidth = 2G/s
write_bandwidth = 1.5G/s
latency = 100us
[tier pfs]
path = p
capacity = 100T
read_bandwidth = 500M/s
write_bandwidth = 400M/s
latency = 2ms
CONF

# A percentage capacity needs an override, and the error says so.
"$TT" simulate "$WF" -c "$D/t.conf" 2>"$D/err" && fail "percentage capacity accepted"
grep -q "key 'capacity'.*--capacity ssd=SIZE" "$D/err" || fail "capacity error: $(cat "$D/err")"

C="--capacity ssd=1G"
"$TT" simulate "$WF" -c "$D/t.conf" $C --cores 2 >"$D/out" || fail "table run"
grep -q "^makespan" "$D/out" && grep -q "^I/O time" "$D/out" && grep -q "^mem " "$D/out" || fail "table: $(cat "$D/out")"

"$TT" simulate "$WF" -c "$D/t.conf" $C --policy pfs --json >"$D/pfs.json" || fail "json run"
"$TT" simulate "$WF" -c "$D/t.conf" $C --policy mem --json >"$D/mem.json" || fail "json run"
python3 - "$D/pfs.json" "$D/mem.json" <<'PY' || fail "json check"
import json, sys
p, m = (json.load(open(f)) for f in sys.argv[1:3])
assert p["io_time"] > m["io_time"] > 0, (p["io_time"], m["io_time"])
assert [t["name"] for t in p["tiers"]] == ["mem", "ssd", "pfs"]
assert p["tiers"][2]["files"] == p["files_created"] > 0
PY

# Records train a model, and the model drives a simulation.
"$TT" simulate "$WF" -c "$D/t.conf" $C --policy random --seed 3 --records "$D/rec.csv" >/dev/null || fail "records run"
head -1 "$D/rec.csv" | grep -q "^producer_level,.*,free_mem,free_ssd,free_pfs,tier$" || fail "records header: $(head -1 "$D/rec.csv")"
"$TT" fit "$D/rec.csv" -o "$D/m.json" --param rounds=5 >/dev/null 2>&1 || fail "fit on records"
"$TT" simulate "$WF" -c "$D/t.conf" $C --model "$D/m.json" --policy pfs --json >"$D/l.json" || fail "model run"
grep -q '"policy": "learned+pfs"' "$D/l.json" || fail "model policy name: $(cat "$D/l.json")"
# The plan check runs first (as in the daemon): its plan is the model or a
# tier, and a planned tier's run is that tier's own run.
python3 - "$D/l.json" <<'PY' || fail "plan check of simulate: $(cat "$D/l.json")"
import json, re, sys
d = json.load(open(sys.argv[1]))
m = re.fullmatch(r"plan (model|mem|ssd|pfs) \(model [^,]+ s, mem [^,]+ s, ssd [^,]+ s, pfs [^,]+ s simulated\)", d["plan"])
assert m, d["plan"]
open(sys.argv[1] + ".plan", "w").write(m.group(1))
PY
plan=$(cat "$D/l.json.plan")
if [ "$plan" != model ]; then
	"$TT" simulate "$WF" -c "$D/t.conf" $C --policy "$plan" --json >"$D/t.json" || fail "tier run"
	python3 -c 'import json, sys; a, b = (json.load(open(f)) for f in sys.argv[1:]); assert a["io_time"] == b["io_time"], (a["io_time"], b["io_time"])' \
		"$D/l.json" "$D/t.json" || fail "the planned tier's run differs from the tier's own"
fi
"$TT" simulate "$WF" -c "$D/t.conf" $C --model "$D/m.json" --policy pfs --no-plan-check --json >"$D/n.json" || fail "model run without the check"
grep -q '"plan"' "$D/n.json" && fail "--no-plan-check still ran the check"

# Same seed, same output.
"$TT" simulate "$WF" -c "$D/t.conf" $C --policy random --seed 9 --json >"$D/r1" || fail "random run"
"$TT" simulate "$WF" -c "$D/t.conf" $C --policy random --seed 9 --json >"$D/r2" || fail "random run"
cmp -s "$D/r1" "$D/r2" || fail "random policy not deterministic"

# Placement CSV.
printf 'file,tier\np2mass-atlas-ID00000s-jID00000.fits,pfs\n' >"$D/pl.csv"
"$TT" simulate "$WF" -c "$D/t.conf" $C --placement "$D/pl.csv" --json >/dev/null || fail "placement run"
printf 'file,tier\nnot-a-file,pfs\n' >"$D/bad.csv"
"$TT" simulate "$WF" -c "$D/t.conf" $C --placement "$D/bad.csv" 2>"$D/err" && fail "bad placement accepted"
grep -q 'bad.csv:2: file "not-a-file" is not a file of the workflow' "$D/err" || fail "placement error: $(cat "$D/err")"

# Series: the monitor's CSV, which tiertrain phases trains on; the model
# then drives a proactive run (issue 9).  Runtimes scaled down, so the
# series has write bursts between calms.
"$TT" simulate "$WF" -c "$D/t.conf" $C --runtime-scale 0.2 --tick 0.5 --series "$D/s.csv" --json >"$D/st.json" || fail "series run"
head -1 "$D/s.csv" | grep -q '^time,mem_read_Bps,.*,migration_backlog_bytes$' || fail "series header: $(head -1 "$D/s.csv")"
grep -q '"ticks": [1-9]' "$D/st.json" || fail "no ticks: $(cat "$D/st.json")"
"$TT" phases "$D/s.csv" -o "$D/p.json" -q --kmax 3 >/dev/null || fail "phases on a simulated series"
"$TT" simulate "$WF" -c "$D/t.conf" $C --runtime-scale 0.2 --phase-model "$D/p.json" --proactive --series "$D/sp.csv" --json >"$D/pr.json" || fail "proactive run"
grep -q '"mean_headroom": ' "$D/pr.json" || fail "proactive figures: $(cat "$D/pr.json")"
"$TT" phases "$D/sp.csv" --model "$D/p.json" --json >/dev/null || fail "phase report on the proactive series"
"$TT" simulate "$WF" -c "$D/t.conf" $C --proactive 2>"$D/err"; [ $? -eq 2 ] || fail "proactive without a model exit"
grep -q -- '--proactive needs --phase-model' "$D/err" || fail "proactive error: $(cat "$D/err")"
printf '{"format": "tierfs-phases"}' >"$D/badp.json"
"$TT" simulate "$WF" -c "$D/t.conf" $C --phase-model "$D/badp.json" 2>"$D/err" && fail "bad phase model accepted"
grep -q 'badp.json' "$D/err" || fail "phase model error: $(cat "$D/err")"

# Bad arguments: exit 2 and a message naming the problem.
"$TT" simulate "$WF" -c "$D/t.conf" $C --policy fastest 2>"$D/err"; [ $? -eq 2 ] || fail "unknown policy exit"
grep -q 'unknown policy "fastest"' "$D/err" || fail "policy error: $(cat "$D/err")"
"$TT" simulate "$WF" -c "$D/t.conf" $C --nodes 0 2>"$D/err"; [ $? -eq 2 ] || fail "nodes 0 exit"
grep -q -- '--nodes 0: expected at least 1' "$D/err" || fail "nodes error: $(cat "$D/err")"
"$TT" simulate "$WF" 2>"$D/err"; [ $? -eq 2 ] || fail "missing config exit"
grep -q 'a tier configuration is needed' "$D/err" || fail "config error: $(cat "$D/err")"
"$TT" simulate "$WF" -c "$D/t.conf" --capacity tape=1G 2>"$D/err"; [ $? -eq 2 ] || fail "capacity tier exit"
grep -q 'no tier "tape"' "$D/err" || fail "capacity tier error: $(cat "$D/err")"
echo "ok"
