#!/usr/bin/env bash
# noflush.sh TIERFS - FLUSH on close only for files on a network tier: a
# tierfs whose second tier is itself a FUSE mount (another tierfs, which
# counts as a network filesystem).  A file on the memory tier is closed
# without a FLUSH request (FOPEN_NOFLUSH); one that spilled to the
# "remote" tier gets one at each close (close-time errors of an NFS or
# Lustre tier reach the application).  Requests are counted in the -d
# log.  Exit 77 without /dev/fuse.
set -uo pipefail
tierfs=$1
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../common/mount.sh"
tfs_test_dirs tierfs-noflush
inner=$root/inner
inner_pid=
mkdir -p "$inner" "$root/inner-tier" "$root/state" "$root/inner-state"
cat >"$root/inner.conf" <<CONF
[global]
state_dir = $root/inner-state
[tier d]
path = $root/inner-tier
CONF
"$tierfs" "$inner" -f -o "config=$root/inner.conf" 2>"$root/inner.log" &
inner_pid=$!
trap 'fusermount3 -u -z "$mnt" 2>/dev/null; [ -n "${pid:-}" ] && wait "$pid"; fusermount3 -u -z "$inner" 2>/dev/null; wait "$inner_pid"; rm -rf "$root" "$shm"' EXIT
tfs_wait_mount 200 "$inner" || fail "the inner tierfs did not mount"
cat >"$root/tierfs.conf" <<CONF
[global]
placement = first
state_dir = $root/state
[tier mem]
path = $shm
capacity = 1M
[tier remote]
path = $inner
CONF
"$tierfs" "$mnt" -f -d -o "config=$root/tierfs.conf" 2>"$root/log" &
pid=$!
tfs_wait_mount || fail "not mounted"
flushes() { grep -c 'opcode: FLUSH' "$root/log"; }

for i in 1 2 3; do echo "small $i" >"$mnt/s$i"; done
for i in 1 2 3; do [ "$(cat "$mnt/s$i")" = "small $i" ] || fail "s$i reads back wrong"; done
[ "$(getfattr --only-values -n user.tierfs.tier "$mnt/s1" 2>/dev/null)" = mem ] || fail "s1 is not on the memory tier"
sleep 0.2
[ "$(flushes)" -eq 0 ] || fail "$(flushes) FLUSH requests for files on the memory tier"

head -c 3000000 /dev/urandom >"$root/big"
cp "$root/big" "$mnt/big" || fail "writing 3 MB past a 1 MiB memory tier"
[ "$(getfattr --only-values -n user.tierfs.tier "$mnt/big" 2>/dev/null)" = remote ] || fail "big did not spill to the remote tier"
before=$(flushes)
cmp -s "$root/big" "$mnt/big" || fail "big reads back wrong"
sleep 0.2
[ "$(flushes)" -gt "$before" ] || fail "closing a file on the remote tier sent no FLUSH"
echo "PASS: FLUSH only for files on a network tier"
