#!/bin/sh
# The training pipeline on the command line, end to end on a small sweep:
# label real workflows by GA, fit a model on the records, evaluate it on a
# workflow it was not trained on (JSON in the issue's form, the report and
# its plot data), label a daemon record log, and the errors bad arguments
# get.  Usage: label_eval_cli.sh TIERTRAIN WORKFLOWS_DIR SOURCE_DIR
set -u
TT=$1
W=$2
SRC=$3
D=$(mktemp -d /tmp/tt_label_cli.XXXXXX)
trap 'rm -rf "$D"' EXIT
fail() { echo "FAIL: $*"; exit 1; }
PY=/usr/bin/python3
[ -x "$PY" ] || PY=python3

# 1. Label two workflows over a two-point memory sweep.
"$TT" label "$W/wfsim-Montage_25.xml" "$W/wfsim-Epigenomics_100.xml" --vary mem=0.05x,0.4x \
	-o "$D/rec.csv" -q >"$D/label.out" 2>"$D/err" || fail "label: $(cat "$D/err")"
grep -q "records from 4 configurations" "$D/label.out" || fail "label summary: $(cat "$D/label.out")"
# One record per created file per configuration, with the daemon's feature
# names (the shipped config's tiers) and a tier label.
$PY - "$D/rec.csv" <<'PY' || fail "records"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
names = ["producer_level", "producer_width", "wf_tasks", "wf_bytes", "consumers", "next_use_distance",
         "last_use_distance", "task_input_bytes", "declared_size", "free_mem", "free_ssd", "free_pfs", "tier"]
assert list(rows[0].keys()) == names, list(rows[0].keys())
assert len(rows) == 2 * (29 + 149), len(rows)   # created files of Montage_25 and Epigenomics_100
assert {r["tier"] for r in rows} <= {"mem", "ssd", "pfs"}
PY
# Same seed, same records.
"$TT" label "$W/wfsim-Montage_25.xml" --vary mem=0.05x -o "$D/a.csv" -q >/dev/null || fail "label a"
"$TT" label "$W/wfsim-Montage_25.xml" --vary mem=0.05x -o "$D/b.csv" -q --threads 1 >/dev/null || fail "label b"
cmp -s "$D/a.csv" "$D/b.csv" || fail "labels differ between 2 threads and 1"

# 2. Fit a model on them.
"$TT" fit "$D/rec.csv" -o "$D/model.json" --quiet >"$D/fit.out" 2>&1 || fail "fit: $(cat "$D/fit.out")"

# 3. Evaluate it on a workflow it did not see, JSON and report.
"$TT" eval --model "$D/model.json" --vary mem=0.05x,0.5x --json -q -o "$D/report" \
	"$W/wfsim-Montage_1000.xml" >"$D/eval.json" 2>"$D/err" || fail "eval: $(cat "$D/err")"
$PY - "$D/eval.json" <<'PY' || fail "eval JSON"
import json, sys
d = json.load(open(sys.argv[1]))
cs = d["configs"]
assert len(cs) == 2, cs
for c in cs:
    assert set(c) >= {"workflow", "scale", "mem_capacity", "io_time"}, c
    io = c["io_time"]
    assert list(io) == ["mem", "ssd", "pfs", "random", "most-free", "learned", "ga"], list(io)
    assert c["scale"] == 1000
    for k, v in io.items():   # the GA is seeded with every policy: never above one
        assert io["ga"] <= v * (1 + 1e-9), (k, v, io["ga"])
    # --jitter (4 runs by default): means of the static tiers and the
    # learned policy, and the best tier's spread, which holds both its
    # value at the declared runtimes and its mean.
    m = c["io_time_mean"]
    assert list(m) == ["mem", "ssd", "pfs", "learned"], list(m)
    best = min(("mem", "ssd", "pfs"), key=lambda k: io[k])
    assert c["noise"] >= 0 and abs(m[best] - io[best]) <= c["noise"] * (1 + 1e-9) + 1e-9, (c, best)
