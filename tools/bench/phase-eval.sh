#!/usr/bin/env bash
# phase-eval.sh - proactive (phase model) against static watermarks on a
# real tierfs mount.  Usage:
#   nice tools/bench/phase-eval.sh [--build DIR] [--cycles N] [--files N] [--pace S] [--out FILE.json]
#
# One workload, run three times on fresh tiers: once with static
# watermarks to record the monitor series the phase model is trained on,
# then once static and once proactive (same workload, same model) for the
# figures.  The workload repeats a cycle: a burst of writes into the mount
# (ingest: --files x 4 MiB, default 6 = 38% of the memory tier, one every
# --pace seconds, default 0.6), a pause
# (compute, 5 s), a read of four of the new files (~3 s), a pause (2 s).
# The training run has twice the cycles of the evaluation runs.  Files are never attached to a workflow, so every
# demotion ranks them "unknown" and goes least recently used first.
#
# Figures per run, from a once-a-second poll of `tierctl status --json`:
#   ticks_no_spill   share of ticks in which no write spilled to a lower tier
#   spills           files moved during a write because their tier was full
#   near_full_ticks  ticks with the memory tier at >= 98% of its capacity
#   mean_free_mem    mean free bytes in the memory tier (unused fast space)
#   mean_headroom    mean headroom proactive mode reserved in the memory tier
#   moves            background migrations (demotions + promotions)
#   mem_write_share  share of the bytes written that landed in the memory tier
#   io_s             wall time of the workload's writes and reads
# and the macro F1 of next-phase prediction on the evaluation runs' series
# (tiertrain phases --model).  Emulated tiers: ssd writes 200 MB/s, pfs
# 100 MB/s, so spills and moves cost time as on real hardware.
set -uo pipefail
build=./build cycles=8 out= files=6 pace=0.6
while [ $# -gt 0 ]; do
	case $1 in
	--build) build=$2; shift 2 ;;
	--cycles) cycles=$2; shift 2 ;;
	--files) files=$2; shift 2 ;;
	--pace) pace=$2; shift 2 ;;
	--out) out=$2; shift 2 ;;
	*) echo "usage: $0 [--build DIR] [--cycles N] [--files N] [--pace SECONDS] [--out FILE.json]" >&2; exit 2 ;;
	esac
done
tierfs=$build/bin/tierfs tierctl=$build/bin/tierctl tiertrain=$build/bin/tiertrain
for b in "$tierfs" "$tierctl" "$tiertrain"; do
	[ -x "$b" ] || { echo "phase-eval: $b missing: build first (cmake --build $build)" >&2; exit 1; }
done
[ -c /dev/fuse ] || { echo "phase-eval: no /dev/fuse" >&2; exit 1; }
py=$(command -v python3) || { echo "phase-eval: needs python3 (apt-get install python3)" >&2; exit 1; }

root=$(mktemp -d /tmp/phase-eval-XXXXXX)
mnt=$root/mnt pid= poller=
cleanup() {
	[ -n "$poller" ] && kill "$poller" 2>/dev/null
	fusermount3 -u "$mnt" 2>/dev/null || true
	[ -n "$pid" ] && wait "$pid" 2>/dev/null
	rm -rf "$root"
}
trap cleanup EXIT
mkdir -p "$mnt"

# run NAME EXTRA_OPTS CYCLES: one run on fresh tiers; leaves $root/NAME.{poll,series.csv,io}
run() {
	local name=$1 opts=$2 d=$root/$1
	mkdir -p "$d/mem" "$d/ssd" "$d/pfs" "$d/state"
	cat >"$d/tierfs.conf" <<CONF
[global]
placement = first
state_dir = $d/state
[tier mem]
path = $d/mem
capacity = 64M
high_watermark = 0.9
low_watermark = 0.3
[tier ssd]
path = $d/ssd
capacity = 1G
write_bandwidth = 200M
emulate_write_bandwidth = 200M
[tier pfs]
path = $d/pfs
capacity = 4G
write_bandwidth = 100M
emulate_write_bandwidth = 100M
CONF
	"$tierfs" "$mnt" -f -o "config=$d/tierfs.conf$opts" 2>"$d/log" &
	pid=$!
	for _ in $(seq 200); do mountpoint -q "$mnt" && break; sleep 0.05; done
	mountpoint -q "$mnt" || { echo "phase-eval: mount failed: $(cat "$d/log")" >&2; exit 1; }
	(while :; do "$tierctl" --mount "$mnt" status --json 2>/dev/null | tr -d '\n'; echo; sleep 1; done) >"$d/poll" &
	poller=$!
	sleep 6 # warm-up frames, an idle start
	local io=0 t0 t1 f
	# Each phase lasts several 1 s ticks, longer than warm-up + hysteresis.
	for c in $(seq "$3"); do
		for f in $(seq "$files"); do
			t0=$(date +%s.%N)
			dd if=/dev/zero of="$mnt/c${c}_$f" bs=1M count=4 status=none
			t1=$(date +%s.%N)
			io=$($py -c "print($io + $t1 - $t0)")
			sleep "$pace"
		done
		sleep 5
		for f in 1 2 3 4; do
			t0=$(date +%s.%N)
			cat "$mnt/c${c}_$f" >/dev/null
			t1=$(date +%s.%N)
			io=$($py -c "print($io + $t1 - $t0)")
			sleep 0.7
		done
		sleep 2
	done
	sleep 2
	kill "$poller"
	wait "$poller" 2>/dev/null
	poller=
	echo "$io" >"$d/io"
	fusermount3 -u "$mnt"
	wait "$pid"
	pid=
	cp "$d/state/series.csv" "$root/$name.series.csv"
}

