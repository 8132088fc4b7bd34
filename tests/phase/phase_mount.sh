#!/usr/bin/env bash
# phase_mount.sh TIERFS TIERCTL TIERTRAIN PHASE_SYNTH - a real mount with a
# phase model: the phase shows in tierctl status and stats (JSON, table,
# Prometheus) once the warm-up frames have passed; proactive mode demotes a
# cold file before the high watermark when free space drops below the
# headroom the coming phases need; in a read-heavy phase it prefetches the
# next tasks' inputs that are read twice or more; a broken phase model stops the mount
# with an error naming the file.  Exit 77 only without /dev/fuse.
set -uo pipefail
. "$(dirname "$0")/../common/mount.sh"
tierfs=$1 tierctl=$2 tiertrain=$3 synth=$4
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
py=$(command -v python3) || { echo "FAIL: python3 is needed to check JSON"; exit 1; }

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "ok: $*"; }

root=$(mktemp -d /tmp/phase-mount-XXXXXX)
mnt=$root/mnt
pid=
cleanup() {
	fusermount3 -u "$mnt" 2>/dev/null || umount -l "$mnt" 2>/dev/null || true
	[ -n "$pid" ] && wait "$pid" 2>/dev/null
	rm -rf "$root"
}
trap cleanup EXIT
mkdir -p "$mnt" "$root/mem" "$root/ssd" "$root/pfs" "$root/state"
cat >"$root/tierfs.conf" <<CONF
[global]
placement = first
state_dir = $root/state
[tier mem]
path = $root/mem
capacity = 8M
high_watermark = 0.9
low_watermark = 0.7
[tier ssd]
path = $root/ssd
capacity = 64M
[tier pfs]
path = $root/pfs
capacity = 64M
CONF

"$synth" "$root/a.csv" 1 i80q60d80q50i60d60 || { echo "FAIL: synth"; exit 1; }
"$tiertrain" phases "$root/a.csv" -o "$root/phases.json" --epochs 40 -q >/dev/null || { echo "FAIL: train"; exit 1; }

# The live phase of an idle test mount is whatever is nearest; to make the
# headroom deterministic, every phase is made a calm one (mem fill q50 0)
# that the coming phases follow with 1 MB/s (q95) into mem.
$py - "$root/phases.json" <<'PY' || { echo "FAIL: editing the model"; exit 1; }
import json, sys
m = json.load(open(sys.argv[1]))
for p in m["profiles"]:
    p["fill_q50"][0] = 0
    p["fill_q95"][0] = 1e6
json.dump(m, open(sys.argv[1], "w"))
PY

# A broken phase model stops the mount before anything is mounted.
sed 's/"centroids"/"centroid"/' "$root/phases.json" >"$root/bad.json"
if "$tierfs" "$mnt" -f -o "config=$root/tierfs.conf,phase_model=$root/bad.json" 2>"$root/err"; then
	fail "mounted with a broken phase model"
	fusermount3 -u "$mnt"
else
	grep -q "phase_model: $root/bad.json: centroids: missing" "$root/err" && pass "broken model refused" ||
		fail "broken model error: $(cat "$root/err")"
fi

# A long horizon makes every phase reachable, so the headroom is the cap:
# (1 - low_watermark) of mem's 8M = 2.4M.
"$tierfs" "$mnt" -f -o "config=$root/tierfs.conf,phase_model=$root/phases.json,proactive=true,proactive_horizon=600" \
	2>"$root/log" &
pid=$!
tfs_wait_mount || { echo "FAIL: not mounted"; cat "$root/log"; exit 1; }

