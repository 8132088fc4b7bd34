#!/usr/bin/env bash
# fsx_mount.sh TIERFS TIERCTL - random writes, truncates and reads through
# real tierfs mounts, each read checked against a reference file (fsx.py):
# three files at once on the default settings, then with the writeback
# cache and a 12 MiB memory tier that the files outgrow (they spill to the
# disk tier while being read).  Over /dev/fuse, tierctl status must count
# spliced READ replies.  Exit 77 without /dev/fuse.
set -uo pipefail
tierfs=$1 tierctl=$2
here=$(cd "$(dirname "$0")" && pwd)
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
py=/usr/bin/python3
[ -x $py ] || py=$(command -v python3) || { echo "FAIL: python3 is needed"; exit 1; }
. "$here/../common/mount.sh"
tfs_test_dirs tierfs-fsx /var/tmp
ops=${FSX_OPS:-1500}

run() { # NAME CONFIG-LINES...
	local name=$1
	shift
	mkdir -p "$shm/$name" "$root/$name-disk" "$root/$name-ref" "$root/$name-state"
	{
		echo "[global]"
		echo "placement = first"
		echo "state_dir = $root/$name-state"
		printf '%s\n' "$@"
		echo "[tier mem]"
		echo "path = $shm/$name"
		[ "$name" = spill ] && echo "capacity = 12M"
		echo "[tier disk]"
		echo "path = $root/$name-disk"
	} >"$root/$name.conf"
	"$tierfs" "$mnt" -f -o "config=$root/$name.conf" 2>"$root/log" &
	pid=$!
	tfs_wait_mount || fail "$name: not mounted"
	local pids=() s rc=0
	for s in 1 2 3; do
		$py "$here/fsx.py" "$mnt" "$root/$name-ref" "$s" "$ops" &
		pids+=($!)
	done
	for s in "${pids[@]}"; do wait "$s" || rc=1; done
	[ $rc -eq 0 ] || fail "$name: a read differed from the reference (above)"
	if [ "$name" = spill ]; then
		[ -n "$(ls -A "$root/$name-disk")" ] || fail "spill: 24 MiB of files, yet none left the 12 MiB memory tier"
	fi
	status=$("$tierctl" --mount "$mnt" status)
	if [ "$(cat /sys/module/fuse/parameters/enable_uring 2>/dev/null)" != Y ]; then
		grep -Eq '^spliced reads +on: [1-9]' <<<"$status" || fail "$name: no spliced READ replies counted: $status"
	fi
	fusermount3 -u "$mnt" || fail "$name: unmount"
	wait "$pid" || fail "$name: the daemon exited with $?"
	pid=
	echo "ok: $name"
}
run default
run spill "writeback_cache = true"
echo "PASS: fsx through the mount"