assert cs[0]["mem_capacity"] < cs[1]["mem_capacity"]
# The plan check: the learned column follows the plan; the unchecked
# model stays beside it; the model is kept only below every tier (the
# default check: one run each at the declared runtimes, no margin).
for c in cs:
    io, plan, pc = c["io_time"], c["learned_plan"], c["plan_check"]
    assert set(pc) == {"model", "mem", "ssd", "pfs"}, pc
    best = min(("mem", "ssd", "pfs"), key=lambda k: pc[k])
    if plan == "model":
        assert pc["model"] < pc[best] and io["learned"] == c["model_io_time"], c
    else:
        assert plan == best and not pc["model"] < pc[best] and io["learned"] == io[plan], c
    # The check's runs are the evaluation's own at the declared runtimes.
    assert pc["model"] == c["model_io_time"] and all(pc[t] == io[t] for t in ("mem", "ssd", "pfs")), c
    assert c["model_io_time"] > 0 and c["model_io_time_mean"] > 0, c
    assert io["ga"] <= c["model_io_time"] * (1 + 1e-9), c   # the GA is seeded with the unchecked model too
assert 0 <= d["accuracy"] <= 1 and len(d["confusion"]["counts"]) == 3
PY
for f in report.md eval.json plot-data.tsv fig-memory.dat fig-memory.gp; do
	[ -s "$D/report/$f" ] || fail "report file $f missing"
done
grep -q "learned (plan-checked) at or below the best static policy in" "$D/report/report.md" || fail "report verdict"
grep -q "^plan check (margin 0, runtime scales 1): model kept in [0-9]* of 2 configurations" "$D/report/report.md" || fail "report: no plan-check line"
grep -q "^unchecked model at or below the best static policy in" "$D/report/report.md" || fail "report: no verdict of the unchecked model"
grep -q "with task runtimes jittered by up to 1.0% (4 more runs)" "$D/report/report.md" || fail "report: no jitter verdict"
if [ -x /usr/bin/gnuplot ]; then
	grep -q "<svg" "$D/report/fig-memory.svg" || fail "no SVG plot although gnuplot is installed"
fi
# Generated workflows give the scale sweep.
if "$TT" generate --list >/dev/null 2>&1; then
	"$TT" eval --model "$D/model.json" --vary mem=0.2x --scales 10,40 --no-ga --jitter 0 --json -q gen:montage \
		>"$D/gen.json" 2>"$D/err" || fail "eval gen: $(cat "$D/err")"
	$PY - "$D/gen.json" <<'PY' || fail "eval gen JSON"
import json, sys
cs = json.load(open(sys.argv[1]))["configs"]
assert len(cs) == 2 and cs[0]["scale"] < cs[1]["scale"], cs
assert "ga" not in cs[0]["io_time"]
assert "io_time_mean" not in cs[0] and "noise" not in cs[0], cs[0]   # --jitter 0
PY
	# --no-plan-check: the learned column is the model alone.
	"$TT" eval --model "$D/model.json" --vary mem=0.2x --scales 10 --no-ga --jitter 0 --json -q --no-plan-check gen:montage \
		>"$D/raw.json" 2>"$D/err" || fail "eval --no-plan-check: $(cat "$D/err")"
	$PY - "$D/raw.json" <<'PY' || fail "eval --no-plan-check JSON"
import json, sys
c = json.load(open(sys.argv[1]))["configs"][0]
assert c["plan_check"] is None and c["learned_plan"] == "model" and c["io_time"]["learned"] == c["model_io_time"], c
PY
fi
"$TT" eval --plan-margin 1.5 "$W/wfsim-Montage_25.xml" 2>"$D/err" && fail "--plan-margin 1.5 accepted"
grep -q -- '--plan-margin "1.5": expected a fraction in \[0, 1)' "$D/err" || fail "--plan-margin: $(cat "$D/err")"
"$TT" eval --plan-scales 1,x "$W/wfsim-Montage_25.xml" 2>"$D/err" && fail "--plan-scales 1,x accepted"
grep -q -- '--plan-scales "1,x": expected 1 to 8 numbers above 0' "$D/err" || fail "--plan-scales: $(cat "$D/err")"

