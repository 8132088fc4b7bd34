#!/usr/bin/env bash
# migrate_kill.sh TIERFS [KILLS] - kill the daemon with SIGKILL at random
# points during heavy migration, KILLS times (default 100; CI runs a short
# form), and after every remount check that each file's content checksum
# matches, that no file is missing or in two tiers, and that no temporary
# file remains.  Prints the count of kills, recoveries and files checked.
set -euo pipefail
tierfs=$1
kills=${2:-100}
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }

root=$(mktemp -d /tmp/tierfs-kill-XXXXXX)
shm=$(mktemp -d /dev/shm/tierfs-kill-XXXXXX)
mnt=$root/mnt
cleanup() {
	[ -n "${mover:-}" ] && kill "$mover" "$mover2" 2>/dev/null || true
	[ -n "${pid:-}" ] && kill -9 "$pid" 2>/dev/null || true
	fusermount3 -u -z "$mnt" 2>/dev/null || true
	rm -rf "$root" "$shm"
}
trap cleanup EXIT
fail() { echo "FAIL: $*"; tail -20 "$root/log" 2>/dev/null; exit 1; }
# Debian's interpreter starts in a tenth of the time of a pyenv shim.
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3
mkdir -p "$mnt" "$root/ssd" "$root/pfs" "$root/state"
cat >"$root/tierfs.conf" <<CONF
[global]
state_dir = $root/state
migrate_threads = 2
# Emulated 40 MiB/s writes make each move last long enough to be killed in.
[tier mem]
path = $shm
capacity = 64M
emulate_write_bandwidth = 40M
[tier ssd]
path = $root/ssd
capacity = 256M
emulate_write_bandwidth = 40M
[tier pfs]
path = $root/pfs
capacity = 256M
emulate_write_bandwidth = 40M
CONF

start() {
	"$tierfs" "$mnt" -f -o "config=$root/tierfs.conf" 2>>"$root/log" &
	pid=$!
	for _ in $(seq 400); do
		grep -q " $mnt fuse.tierfs " /proc/mounts && return 0
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.025
	done
	fail "tierfs did not mount"
}

# 120 files of 4 KiB to 1 MiB, written through the mount, checksummed.
start
$py - "$mnt" "$root/manifest" <<'PY'
import hashlib, os, random, sys
mnt, manifest = sys.argv[1], sys.argv[2]
random.seed(42)
with open(manifest, "w") as m:
    for i in range(120):
        d = f"d{i % 6}"
        os.makedirs(os.path.join(mnt, d), exist_ok=True)
        data = random.randbytes(random.randint(4096, 1 << 20))
        rel = f"{d}/f{i:03d}"
        with open(os.path.join(mnt, rel), "wb") as f:
            f.write(data)
        m.write(f"{rel} {hashlib.sha256(data).hexdigest()}\n")
PY
sock=$(getfattr --absolute-names --only-values -n user.tierfs.socket "$mnt")

# Moves files between tiers as fast as the daemon takes them.
mover_script=$(cat <<'PY'
import json, random, socket, sys
sock, manifest = sys.argv[1], sys.argv[2]
names = [l.split()[0] for l in open(manifest)]
tiers = ["mem", "ssd", "pfs"]
while True:
    try:
        s = socket.socket(socket.AF_UNIX); s.connect(sock)
        s.sendall((json.dumps({"cmd": "migrate", "path": random.choice(names),
                               "tier": random.choice(tiers)}) + "\n").encode())
        s.makefile().readline()
        s.close()
    except OSError:
        pass
PY
)

verify() {
	$py - "$root/manifest" "$shm" "$root/ssd" "$root/pfs" <<'PY'
import hashlib, os, sys
manifest, tiers = sys.argv[1], sys.argv[2:]
bad = []
for line in open(manifest):
    rel, want = line.split()
    where = [t for t in tiers if os.path.lexists(os.path.join(t, rel))]
    if len(where) != 1:
        bad.append(f"{rel} in {len(where)} tiers")
        continue
    got = hashlib.sha256(open(os.path.join(where[0], rel), "rb").read()).hexdigest()
    if got != want:
        bad.append(f"{rel} corrupted")
for t in tiers:
    for dp, dn, fn in os.walk(t):
        bad += [os.path.join(dp, f) + " is a leftover temporary" for f in fn if f.startswith(".tierfs-tmp.")]
if bad:
    print("\n".join(bad[:20]))
    sys.exit(1)
PY
}

files=$(wc -l <"$root/manifest")
checked=0
for i in $(seq "$kills"); do
	$py -c "$mover_script" "$sock" "$root/manifest" &
	mover=$!
	$py -c "$mover_script" "$sock" "$root/manifest" &
	mover2=$!
	# once moves are under way (the journal holds an intent), a random moment
	journal=$(ls "$root"/state/journal-*.log)
	for _ in $(seq 200); do [ -s "$journal" ] && break; sleep 0.01; done
	sleep "0.$((RANDOM % 30))"
	kill -9 "$pid"
	wait "$pid" 2>/dev/null || true
	kill "$mover" "$mover2" 2>/dev/null || true
	wait "$mover" "$mover2" 2>/dev/null || true
	mover=
	fusermount3 -u -z "$mnt" 2>/dev/null || true
	start # recovery runs here, before the mount serves anything
	verify || fail "after kill $i"
	checked=$((checked + files))
done
fusermount3 -u "$mnt"
wait "$pid" || fail "tierfs exited with an error"
pid=
recoveries=$(grep -c "recovery: move of" "$root/log" || true)
temps=$( (grep -o "[0-9]* temporary files removed" "$root/log" || true) | awk '{s += $1} END {print s + 0}')
echo "PASS: $kills kills during migration, $recoveries interrupted moves recovered, $temps temporary files removed, $checked file checks, all intact, no duplicates, no temporaries"
