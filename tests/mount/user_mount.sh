#!/usr/bin/env bash
# user_mount.sh TIERFS_BIN - tierfs mounted and used by an ordinary user
# through fusermount3, as on an HPC cluster where nobody is root.  Run as
# root, the test drops to uid 65534 (nobody) with setpriv; run as a user, it
# stays that user.  Exit 77 (skip) only without /dev/fuse.
set -euo pipefail
. "$(dirname "$0")/../common/mount.sh"
bin=$1
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
command -v fusermount3 >/dev/null || { echo "FAIL: fusermount3 missing (apt-get install fuse3)"; exit 1; }

# Debian's udev rule makes /dev/fuse 0666; a bare container may leave it
# 0600, and libfuse then cannot even reach fusermount3.  Restore Debian's mode.
if [ "$(id -u)" -eq 0 ] && [ "$(stat -c %a /dev/fuse)" != 666 ]; then
	echo "note: /dev/fuse was mode $(stat -c %a /dev/fuse); setting 0666 as Debian's udev rule does"
	chmod 0666 /dev/fuse
fi

run_as=()
if [ "$(id -u)" -eq 0 ]; then
	run_as=(setpriv --reuid=65534 --regid=65534 --clear-groups --reset-env)
	uid=65534
else
	uid=$(id -u)
fi
as_user() { "${run_as[@]}" env PATH=/usr/bin:/bin HOME=/tmp "$@"; }

root=$(mktemp -d /tmp/tierfs-user-XXXXXX)
shm=$(mktemp -d /dev/shm/tierfs-user-XXXXXX)
chmod 755 "$root"
mnt=$root/mnt
cleanup() {
	as_user fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null || true
	[ -n "${pid:-}" ] && wait "$pid" 2>/dev/null || true
	rm -rf "$root" "$shm"
}
trap cleanup EXIT
mkdir -p "$mnt" "$root/ssd" "$root/pfs" "$root/state"
cat >"$root/tierfs.conf" <<CONF
[global]
placement = first
state_dir = $root/state
[tier mem]
path = $shm
capacity = 1M
[tier ssd]
path = $root/ssd
capacity = 64M
[tier pfs]
path = $root/pfs
capacity = 64M
CONF
chown -R "$uid" "$root" "$shm"

as_user "$bin" "$mnt" -f -o "config=$root/tierfs.conf" 2>"$root/log" &
pid=$!
tfs_wait_mount || { echo "FAIL: not mounted"; cat "$root/log"; exit 1; }
grep " $mnt " /proc/mounts | grep -q "user_id=$uid" || { echo "FAIL: mount not owned by uid $uid"; exit 1; }

as_user sh -ec "
	cd '$mnt'
	echo small > small
	mkdir -p deep/dir
	head -c 3145728 /dev/zero > deep/dir/big
	test \"\$(cat small)\" = small
	test \$(stat -c %s deep/dir/big) = 3145728
	ln -s small link
	mv small renamed
	test \"\$(cat link 2>/dev/null || true)\" = ''
	test \"\$(cat renamed)\" = small
"
[ "$(as_user getfattr --only-values -n user.tierfs.tier "$mnt/renamed")" = mem ] || { echo "FAIL: small file not on mem"; exit 1; }
[ "$(as_user getfattr --only-values -n user.tierfs.tier "$mnt/deep/dir/big")" = ssd ] || { echo "FAIL: big file did not spill to ssd"; exit 1; }
[ "$(stat -c %u "$root/ssd/deep/dir/big")" = "$uid" ] || { echo "FAIL: backing file not owned by the user"; exit 1; }

# Only the owner can reach this mount, so the kernel leaves the permission
# checks to the tiers (no default_permissions): the owner's own rights must
# still hold, also for names the kernel has cached.
grep " $mnt " /proc/mounts | grep -q default_permissions && { echo "FAIL: single-user mount has default_permissions"; exit 1; }
as_user sh -c "
	cd '$mnt'
	mkdir -p locked && echo x > locked/f && stat locked/f >/dev/null
	chmod 000 locked
	if stat locked/f >/dev/null 2>&1; then echo 'FAIL: cached name reached through a directory without search right'; exit 1; fi
	if cat locked/f 2>/dev/null; then echo 'FAIL: read through a directory without search right'; exit 1; fi
	if ls locked >/dev/null 2>&1; then echo 'FAIL: listed a directory without read right'; exit 1; fi
	chmod 700 locked
	test \"\$(cat locked/f)\" = x || { echo 'FAIL: locked/f unreadable after chmod 700'; exit 1; }
	echo y > ro && chmod 444 ro
	if (echo z >> ro) 2>/dev/null; then echo 'FAIL: wrote to a 0444 file'; exit 1; fi
	if test -w ro; then echo 'FAIL: 0444 file writable'; exit 1; fi
	chmod 500 locked
	if touch locked/new 2>/dev/null; then echo 'FAIL: created in a 0500 directory'; exit 1; fi
	chmod 700 locked
" || { cat "$root/log"; exit 1; }

as_user fusermount3 -u "$mnt"
wait "$pid"
status=$?
grep -q " $mnt " /proc/mounts && { echo "FAIL: still mounted"; exit 1; }
[ "$status" -eq 0 ] || { echo "FAIL: tierfs exited with $status"; cat "$root/log"; exit 1; }
[ -f "$root/ssd/deep/dir/big" ] || { echo "FAIL: data gone after unmount"; exit 1; }
echo "PASS: mounted, used and unmounted as uid $uid through fusermount3"
