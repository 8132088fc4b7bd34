#!/usr/bin/env bash
# pjdfstest.sh TIERFS PJDFSTEST_DIR [GROUP...] - the external POSIX suite,
# pjdfstest, on tmpfs and on a tierfs mount, every test that differs printed.
#
# PJDFSTEST_DIR is a built checkout of https://github.com/pjd/pjdfstest (its
# binary PJDFSTEST_DIR/pjdfstest and its tests/ with misc.sh and conf).
# pjdfstest is not a Debian package, so this is not a CTest test: run it by
# hand, as root (the suite switches to other uids itself), from anywhere:
#
#     sudo tests/posix/pjdfstest.sh build/bin/tierfs ~/pjdfstest
#     sudo tests/posix/pjdfstest.sh build/bin/tierfs ~/pjdfstest rename open
#
# GROUPs are directories of PJDFSTEST_DIR/tests (default: all of them).
# Each runs under prove(1), from inside a fresh tmpfs directory, then from
# inside a tierfs mount with allow_other over three tiers (one on
# /dev/shm, two under /var/tmp) and round-robin placement, so a test's
# files and directories spread over the tiers.  Results are compared test
# by test (file and number): a test that passes on tmpfs and fails or is
# missing on tierfs is a difference; so is one that passes on tierfs only.
# Tests pjdfstest itself marks TODO on Linux fail the same on both.
#
# PJD_OPTS adds -o options to the mount (e.g. writeback_cache=true);
# PJD_KEEP=DIR keeps prove's output there.  Exit 0: no difference; 1: at
# least one, or the mount failed; 77: not root, no /dev/fuse or no prove.
set -euo pipefail
export LC_ALL=C # one collation for sort and join
. "$(dirname "$0")/../common/mount.sh"
[ $# -ge 2 ] || { echo "usage: $0 TIERFS PJDFSTEST_DIR [GROUP...]" >&2; exit 2; }
tierfs=$(realpath "$1") suite=$(realpath "$2")
shift 2
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: pjdfstest runs as root (it switches to other uids)"; exit 77; }
command -v prove >/dev/null || { echo "SKIP: prove missing (apt-get install perl)"; exit 77; }
[ -x "$suite/pjdfstest" ] && [ -f "$suite/tests/misc.sh" ] ||
	{ echo "FAIL: $suite is not a built pjdfstest checkout (no pjdfstest binary or tests/misc.sh)"; exit 1; }
groups=("$@")
if [ ${#groups[@]} -eq 0 ]; then
	for d in "$suite"/tests/*/; do groups+=("$(basename "$d")"); done
fi
for g in "${groups[@]}"; do
	[ -d "$suite/tests/$g" ] || { echo "FAIL: no group $g in $suite/tests"; exit 1; }
done

tfs_test_dirs tierfs-pjd /var/tmp
chmod 755 "$root" "$shm" "$mnt"
mkdir -m 755 "$shm/ref" "$shm/mem" "$root/disk" "$root/pfs"
cat >"$root/conf" <<CONF
[global]
placement = round-robin
state_dir = $root/state
[tier mem]
path = $shm/mem
capacity = 1G
[tier disk]
path = $root/disk
[tier pfs]
path = $root/pfs
CONF
"$tierfs" "$mnt" -f -o "config=$root/conf,allow_other${PJD_OPTS:+,$PJD_OPTS}" 2>"$root/log" &
pid=$!
tfs_wait_mount 200 || fail "tierfs did not mount"

# run DIR OUT: every group's tests from inside DIR, prove's output in OUT
run() {
	local g
	for g in "${groups[@]}"; do
		(cd "$1" && prove -rv "$suite/tests/$g" >>"$2" 2>&1) || true
	done
}
echo "pjdfstest: ${groups[*]}"
echo "on tmpfs ($shm/ref) ..."
run "$shm/ref" "$root/tmpfs.txt"
echo "on tierfs ($mnt) ..."
run "$mnt" "$root/tierfs.txt"
kill -0 "$pid" 2>/dev/null || fail "tierfs exited during the run"
fusermount3 -u "$mnt"
wait "$pid" || fail "tierfs exited with an error"
pid=
if [ -n "${PJD_KEEP:-}" ]; then
	mkdir -p "$PJD_KEEP"
	cp "$root/tmpfs.txt" "$root/tierfs.txt" "$root/log" "$PJD_KEEP/"
fi

# One line per test, "group/NN.t:N ok" or "... not ok", from prove -v.
results() {
	awk -v tests="$suite/tests/" '
		/\.t \.\.( |$)/ { f = $1; sub(tests, "", f); next }
		f != "" && /^ok [0-9]+/ { print f ":" $2, "ok"; next }
		f != "" && /^not ok [0-9]+/ { print f ":" $3, "not-ok" }' "$1" | sort -u -k1,1
}
results "$root/tmpfs.txt" >"$root/tmpfs.res"
results "$root/tierfs.txt" >"$root/tierfs.res"
join -a1 -a2 -e missing -o 0,1.2,2.2 "$root/tmpfs.res" "$root/tierfs.res" | awk '
	{ split($1, p, "/"); g = p[1]; total[g]++; if ($2 == "ok") pass[g]++ }
	$2 != $3 { diff[g]++; n++; print "DIFF " $1 ": tmpfs " $2 ", tierfs " $3 }
	END {
		printf "%-12s %6s %6s %6s\n", "group", "tests", "tmpfs-ok", "diff"
		for (g in total) printf "%-12s %6d %6d %6d\n", g, total[g], pass[g], diff[g]
		printf "pjdfstest: %d differences\n", n
		exit (n > 0)
	}'