# 4. A daemon record log: the features it logged, labelled by the GA.
cat >"$D/t.conf" <<CONF
[global]
placement = first
[tier mem]
path = $D/m
capacity = 32M
read_bandwidth = 10G/s
write_bandwidth = 8G/s
[tier ssd]
path = $D/s
capacity = 1G
read_bandwidth = 2G/s
write_bandwidth = 1.5G/s
[tier pfs]
path = $D/p
capacity = 100G
read_bandwidth = 500M/s
write_bandwidth = 400M/s
CONF
H="time_s,event,path,workflow,producer_level,producer_width,wf_tasks,wf_bytes,consumers,next_use_distance,last_use_distance,task_input_bytes,declared_size,free_mem,free_ssd,free_pfs,tier,policy,reason,bytes_written,bytes_read,lifetime_s"
{
	echo "$H"
	echo "1.0,config,$D/t.conf,,,,,,,,,,,33554432,1073741824,107374182400,,,,,,"
	echo "1.0,attach,$W/wfsim-Montage_25.xml,run,,,,,,,,,,,,,,,,,,"
	echo "2.0,create,run/region.hdr,run,0,1,25,1,1,1,1,0,304,33554432,1073741824,107374182400,mem,first,,,,"
	echo "2.1,create,run/scratch,run,,,,,,,,,,,,,mem,first,the workflow does not name this file,,,"
	grep 'link="output"' "$W/wfsim-Montage_25.xml" | grep -o 'file="[^"]*"' | sed 's/file="//;s/"$//' | head -3 |
		while read -r f; do echo "2.2,create,run/$f,run,1,2,25,9,1,1,1,100,5000,33000000,1073741824,107374182400,mem,first,,,,"; done
} >"$D/records.csv"
"$TT" label --log "$D/records.csv" -o "$D/fromlog.csv" -q >"$D/log.out" 2>"$D/err" || fail "label --log: $(cat "$D/err")"
$PY - "$D/fromlog.csv" <<'PY' || fail "records from the log"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
assert len(rows) == 3, rows           # the three created files (not the input, not scratch)
assert all(r["tier"] in ("mem", "ssd", "pfs") for r in rows)
assert all(r["free_pfs"] == "107374182400" for r in rows), "features must be the logged ones"
PY

# 5. Bad input: named, nothing written.
"$TT" label "$W/wfsim-Montage_25.xml" --vary mem=lots -o "$D/x.csv" 2>"$D/err" && fail "bad --vary accepted"
grep -q '"lots" is neither a size' "$D/err" || fail "--vary error: $(cat "$D/err")"
[ ! -e "$D/x.csv" ] || fail "output written on a bad argument"
echo '{"format": "tierfs-gbdt", "trees": [' >"$D/bad.json"
"$TT" eval --jitter 21 "$W/wfsim-Montage_25.xml" 2>"$D/err" && fail "--jitter 21 accepted"
grep -q -- "--jitter 21: at most 20" "$D/err" || fail "--jitter 21: $(cat "$D/err")"
"$TT" eval --model "$D/bad.json" "$W/wfsim-Montage_25.xml" 2>"$D/err" && fail "truncated model accepted"
grep -q "bad.json" "$D/err" || fail "model error does not name the file: $(cat "$D/err")"
printf 'a,b\n1,2\n' >"$D/notalog.csv"
"$TT" label --log "$D/notalog.csv" -o "$D/y.csv" 2>"$D/err" && fail "a non-log accepted"
grep -q "notalog.csv:1: not a tierfs record log" "$D/err" || fail "log error: $(cat "$D/err")"
for cmd in label eval; do
	"$TT" $cmd --cores 0 "$W/wfsim-Montage_25.xml" -o "$D/z.csv" 2>"$D/err" && fail "$cmd --cores 0 accepted"
	grep -q -- "tiertrain $cmd: --cores must be at least 1" "$D/err" || fail "$cmd --cores 0: $(cat "$D/err")"
	"$TT" $cmd --population 8x "$W/wfsim-Montage_25.xml" -o "$D/z.csv" 2>"$D/err" && fail "$cmd --population 8x accepted"
	grep -q -- "tiertrain $cmd: --population \"8x\": expected a whole number" "$D/err" ||
		fail "$cmd --population 8x: $(cat "$D/err")"
done
[ ! -e "$D/z.csv" ] || fail "output written on a bad argument"
cp "$D/rec.csv" "$D/keep.csv"
"$TT" label "$W/no-such.xml" -o "$D/keep.csv" 2>/dev/null && fail "missing workflow accepted"
cmp -s "$D/rec.csv" "$D/keep.csv" || fail "a failed label run damaged the previous records"
echo "PASS: label, fit, eval (JSON, report), label --log, bad input"
