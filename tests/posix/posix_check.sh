#!/usr/bin/env bash
# posix_check.sh TIERFS POSIXCHECK [KNOWN] - differential POSIX conformance:
# posixcheck runs the same operation sequences on a fresh tmpfs directory
# and on tierfs mounts over three temporary tiers (one on /dev/shm, two on
# disk), each with round-robin placement so files and directories spread
# over the tiers, and a seeded directory "pre" in all three tiers with
# entries in each.  Three mounts: the default options with allow_other;
# writeback cache (another path through the kernel: it trusts its own
# mtime/ctime); without allow_other (only root's operations run, the daemon
# checks permissions instead of the kernel).
# Every assertion whose result on tierfs differs from tmpfs is printed;
# those matching KNOWN (lines "regex<TAB>reason", '#' comments) are
# reported as known and do not fail the test.
# Exit 77 (skip) without /dev/fuse or when not root (it switches users).
# POSIX_KEEP=DIR keeps the outputs there.
set -euo pipefail
. "$(dirname "$0")/../common/mount.sh"
tierfs=$1 check=$2 known=${3:-/dev/null}
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: posixcheck runs as root (it switches to other uids)"; exit 77; }
command -v fusermount3 >/dev/null || { echo "FAIL: fusermount3 missing (apt-get install fuse3)"; exit 1; }

root=$(mktemp -d /var/tmp/tierfs-posix-XXXXXX)
shm=$(mktemp -d /dev/shm/tierfs-posix-XXXXXX)
chmod 755 "$root" "$shm"
cleanup() {
	local m
	for m in "$root"/mnt-*; do fusermount3 -u -z "$m" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$root" "$shm"
}
trap cleanup EXIT

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
mkdir -m 755 "$shm/ref" "$shm/ref-root"
seed "$shm/ref" "$shm/ref" "$shm/ref"
seed "$shm/ref-root" "$shm/ref-root" "$shm/ref-root"

# run_mount NAME GLOBAL_LINES MOUNT_OPTIONS [POSIXCHECK_OPTION]: posixcheck
# on a fresh mount -> $root/NAME.out (most of a run is waiting: the runs go
# in parallel)
# conf FILE STATE_DIR MEM SSD PFS EXTRA: three tiers, round-robin
# placement (so a tree spreads over them), no background moves.
conf() {
	cat >"$1" <<CONF
[global]
placement = round-robin
state_dir = $2
migrate_threads = 0
$6
[tier mem]
path = $3
capacity = 256M
[tier ssd]
path = $4
capacity = 1G
[tier pfs]
path = $5
capacity = 1G
CONF
}
run_mount() {
	local name=$1 extra=$2 mopts=$3 copt=${4:-} mem=$shm/$1-mem ssd=$root/$1-ssd pfs=$root/$1-pfs mnt=$root/mnt-$1 pid
	mkdir -m 755 "$mem" "$ssd" "$pfs"
	mkdir -p -m 755 "$mnt"
	seed "$mem" "$ssd" "$pfs"
	conf "$root/$name.conf" "$root/state-$name" "$mem" "$ssd" "$pfs" "$extra"
	# dev,suid: device nodes open as on tmpfs (an admin's mount may ask so)
	"$tierfs" "$mnt" -f -o "config=$root/$name.conf,dev,suid$mopts" 2>"$root/$name.log" &
	pid=$!
	tfs_wait_mount 200 "$mnt" || { echo "FAIL: $name: not mounted"; cat "$root/$name.log"; exit 1; }
	"$check" $copt "$mnt" >"$root/$name.out" || { echo "FAIL: $name: posixcheck stopped"; tail -40 "$root/$name.log"; exit 1; }
	fusermount3 -u "$mnt"
	wait "$pid" || { echo "FAIL: $name: tierfs exited with an error"; tail "$root/$name.log"; exit 1; }
}
"$check" "$shm/ref" >"$root/tmpfs.out" &
ref=$!
"$check" -r "$shm/ref-root" >"$root/tmpfs-root.out" &
ref2=$!
run_mount default "" ",allow_other" &
m1=$!
run_mount writeback "writeback_cache = true" ",allow_other" &
m2=$!
# only its owner (root) uses it: the daemon, not the kernel, checks permissions
run_mount single "" "" -r &
m3=$!
# An ordinary user's own mount (through fusermount3, the daemon not root),
# against the same calls by that user on tmpfs.
as_user() { setpriv --reuid=65534 --regid=65534 --clear-groups env PATH=/usr/bin:/bin HOME=/tmp "$@"; }
run_user() {
	local umem=$shm/user-mem ussd=$root/user-ssd upfs=$root/user-pfs umnt=$root/mnt-user upid ref3
	mkdir -m 755 "$shm/ref-user" "$umem" "$ussd" "$upfs" "$umnt" "$root/state-user"
	seed "$shm/ref-user" "$shm/ref-user" "$shm/ref-user"
	seed "$umem" "$ussd" "$upfs"
	chown -R 65534:65534 "$shm/ref-user" "$umem" "$ussd" "$upfs" "$umnt" "$root/state-user"
	conf "$root/user.conf" "$root/state-user" "$umem" "$ussd" "$upfs" ""
	as_user "$check" -r "$shm/ref-user" >"$root/tmpfs-user.out" &
	ref3=$!
	as_user "$tierfs" "$umnt" -f -o "config=$root/user.conf" 2>"$root/user.log" &
	upid=$!
	tfs_wait_mount 200 "$umnt" || { echo "FAIL: user: not mounted"; cat "$root/user.log"; exit 1; }
	as_user "$check" -r "$umnt" >"$root/user.out" || { echo "FAIL: user: posixcheck stopped"; tail -40 "$root/user.log"; exit 1; }
	as_user fusermount3 -u "$umnt"
	wait "$upid" || { echo "FAIL: user: tierfs exited with an error"; tail "$root/user.log"; exit 1; }
	wait "$ref3"
}
pairs=()
runs=($ref $ref2 $m1 $m2 $m3)
if [ "$(stat -c %a /dev/fuse)" = 666 ] && command -v setpriv >/dev/null; then
	run_user &
	runs+=($!)
	pairs=("$root/tmpfs-user.out:$root/user.out")