echo "phase-eval: training run (static watermarks), $((2 * cycles)) cycles" >&2
run train "" $((2 * cycles))
"$tiertrain" phases "$root/train.series.csv" -o "$root/phases.json" -q --seed 1 >"$root/train.report" ||
	{ echo "phase-eval: training failed" >&2; exit 1; }
echo "phase-eval: static run" >&2
run static ",phase_model=$root/phases.json" "$cycles"
echo "phase-eval: proactive run" >&2
run proactive ",phase_model=$root/phases.json,proactive=true,proactive_horizon=10" "$cycles"
for r in static proactive; do
	"$tiertrain" phases "$root/$r.series.csv" --model "$root/phases.json" --json >"$root/$r.phases.json" ||
		{ echo "phase-eval: phase report on $r failed" >&2; exit 1; }
done

[ -n "$out" ] && cat "$root/train.report" >"${out%.json}.train.txt"
$py - "$root" "$out" "$cycles" "$files" <<'PY'
import json, sys, csv
root, out, cycles, files = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
res = {}
for r in ("static", "proactive"):
    polls = [json.loads(l) for l in open(f"{root}/{r}/poll") if l.strip().startswith("{")]
    spills = [p["spills"] for p in polls]
    ticks = max(len(polls) - 1, 1)
    spill_ticks = sum(1 for a, b in zip(spills, spills[1:]) if b > a)
    mem = [p["tiers"][0] for p in polls]
    near = sum(1 for m in mem if m["used"] >= 0.98 * m["capacity"])
    free = sum(m["free"] for m in mem) / max(len(mem), 1)
    head = [p["phase"]["headroom"]["mem"] for p in polls if p.get("phase")]
    rows = list(csv.DictReader(open(f"{root}/{r}.series.csv")))
    # Migrations are counted as writes into their target tier, so the
    # application's share in mem is mem's writes (no promotions here) over
    # the bytes the workload wrote.
    app = cycles * files * 4 * 1048576
    t_prev, mem_bytes = None, 0.0
    for x in rows:
        t = float(x["time"])
        mem_bytes += float(x["mem_write_Bps"]) * (t - t_prev if t_prev is not None else 1.0)
        t_prev = t
    ph = json.load(open(f"{root}/{r}.phases.json"))
    last = polls[-1]
    res[r] = {
        "ticks": ticks,
        "ticks_no_spill": 1 - spill_ticks / ticks,
        "spills": spills[-1] if spills else 0,
        "near_full_ticks": near,
        "mean_free_mem_MiB": free / 1048576,
        "mean_headroom_mem_MiB": (sum(head) / len(head) / 1048576) if head else 0,
        "moves": last["migration"]["moves_total"],
        "moved_MiB": last["migration"]["moved_bytes_total"] / 1048576,
        "proactive_plans": last["migration"].get("proactive_plans", 0),
        "mem_write_share": mem_bytes / app,
        "io_s": float(open(f"{root}/{r}/io").read()),
        "phases": ph["k"],
        "next_phase_f1": ph["next_phase_f1"] if ph["next_phase_f1"] is not None else float("nan"),
        "phase_changes": ph["changes"],
    }
keys = list(res["static"].keys())
print(f"{'figure':24} {'static':>12} {'proactive':>12} {'ratio':>8}")
for k in keys:
    a, b = res["static"][k], res["proactive"][k]
    ratio = f"{b / a:8.2f}" if isinstance(a, (int, float)) and a else "       -"
    print(f"{k:24} {a:12.4g} {b:12.4g} {ratio}")
if out:
    json.dump(res, open(out, "w"), indent=1)
PY
