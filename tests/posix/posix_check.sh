#!/usr/bin/env bash
# posix_check.sh TIERFS POSIXCHECK [KNOWN] - differential POSIX conformance:
# posixcheck runs the same operation sequences on a fresh tmpfs directory
# and on a tierfs mount over three temporary tiers (one on /dev/shm, two on
# disk) with round-robin placement, so files and directories spread over
# the tiers; a seeded directory "pre" exists in all three tiers with entries
# in each.  Every assertion whose result on tierfs differs from tmpfs is
# printed; those listed in KNOWN (lines "LABEL-or-regex<TAB>reason", '#'
# comments) are reported as known and do not fail the test.
# Exit 77 (skip) without /dev/fuse or when not root (it switches users).
set -euo pipefail
tierfs=$1 check=$2 known=${3:-/dev/null}
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: posixcheck runs as root (it switches to other uids)"; exit 77; }
command -v fusermount3 >/dev/null || { echo "FAIL: fusermount3 missing (apt-get install fuse3)"; exit 1; }

root=$(mktemp -d /var/tmp/tierfs-posix-XXXXXX)
shm=$(mktemp -d /dev/shm/tierfs-posix-XXXXXX)
chmod 755 "$root" "$shm"
mnt=$root/mnt
cleanup() {
	fusermount3 -u -z "$mnt" 2>/dev/null || true
	[ -n "${pid:-}" ] && wait "$pid" 2>/dev/null || true
	rm -rf "$root" "$shm"
}
trap cleanup EXIT
mkdir -p "$mnt" "$shm/ref" "$shm/mem" "$root/ssd" "$root/pfs" "$root/state"
chmod 755 "$shm/ref" "$shm/mem" "$root/ssd" "$root/pfs" "$mnt"

# seed TIER0 TIER1 TIER2: the tree of the "union" group; on tmpfs all three
# are the same directory.
seed() {
	local t
	for t in "$@"; do mkdir -p "$t/pre"; done
	echo a >"$1/pre/a"
	echo b >"$2/pre/b"
	echo c >"$3/pre/c"
	mkdir -p "$1/pre/s1" "$2/pre/s1" "$3/pre/s2" "$1/pre/s3" "$3/pre/s3"
	echo x >"$2/pre/s1/x"
	for t in "$@"; do chmod 755 "$t/pre"; done
}
seed "$shm/ref" "$shm/ref" "$shm/ref"
seed "$shm/mem" "$root/ssd" "$root/pfs"

cat >"$root/tierfs.conf" <<CONF
[global]
placement = round-robin
state_dir = $root/state
migrate_threads = 0
[tier mem]
path = $shm/mem
capacity = 256M
[tier ssd]
path = $root/ssd
capacity = 1G
[tier pfs]
path = $root/pfs
capacity = 1G
CONF
"$tierfs" "$mnt" -f -o "config=$root/tierfs.conf,allow_other,dev,suid" 2>"$root/log" &
pid=$!
for _ in $(seq 200); do
	mountpoint -q "$mnt" && break
	sleep 0.05
done
mountpoint -q "$mnt" || { echo "FAIL: not mounted"; cat "$root/log"; exit 1; }

"$check" "$shm/ref" >"$root/ref.out"
"$check" "$mnt" >"$root/tierfs.out"
if [ -n "${POSIX_KEEP:-}" ]; then # a directory to keep both outputs in
	cp "$root/ref.out" "$POSIX_KEEP/tmpfs.out"
	cp "$root/tierfs.out" "$POSIX_KEEP/tierfs.out"
	find "$shm/mem" "$root/ssd" "$root/pfs" -path '*/pre/*' >"$POSIX_KEEP/tiers.txt"
fi
fusermount3 -u "$mnt"
wait "$pid" || { echo "FAIL: tierfs exited with an error"; tail "$root/log"; exit 1; }
pid=

/usr/bin/python3 - "$root/ref.out" "$root/tierfs.out" "$known" <<'PY'
import re, sys
ref = open(sys.argv[1]).read().splitlines()
got = open(sys.argv[2]).read().splitlines()
known = []
for line in open(sys.argv[3]):
    line = line.rstrip("\n")
    if line and not line.startswith("#"):
        pat, _, why = line.partition("\t")
        known.append((re.compile(pat), why))
def key(l):
    return l.split(" ", 1)[0]
gotd = {key(l): l for l in got}
groups, bad, kn = {}, [], []
for l in ref:
    g = key(l).split(":")[0]
    tot = groups.setdefault(g, [0, 0, 0])
    tot[0] += 1
    o = gotd.get(key(l))
    if o == l:
        continue
    why = next((w for p, w in known if p.search(l)), None)
    if why is not None:
        tot[2] += 1
        kn.append((l, o, why))
    else:
        tot[1] += 1
        bad.append((l, o))
extra = [l for l in got if key(l) not in {key(r) for r in ref}]
for l, o in bad:
    print("DIFF tmpfs : " + l)
    print("     tierfs: " + (o or "(missing)"))
for l, o, why in kn:
    print("known (%s): %s  [tierfs: %s]" % (why, l, o.split(" => ", 1)[-1] if o else "(missing)"))
for l in extra:
    print("EXTRA tierfs: " + l)
print("%-10s %6s %6s %6s" % ("group", "total", "diff", "known"))
for g, (t, b, k) in groups.items():
    print("%-10s %6d %6d %6d" % (g, t, b, k))
nb = len(bad) + len(extra)
print("posix: %d passed, %d failed" % (len(ref) - len(bad) - len(kn), nb))
sys.exit(1 if nb else 0)
PY
