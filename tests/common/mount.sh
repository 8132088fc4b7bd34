# mount.sh - sourced by the shell tests that mount tierfs: their temporary
# directories, taken down at exit whatever happens, and the wait for the
# mount to appear.
#
#   tfs_test_dirs NAME [BASE]  $root (a new directory under BASE, default
#       /tmp), $shm (one under /dev/shm, for a memory tier) and
#       $mnt=$root/mnt; at exit $mnt is unmounted, the daemon $pid (if the
#       script started one) waited for, and both directories removed.
#   tfs_wait_mount [TRIES [MNT]]  wait up to TRIES x 50 ms (default 200)
#       until a tierfs is mounted on MNT (default $mnt); non-zero if none is
#       (read from /proc/mounts: root may not look into a user's mount).
#   fail MESSAGE...            print FAIL: MESSAGE and the daemon's log
#       ($root/log, when there is one), exit 1; a script may define its own.
#
# The caller checks for /dev/fuse itself (a test skips with 77).

fail() {
	echo "FAIL: $*"
	[ -f "$root/log" ] && cat "$root/log"
	exit 1
}

tfs_test_cleanup() {
	fusermount3 -u -z "$mnt" 2>/dev/null || true
	[ -n "${pid:-}" ] && wait "$pid" 2>/dev/null || true
	rm -rf "$root" "$shm"
}

tfs_test_dirs() {
	root=$(mktemp -d "${2:-/tmp}/$1-XXXXXX")
	shm=$(mktemp -d "/dev/shm/$1-XXXXXX")
	mnt=$root/mnt
	mkdir -p "$mnt"
	trap tfs_test_cleanup EXIT
}

tfs_wait_mount() {
	local _ m=${2:-$mnt}
	for _ in $(seq "${1:-200}"); do
		grep -q " $m fuse.tierfs " /proc/mounts && return 0
		sleep 0.05
	done
	return 1
}
