#!/usr/bin/env bash
# plan_check.sh TIERFS TIERCTL WORKFLOWS_DIR - the plan check on a real
# mount (issue 7): with a model that sends every file to pfs and a
# workflow where memory is best in simulation,
#  - the daemon logs the plan with its figures at attach, and the
#    workflow's files land on mem (the plan), not on pfs (the model);
#  - tierctl status and tierctl workflow list show the plan;
#  - a workflow attached later through tierctl gets its own check;
#  - with tiers the simulator cannot use (no declared bandwidths) the check
#    fails, the log says why, and the model places the files (pfs);
#  - plan_check=false (a -o option) leaves the model alone.
set -euo pipefail
tierfs=$1 tierctl=$2 wfdir=$3
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
dax=$wfdir/pegasus-blackdiamond.dax
[ -f "$dax" ] || { echo "FAIL: $dax missing (the shared workflows)"; exit 1; }

. "$(dirname "$0")/../common/mount.sh"
tfs_test_dirs tierfs-plan
mkdir -p "$root/ssd" "$root/pfs" "$root/state"

# Always pfs: one leaf per class, pfs far ahead.
cat >"$root/pfs-model.json" <<'JSON'
{"format":"tierfs-gbdt","version":1,"objective":"multi:softprob","features":["consumers"],
 "classes":["mem","ssd","pfs"],"base_scores":[0,0,0],"trees":[
 {"class":0,"left":[-1],"right":[-1],"feature":[0],"threshold":[0],"default_left":[0]},
 {"class":1,"left":[-1],"right":[-1],"feature":[0],"threshold":[0],"default_left":[0]},
 {"class":2,"left":[-1],"right":[-1],"feature":[0],"threshold":[5],"default_left":[0]}]}
JSON

conf() { # conf FILE WITH_RATES
	{
		printf '[global]\nplacement = first\nstate_dir = %s\nmodel = %s\nmigrate_threads = 0\n' \
			"$root/state" "$root/pfs-model.json"
		printf '[tier mem]\npath = %s\ncapacity = 64M\n' "$shm"
		[ "$2" = 1 ] && printf 'read_bandwidth = 10G/s\nwrite_bandwidth = 8G/s\nlatency = 10us\n'
		printf '[tier ssd]\npath = %s\ncapacity = 64M\n' "$root/ssd"
		[ "$2" = 1 ] && printf 'read_bandwidth = 2G/s\nwrite_bandwidth = 1G/s\nlatency = 100us\n'
		printf '[tier pfs]\npath = %s\ncapacity = 64M\n' "$root/pfs"
		[ "$2" = 1 ] && printf 'read_bandwidth = 500M/s\nwrite_bandwidth = 400M/s\nlatency = 1ms\n'
		true
	} >"$1"
}
tier() { getfattr --absolute-names --only-values -n user.tierfs.tier "$mnt/$1"; }
put() { head -c "$2" /dev/urandom >"$mnt/$1"; }
umount_tfs() {
	fusermount3 -u "$mnt"
	wait "$pid" || fail "tierfs exited with an error"
	pid=
}

# 1. Declared rates: the check runs and puts the diamond on mem.
conf "$root/rates.conf" 1
"$tierfs" "$mnt" -f -o "config=$root/rates.conf,workflow=$dax" 2>"$root/log" &
pid=$!
tfs_wait_mount || fail "not mounted"
grep -q "placement by model" "$root/log" || fail "model not loaded"
grep -Eq "workflow $dax: plan mem \(model [0-9.e+-]+ s, mem [0-9.e+-]+ s, ssd [0-9.e+-]+ s, pfs [0-9.e+-]+ s simulated\)" "$root/log" ||
	fail "no plan line with figures in the log"
put f.a 1024
put f.b1 2048
put f.d 4096
put scratch.log 10
for f in f.a f.b1 f.d; do
	[ "$(tier $f)" = mem ] || fail "$f on $(tier $f): the plan says mem (the model alone would say pfs)"
done
[ "$(tier scratch.log)" = mem ] || fail "scratch.log on $(tier scratch.log): the fallback (first) is mem"
out=$("$tierctl" --mount "$mnt" status)
echo "$out" | grep -Eq '^ *\. +diamond .* mem ' || fail "tierctl status shows no plan: $out"
echo "$out" | grep -q 'plan mem (model ' || fail "tierctl status shows no plan figures: $out"
"$tierctl" --mount "$mnt" --json workflow list | python3 -c '
import json, sys
w = json.load(sys.stdin)["workflows"]
assert len(w) == 1 and w[0]["plan"] == "mem" and w[0]["plan_detail"].startswith("plan mem (model "), w
' || fail "tierctl workflow list --json: no plan"
# A workflow attached later gets its own check.
mkdir "$mnt/sub"
"$tierctl" --mount "$mnt" workflow attach "$mnt/sub" "$dax" >/dev/null || fail "tierctl workflow attach"
grep -q "workflow $dax: plan mem (model " <(grep -v "attached to \.$" "$root/log" | tail -n 3) ||
	fail "no plan line for the attachment of sub"
put sub/f.c1 100
[ "$(tier sub/f.c1)" = mem ] || fail "sub/f.c1 on $(tier sub/f.c1): the plan says mem"
umount_tfs

# 2. No declared rates: the simulator cannot run, the model stays.
rm -rf "$shm"/* "$root/ssd"/* "$root/pfs"/*
conf "$root/norates.conf" 0
"$tierfs" "$mnt" -f -o "config=$root/norates.conf,workflow=$dax" 2>"$root/log" &
pid=$!
tfs_wait_mount || fail "not mounted (no rates)"
grep -q "workflow $dax: plan model (the plan check failed: .*read_bandwidth" "$root/log" ||
	fail "the failed check does not say why"
put f.b1 2048
[ "$(tier f.b1)" = pfs ] || fail "f.b1 on $(tier f.b1): the check failed, the model (pfs) places it"
"$tierctl" --mount "$mnt" workflow list | grep -q 'the plan check failed' || fail "tierctl does not show the failure"
umount_tfs

# 3. plan_check=false: the model alone, and the log says so.
rm -rf "$shm"/* "$root/ssd"/* "$root/pfs"/*
"$tierfs" "$mnt" -f -o "config=$root/rates.conf,workflow=$dax,plan_check=false" 2>"$root/log" &
pid=$!
tfs_wait_mount || fail "not mounted (plan_check=false)"
grep -q "workflow $dax: plan model (no plan check)" "$root/log" || fail "plan_check=false not in the log"
put f.b1 2048
[ "$(tier f.b1)" = pfs ] || fail "f.b1 on $(tier f.b1): without the check the model (pfs) places it"
umount_tfs
echo "PASS: plan check at attach (log, tierctl, placement), a failed check keeps the model, plan_check=false"
