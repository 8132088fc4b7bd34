#!/usr/bin/env bash
# learned_place.sh TIERFS TIERTRAIN WORKFLOWS_DIR - placement on create by a
# real model, on a real mount with a real workflow attached (issue 5):
#  - a model of known behaviour (trained here: a file nobody reads goes to
#    pfs, any other to mem) places the files the workflow names;
#  - files the workflow does not know follow the fallback policy;
#  - a full tier is never chosen, even when the model prefers it;
#  - the record log holds one line per create with V5-V8 as worked out by
#    hand for the Pegasus diamond below;
#  - models are reloaded (SIGHUP and the control socket) under load
#    without a failed operation; a broken model leaves the old one.
set -euo pipefail
tierfs=$1 tiertrain=$2 wfdir=$3
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
dax=$wfdir/pegasus-blackdiamond.dax
[ -f "$dax" ] || { echo "FAIL: $dax missing (the shared workflows)"; exit 1; }

. "$(dirname "$0")/../common/mount.sh"
tfs_test_dirs tierfs-learned
mkdir -p "$mnt" "$root/ssd" "$root/pfs" "$root/state"

# A model with known behaviour, trained for real.
python3 - "$root/train.csv" <<'PY'
import random, sys
random.seed(7)
with open(sys.argv[1], "w") as f:
    f.write("consumers,declared_size,tier\n")
    for _ in range(2000):
        c = random.randint(0, 4)
        f.write(f"{c},{random.randint(0, 1 << 30)},{'pfs' if c == 0 else 'mem'}\n")
PY
"$tiertrain" fit "$root/train.csv" -o "$root/model.json" --param rounds=10 --quiet >/dev/null \
	|| fail "tiertrain fit"

# mem holds 1000 bytes: the diamond's files fill it part way through.
cat >"$root/tierfs.conf" <<CONF
[global]
placement = first
state_dir = $root/state
model = $root/model.json
# placement only: no background moves while the test looks at tiers
migrate_threads = 0
# the model's own choices (plan_check.sh tests the check)
plan_check = false
[tier mem]
path = $shm
capacity = 1100
read_bandwidth = 10G/s
write_bandwidth = 8G/s
[tier ssd]
path = $root/ssd
capacity = 64M
read_bandwidth = 2G/s
write_bandwidth = 1G/s
[tier pfs]
path = $root/pfs
capacity = 64M
read_bandwidth = 500M/s
write_bandwidth = 400M/s
CONF
"$tierfs" "$mnt" -f -o "config=$root/tierfs.conf,workflow=$dax" 2>"$root/log" &
pid=$!
tfs_wait_mount || fail "not mounted"
grep -q "placement by model" "$root/log" || fail "model not loaded"

tier() { getfattr --absolute-names --only-values -n user.tierfs.tier "$mnt/$1"; }
put() { head -c "$2" /dev/urandom >"$mnt/$1"; }
# In workflow order: f.a (100, declared 1024: it must fit mem's 1100 free)
# f.b1 (200) f.b2 (300) fill 600 of mem's 1100.
put f.a 100
put f.b1 200
put f.b2 300
put f.c1 500 # mem: 1100 of 1100 used
put f.c2 500
put f.d 600
put scratch.log 10

[ "$(tier f.a)" = mem ] || fail "f.a on $(tier f.a), the model says mem"
[ "$(tier f.b1)" = mem ] || fail "f.b1 on $(tier f.b1)"
[ "$(tier f.c1)" = mem ] || fail "f.c1 on $(tier f.c1)"
[ "$(tier f.c2)" != mem ] || fail "f.c2 placed on the full mem tier"
[ "$(tier f.d)" = pfs ] || fail "f.d (no consumer) on $(tier f.d), the model says pfs"
[ "$(tier scratch.log)" = ssd ] || fail "scratch.log on $(tier scratch.log): the fallback (first with room) is ssd"

# Reload under load: a writer creates files while models are reloaded.
sock=$(getfattr --absolute-names --only-values -n user.tierfs.socket "$mnt")
(
	for i in $(seq 300); do
		echo "$i" >"$mnt/load.$i" || { echo "write $i failed" >"$root/writer-failed"; exit 1; }
	done
) &
writer=$!
for i in $(seq 10); do
	kill -HUP "$pid"
	python3 - "$sock" "$root/model.json" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall((json.dumps({"cmd": "reload", "model": sys.argv[2]}) + "\n").encode())
