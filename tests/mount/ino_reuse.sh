#!/usr/bin/env bash
# ino_reuse.sh TIERFS TIERCTL TIERREPLAY WORKFLOWS_DIR - a moved file keeps its inode number, and the
# tier it left may give the freed backing inode to a new file: the two must
# still be two inodes on the mount, each reading its own bytes (they once
# shared one FUSE inode, so a reader got the other file's pages from the
# kernel's cache).  Disk tiers (ext4 and most others reuse a freed inode
# number at once), many rounds, every byte compared; then the run where it
# was found: Montage 25 replayed with promotions on emulated tiers (every
# run read a wrong byte before the fix).
set -euo pipefail
tierfs=$1 tierctl=$2 tierreplay=$3 wfdir=$4
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
. "$(dirname "$0")/../common/mount.sh"
tfs_test_dirs tierfs-ino /var/tmp
fail() { echo "FAIL: $*"; tail -5 "$root/log" 2>/dev/null; exit 1; }
mkdir -p "$mnt" "$root/a" "$root/b" "$root/state" "$root/ref"
cat >"$root/tierfs.conf" <<CONF
[global]
state_dir = $root/state
placement = b
migrate_threads = 0
[tier a]
path = $root/a
capacity = 256M
[tier b]
path = $root/b
capacity = 256M
CONF
"$tierfs" "$mnt" -f -o "config=$root/tierfs.conf" 2>"$root/log" &
pid=$!
tfs_wait_mount 100 || fail "no mount"

reused=0
for i in $(seq 40); do
	head -c $((4096 + i * 97)) /dev/urandom >"$root/ref/old$i"
	cp "$root/ref/old$i" "$mnt/old$i"
	cmp -s "$root/ref/old$i" "$mnt/old$i" || fail "old$i before the move" # pages now cached
	backing=$(stat -c %i "$root/b/old$i")
	"$tierctl" --mount "$mnt" migrate a "$mnt/old$i" >/dev/null || fail "migrate old$i"
	[ -f "$root/a/old$i" ] && [ ! -e "$root/b/old$i" ] || fail "old$i did not move to tier a"
	head -c $((8192 + i * 89)) /dev/urandom >"$root/ref/new$i"
	cp "$root/ref/new$i" "$mnt/new$i"
	[ "$(stat -c %i "$root/b/new$i")" = "$backing" ] && reused=$((reused + 1))
	[ -z "${DEBUG:-}" ] || echo "old$i backing $backing new$i $(stat -c %i "$root/b/new$i")"
	[ "$(stat -c %i "$mnt/old$i")" != "$(stat -c %i "$mnt/new$i")" ] || fail "old$i and new$i share an inode"
	cmp -s "$root/ref/old$i" "$mnt/old$i" || fail "old$i reads wrong bytes after new$i was created"
	cmp -s "$root/ref/new$i" "$mnt/new$i" || fail "new$i reads wrong bytes"
done
# The inode numbers survive a remount (a new mount has an empty node table).
declare -A ino
for i in $(seq 40); do ino[old$i]=$(stat -c %i "$mnt/old$i"); done
fusermount3 -u "$mnt"
wait "$pid" || fail "tierfs exited with an error"
"$tierfs" "$mnt" -f -o "config=$root/tierfs.conf" 2>>"$root/log" &
pid=$!
tfs_wait_mount 100 || true
for i in $(seq 40); do
	[ "$(stat -c %i "$mnt/old$i")" = "${ino[old$i]}" ] || fail "old$i changed its inode number across a remount"
	[ "$(stat -c %i "$mnt/old$i")" != "$(stat -c %i "$mnt/new$i")" ] || fail "old$i and new$i share an inode after a remount"
	cmp -s "$root/ref/old$i" "$mnt/old$i" && cmp -s "$root/ref/new$i" "$mnt/new$i" || fail "bytes differ after a remount ($i)"
done
fusermount3 -u "$mnt"
wait "$pid" || fail "tierfs exited with an error"
pid=

# Promotions while tasks create files in the tier the promoted ones left.
wf=$wfdir/wfsim-Montage_25.xml
[ -f "$wf" ] || fail "$wf missing (the shared workflows)"
cat >"$root/promo.conf" <<CONF
[global]
state_dir = $root/state
placement = pfs
migrate_threads = 2
[tier mem]
path = $shm
capacity = 256M
read_bandwidth = 800M/s
write_bandwidth = 600M/s
emulate_read_bandwidth = 800M/s
emulate_write_bandwidth = 600M/s
[tier ssd]
path = $root/a
capacity = 4G
read_bandwidth = 200M/s
write_bandwidth = 150M/s
emulate_read_bandwidth = 200M/s
emulate_write_bandwidth = 150M/s
emulate_latency = 100us
[tier pfs]
path = $root/b
capacity = 40G
read_bandwidth = 50M/s
write_bandwidth = 40M/s
emulate_read_bandwidth = 50M/s
emulate_write_bandwidth = 40M/s
emulate_latency = 1ms
CONF
for run in 1 2; do
	rm -rf "${root:?}"/a/* "${root:?}"/b/* "${shm:?}"/*
	"$tierfs" "$mnt" -f -o "config=$root/promo.conf,workflow=$wf" 2>"$root/log" &
	pid=$!
	tfs_wait_mount 100 || true
	"$tierreplay" "$wf" "$mnt" --workers 2 >"$root/replay.out" 2>&1 || fail "replay $run: $(grep -m1 differs "$root/replay.out")"
	grep -q "promoted\|promoting" "$root/log" || true
	fusermount3 -u "$mnt"
	wait "$pid" || fail "tierfs exited with an error"
	pid=
done
echo "PASS: 40 moves ($reused backing inode numbers reused at once), every file its own inode and bytes, stable across a remount; Montage 25 with promotions verified twice"
