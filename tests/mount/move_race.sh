#!/usr/bin/env bash
# move_race.sh TIERFS TIERCTL - a file grows past a 6 MiB memory tier (so
# its writes spill it to the disk tier) while tierctl migrates it back and
# forth the whole time, with migrations slowed to 300 MB/s so their copies
# overlap the writes.  Twelve rounds; each must finish within a minute (a
# spill holding the file's lock while a migration held the move lock
# deadlocked the writer) and leave the file's bytes as written.  Exit 77
# without /dev/fuse.
set -uo pipefail
tierfs=$1 tierctl=$2
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
py=/usr/bin/python3
[ -x $py ] || py=$(command -v python3) || { echo "FAIL: python3 is needed"; exit 1; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/mount.sh"
tfs_test_dirs tierfs-move-race /var/tmp
mover=
trap '[ -n "$mover" ] && kill "$mover" 2>/dev/null; tfs_test_cleanup' EXIT
mkdir -p "$root/disk" "$root/state"
cat >"$root/tierfs.conf" <<CONF
[global]
placement = first
state_dir = $root/state
[tier mem]
path = $shm
capacity = 6M
[tier disk]
path = $root/disk
emulate_write_bandwidth = 300M
migrate_share = 1
CONF
"$tierfs" "$mnt" -f -o "config=$root/tierfs.conf" 2>"$root/log" &
pid=$!
tfs_wait_mount || fail "not mounted"
head -c 16000000 /dev/urandom >"$root/src"
for round in $(seq 12); do
	rm -f "$mnt/f" "$root/stop"
	: >"$mnt/f"
	(while [ -d "$root" ] && [ ! -e "$root/stop" ]; do
		timeout -s KILL 20 "$tierctl" migrate disk "$mnt/f" >/dev/null 2>&1
		timeout -s KILL 20 "$tierctl" migrate mem "$mnt/f" >/dev/null 2>&1
	done) &
	mover=$!
	$py -c '
import os, sys
src = open(sys.argv[1], "rb").read()
fd = os.open(sys.argv[2], os.O_WRONLY)
for off in range(0, len(src), 262144):
    os.pwrite(fd, src[off:off + 262144], off)
os.close(fd)' "$root/src" "$mnt/f" &
	writer=$!
	for _ in $(seq 600); do
		kill -0 $writer 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 $writer 2>/dev/null; then
		# A minute for 16 MB: deadlocked.  Its request would never be
		# answered (not even SIGKILL ends the writer): abort the mount.
		kill -9 "$pid"
		wait $writer
		touch "$root/stop"
		wait $mover
		fail "round $round: the writer hung (a deadlock between a spill and a migration?)"
	fi
	wait $writer
	rc=$?
	touch "$root/stop"
	wait $mover
	[ $rc -eq 0 ] || fail "round $round: writing 16 MB failed (exit $rc)"
	cmp -s "$root/src" "$mnt/f" || fail "round $round: the file's content differs from what was written"
done
echo "PASS: twelve rounds of writes racing migrations, $(grep -c 'moved f from' "$root/log") spills"