status() { "$tierctl" --mount "$mnt" status --json 2>&1; }
json() { printf '%s' "$out" | $py -c "import json,sys; j=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }
# status_until TRIES PAUSE COND: fetch the status into $out until the
# Python condition COND on it (j) holds, at most TRIES times.
status_until() {
	local _
	for _ in $(seq "$1"); do
		out=$(status)
		json "$3" && return 0
		sleep "$2"
	done
	return 1
}
# file_until PATH: wait up to 10 s for PATH to exist.
file_until() {
	local _
	for _ in $(seq 40); do
		[ -e "$1" ] && return 0
		sleep 0.25
	done
	return 1
}

out=$(status)
json 'j["phase"]["phases"] >= 2 and j["phase"]["model"].endswith("phases.json")' && pass "status names the phase model" ||
	fail "status: $out"
# Warm-up is history (4) frames, one per second; then a phase.
status_until 40 0.5 'j["phase"]["current"] >= 0' || true
json 'j["phase"]["current"] >= 0 and j["phase"]["next"] >= 0' && pass "a phase after warm-up" ||
	fail "no phase after 20 s: $out"
json 'j["phase"]["proactive"] and j["phase"]["headroom"]["mem"] == int(0.3 * 8 * 1048576)' &&
	pass "proactive headroom on mem is the cap" || fail "headroom: $out"
text=$("$tierctl" --mount "$mnt" status)
grep -Eq '^ *phase +[0-9]+ of [0-9]+ for' <<<"$text" && pass "status table shows the phase" || fail "status table: $text"
out=$("$tierctl" --mount "$mnt" stats --json)
json 'j["phase"]["current"] >= 0' && pass "stats JSON has the phase" || fail "stats: $out"
prom=$("$tierctl" --mount "$mnt" stats --prometheus)
grep -Eq '^tierfs_phase [0-9]+$' <<<"$prom" && pass "Prometheus tierfs_phase" || fail "prometheus: $prom"

# 6 x 1M into mem: 75% used, under the 90% high watermark, but 2M free is
# less than the 2.4M headroom: the least recently used file goes early.
for i in 1 2 3 4 5 6; do
	head -c 1048576 /dev/urandom >"$mnt/f$i"
	sleep 0.1
done
status_until 40 0.25 'j["migration"]["proactive_plans"] >= 1 and j["migration"]["moves_total"] >= 1' || true
json 'j["migration"]["proactive_plans"] >= 1' && pass "proactive demotion planned under the high watermark" ||
	fail "no proactive plan: $out"
file_until "$root/ssd/f1" || true
[ -e "$root/ssd/f1" ] && [ ! -e "$root/mem/f1" ] && pass "the oldest file moved to ssd" ||
	fail "f1 not demoted: mem $(ls "$root/mem") ssd $(ls "$root/ssd")"
cmp -s "$mnt/f6" "$root/mem/f6" && pass "the newest file stays in mem" || fail "f6 not in mem"
grep -q "the coming phases need" "$root/log" && pass "the log says why" || fail "log: $(cat "$root/log")"

fusermount3 -u "$mnt"
wait "$pid"
pid=

# Prefetch: every phase made read-heavy (reads 1 MB/s, no writes).  P
# (level 0) writes p.out; C1 and C2 (level 1) read big.in, C1 alone reads
# one.in, both staged on pfs.  The level start's promotion skips them (a
# 1 MiB copy at the declared 1 MB/s outlasts P's 1 ms); the prefetch moves
# big.in (two reads to come) into mem and leaves one.in (one read: the copy
# would cost as much as the read it saves).
$py - "$root/phases.json" "$root/read.json" <<'PY' || { echo "FAIL: editing the model"; exit 1; }
import json, sys
m = json.load(open(sys.argv[1]))
for p in m["profiles"]:
    for t in range(len(p["read_q50"])):
        p["read_q50"][t], p["write_q50"][t] = 1e6, 0
json.dump(m, open(sys.argv[2], "w"))
PY
cat >"$root/wf.dax" <<'DAX'
<?xml version="1.0" encoding="UTF-8"?>
<adag xmlns="http://pegasus.isi.edu/schema/DAX" version="2.1" name="prefetch">
<job id="P" name="prod" runtime="0.001"><uses file="p.out" link="output" size="1000"/></job>
<job id="C1" name="cons" runtime="1"><uses file="p.out" link="input" size="1000"/><uses file="big.in" link="input" size="1048576"/><uses file="one.in" link="input" size="1048576"/></job>
<job id="C2" name="cons" runtime="1"><uses file="p.out" link="input" size="1000"/><uses file="big.in" link="input" size="1048576"/></job>
<child ref="C1"><parent ref="P"/></child>
<child ref="C2"><parent ref="P"/></child>
</adag>
DAX
sed 's|^path = '"$root"'/pfs$|&\nread_bandwidth = 1M|' "$root/tierfs.conf" >"$root/pf.conf"
rm -rf "$root"/mem/* "$root"/ssd/* "$root"/pfs/*
head -c 1048576 /dev/urandom >"$root/pfs/big.in"
head -c 1048576 /dev/urandom >"$root/pfs/one.in"
cp "$root/pfs/big.in" "$root/big.ref"
"$tierfs" "$mnt" -f -o "config=$root/pf.conf,phase_model=$root/read.json,proactive=true,proactive_prefetch=true,workflow=$root/wf.dax" \
	2>"$root/log2" &
pid=$!
tfs_wait_mount || { echo "FAIL: not mounted"; cat "$root/log2"; exit 1; }
head -c 1000 /dev/zero >"$mnt/p.out"
status_until 60 0.25 'j["migration"]["prefetch_files"] >= 1 and j["migration"]["promoted_files"] >= 1' || true
json 'j["phase"]["prefetch"] and j["migration"]["prefetch_files"] == 1' && pass "prefetch in a read-heavy phase" ||
	fail "no prefetch: $out"
file_until "$root/mem/big.in" || true
[ -e "$root/mem/big.in" ] && [ ! -e "$root/pfs/big.in" ] && pass "big.in (two readers) prefetched into mem" ||
	fail "big.in not prefetched: mem $(ls "$root/mem") pfs $(ls "$root/pfs")"
[ -e "$root/pfs/one.in" ] && pass "one.in (one reader) left on pfs" || fail "one.in moved: mem $(ls "$root/mem")"
cmp -s "$mnt/big.in" "$root/big.ref" && pass "big.in reads back whole" || fail "big.in content changed"
grep -q "read-heavy phase: prefetching" "$root/log2" && pass "the log says why" || fail "log: $(cat "$root/log2")"
fusermount3 -u "$mnt"
wait "$pid"
pid=
[ "$fails" -eq 0 ] || { echo "$fails failures"; exit 1; }
echo "all passed"