else
	echo "note: no run as an ordinary user (/dev/fuse is not 0666 or setpriv is missing)"
fi
for p in "${runs[@]}"; do
	wait "$p" || { echo "FAIL: a run did not finish"; exit 1; }
done
# The deep group's file, more than 3 x PATH_MAX below the mount root, was
# last pinned to pfs: each tierfs must hold it there and nowhere else.
deep_mounts=(default writeback single)
[ ${#pairs[@]} -eq 0 ] || deep_mounts+=(user)
for name in "${deep_mounts[@]}"; do
	for tier in "$shm/$name-mem" "$root/$name-ssd" "$root/$name-pfs"; do
		n=$(find "$tier" -name moved -type f | wc -l)
		want=0
		[ "$tier" != "$root/$name-pfs" ] || want=1
		[ "$n" -eq "$want" ] || { echo "FAIL: $name: the deep group's file 'moved' is $n times in $tier, expected $want (pinned to pfs)"; exit 1; }
	done
done
if [ -n "${POSIX_KEEP:-}" ]; then
	cp "$root"/*.out "$POSIX_KEEP/"
fi

/usr/bin/python3 - "$known" "$root/tmpfs.out:$root/default.out" "$root/tmpfs.out:$root/writeback.out" \
	"$root/tmpfs-root.out:$root/single.out" "${pairs[@]}" <<'PY'
import re, sys
known = []
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if line and not line.startswith("#"):
        pat, _, why = line.partition("\t")
        known.append((re.compile(pat), why))
key = lambda l: l.split(" ", 1)[0]
npass = nfail = nknown = 0
for pair in sys.argv[2:]:
    refpath, path = pair.split(":")
    ref = open(refpath).read().splitlines()
    refkeys = {key(l) for l in ref}
    mount = path.rsplit("/", 1)[-1][:-4]
    got = {key(l): l for l in open(path).read().splitlines()}
    groups, bad, kn = {}, [], []
    for l in ref:
        tot = groups.setdefault(key(l).split(":")[0], [0, 0, 0])
        tot[0] += 1
        o = got.get(key(l))
        if o == l:
            npass += 1
            continue
        why = next((w for p, w in known if p.search(l)), None)
        if why is not None:
            tot[2] += 1
            kn.append((l, o, why))
        else:
            tot[1] += 1
            bad.append((l, o))
    bad += [(None, o) for k, o in got.items() if k not in refkeys]
    for l, o in bad:
        print("DIFF %s tmpfs : %s" % (mount, l or "(missing)"))
        print("     %s tierfs: %s" % (mount, o or "(missing)"))
    for l, o, why in kn:
        print("known %s (%s): %s  [tierfs: %s]" % (mount, why, l, o.split(" => ", 1)[-1] if o else "(missing)"))
    print("%-10s %6s %6s %6s   (mount: %s)" % ("group", "total", "diff", "known", mount))
    for g, (t, b, k) in groups.items():
        print("%-10s %6d %6d %6d" % (g, t, b, k))
    nfail += len(bad)
    nknown += len(kn)
print("posix: %d passed, %d failed" % (npass, nfail))
sys.exit(1 if nfail else 0)
PY
