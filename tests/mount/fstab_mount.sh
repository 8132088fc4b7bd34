#!/usr/bin/env bash
# fstab_mount.sh TIERFS_BIN - tierfs mounted the way an fstab line does it:
# mount(8) runs mount.fuse3, which runs "tierfs SOURCE MOUNTPOINT -o OPTIONS".
# With type fuse.tierfs the program must be in the system PATH (mount(8)
# sanitizes PATH); an uninstalled build is named with the equivalent
# fstab form "/path/to/tierfs#tierfs  MOUNTPOINT  fuse  OPTIONS".
# Needs root for mount(8); skips (77) otherwise or without /dev/fuse.
set -euo pipefail
bin=$1
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
[ "$(id -u)" -eq 0 ] || { echo "SKIP: mount(8) with an fstab-style line needs root"; exit 77; }
command -v mount.fuse3 >/dev/null || [ -x /sbin/mount.fuse3 ] || { echo "FAIL: mount.fuse3 missing (apt-get install fuse3)"; exit 1; }

root=$(mktemp -d /tmp/tierfs-fstab-XXXXXX)
shm=$(mktemp -d /dev/shm/tierfs-fstab-XXXXXX)
trap 'umount "$root/mnt" 2>/dev/null || true; rm -rf "$root" "$shm"' EXIT
mkdir -p "$root/mnt" "$root/disk"
cat >"$root/tierfs.conf" <<CONF
[global]
state_dir = $root/state
[tier mem]
path = $shm
capacity = 16M
[tier disk]
path = $root/disk
capacity = 64M
CONF
mount -t fuse "$bin#tierfs" "$root/mnt" -o "config=$root/tierfs.conf,allow_other,placement=disk"
grep -q " $root/mnt fuse.tierfs " /proc/mounts || { echo "FAIL: not mounted"; exit 1; }
echo data >"$root/mnt/f"
[ "$(getfattr --absolute-names --only-values -n user.tierfs.tier "$root/mnt/f")" = disk ] || { echo "FAIL: -o placement=disk not applied"; exit 1; }
[ -f "$root/disk/f" ] || { echo "FAIL: file not in the disk tier"; exit 1; }
umount "$root/mnt"
grep -q " $root/mnt " /proc/mounts && { echo "FAIL: still mounted"; exit 1; }
[ "$(cat "$root/disk/f")" = data ] || { echo "FAIL: data lost at unmount"; exit 1; }
echo "PASS: mount(8) through mount.fuse3 with options from an fstab-style line"