r = json.loads(s.makefile().readline())
assert r["ok"], r
PY
done
wait "$writer" || fail "a write failed during reloads"
[ ! -f "$root/writer-failed" ] || fail "$(cat "$root/writer-failed")"
# A broken model is refused and the old one stays.
echo '{"format": "broken' >"$root/bad.json"
python3 - "$sock" "$root/bad.json" <<'PY' || fail "broken model accepted"
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall((json.dumps({"cmd": "reload", "model": sys.argv[2]}) + "\n").encode())
r = json.loads(s.makefile().readline())
assert not r["ok"] and "old model stays" in r["error"], r
PY
put f.late 10 # a name the workflow does not know, after all the reloads
ls "$mnt" | grep -c '^load\.' | grep -qx 300 || fail "files missing after the reloads"

fusermount3 -u "$mnt"
wait "$pid" || fail "tierfs exited with an error"
pid=

# The record log: one create line per file; V5-V8 by hand for the diamond
# (f.a is a workflow input; j1 reads f.a and writes f.b1, f.b2; j2 reads
# f.b1 -> f.c1; j3 reads f.b2 -> f.c2; j4 reads f.c1, f.c2 -> f.d).
python3 - "$root/state/records.csv" <<'PY' || fail "record log"
import csv, sys
rows = [r for r in csv.DictReader(open(sys.argv[1])) if r["event"] == "create"]
by = {}
for r in rows:
    assert r["path"] not in by, "two create lines for " + r["path"]
    by[r["path"]] = r
expect = {  # consumers, next use, last use, V8 = actual bytes of the producer's inputs
    "f.a": (1, 1, 1, 0), "f.b1": (1, 1, 1, 100), "f.b2": (1, 1, 1, 100),
    "f.c1": (1, 1, 1, 200), "f.c2": (1, 1, 1, 300), "f.d": (0, 1e6, 1e6, 1000)}
for name, (v5, v6, v7, v8) in expect.items():
    r = by[name]
    got = (float(r["consumers"]), float(r["next_use_distance"]), float(r["last_use_distance"]),
           float(r["task_input_bytes"]))
    assert got == (v5, v6, v7, v8), f"{name}: {got} != {(v5, v6, v7, v8)}"
    assert r["policy"] == "learned", f"{name}: policy {r['policy']}"
assert by["scratch.log"]["reason"] == "the workflow does not name this file", by["scratch.log"]
assert by["scratch.log"]["consumers"] == "", "an unknown file has no workflow features"
assert len([r for r in rows if r["path"].startswith("load.")]) == 300
ends = [r for r in csv.DictReader(open(sys.argv[1])) if r["event"] == "end"]
assert any(r["path"] == "f.d" and r["bytes_written"] == "600" for r in ends), "no end line for f.d"
PY
# The retraining loop: the log names its configuration (with the tiers'
# capacities) and the workflow file, and `tiertrain label --log` turns it
# into records with the features this mount measured.
python3 - "$root/state/records.csv" "$dax" "$root/tierfs.conf" <<'PY' || fail "record log config/attach lines"
import csv, os, sys
rows = list(csv.DictReader(open(sys.argv[1])))
cfg = [r for r in rows if r["event"] == "config"]
att = [r for r in rows if r["event"] == "attach"]
assert cfg and os.path.samefile(cfg[0]["path"], sys.argv[3]), cfg
assert int(cfg[0]["free_ssd"]) > 0 and int(cfg[0]["free_pfs"]) > 0, cfg[0]
assert att and os.path.isabs(att[0]["path"]) and os.path.samefile(att[0]["path"], sys.argv[2]), att
PY
"$tiertrain" label --log "$root/state/records.csv" -o "$root/relabelled.csv" -q >"$root/label.out" 2>&1 ||
	fail "label --log: $(cat "$root/label.out")"
python3 - "$root/relabelled.csv" "$root/state/records.csv" <<'PY' || fail "relabelled records"
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
logged = {r["path"]: r for r in csv.DictReader(open(sys.argv[2])) if r["event"] == "create" and r["consumers"]}
# f.b1, f.b2, f.c1, f.c2, f.d are created by tasks (f.a is a workflow input).
assert len(rows) == 5, rows
assert {r["tier"] for r in rows} <= {"mem", "ssd", "pfs"}
sizes = sorted(r["task_input_bytes"] for r in rows)
assert sizes == sorted(logged[p]["task_input_bytes"] for p in ("f.b1", "f.b2", "f.c1", "f.c2", "f.d")), sizes
PY
echo "PASS: learned placement, fallback, full tier avoided, record log V5-V8, reload under load, label --log"
