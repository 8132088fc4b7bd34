#!/usr/bin/env bash
# demo.sh - the main job, end to end: set up and build, mount tierfs over
# the default tiers of etc/tierfs.conf, write and read back some files,
# show which tier each one landed on, unmount.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

tools/setup.sh build
export USER=${USER:-$(id -un)}
conf=$top/etc/tierfs.conf
mnt=${TIERFS_DEMO_MNT:-/tmp/tierfs-demo-$USER}
# The tier directories named in etc/tierfs.conf.
tiers=(/dev/shm/tierfs-$USER/mem /var/tmp/tierfs-$USER/ssd /var/tmp/tierfs-$USER/pfs)
mkdir -p "${tiers[@]}" "$mnt"

# Spread files round-robin so every tier shows up; the shipped default is
# "first" (memory until it is full).
placement=${TIERFS_DEMO_PLACEMENT:-round-robin}
echo "== mounting tierfs on $mnt (config $conf, placement $placement)"
build/bin/tierfs "$mnt" -o "config=$conf,placement=$placement"
cleanup() { fusermount3 -u "$mnt" 2>/dev/null || true; }
trap cleanup EXIT

echo "== writing files"
mkdir -p "$mnt/run/inputs" "$mnt/run/outputs"
for i in 1 2 3; do
	head -c $((i * 1024 * 1024)) /dev/urandom >"$mnt/run/inputs/chunk$i.dat"
done
echo "hello from tierfs" >"$mnt/run/README.txt"
seq 1 100000 >"$mnt/run/outputs/numbers.txt"
head -c $((8 * 1024 * 1024)) /dev/urandom >"$mnt/run/outputs/result.bin"

echo "== reading them back"
(cd "$mnt/run" && find . -type f | sort | xargs sha256sum) >/tmp/tierfs-demo-sums.$$
(cd "$mnt/run" && sha256sum --quiet -c /tmp/tierfs-demo-sums.$$) && echo "all files read back intact"
rm -f /tmp/tierfs-demo-sums.$$

echo "== where each file landed (user.tierfs.tier)"
printf '%-28s %10s  %s\n' FILE BYTES TIER
(cd "$mnt" && find run -type f | sort) | while read -r f; do
	printf '%-28s %10s  %s\n' "$f" "$(stat -c %s "$mnt/$f")" \
		"$(getfattr --absolute-names --only-values -n user.tierfs.tier "$mnt/$f")"
done

echo "== the same, seen from the tier directories"
for t in "${tiers[@]}"; do
	echo "$t:"
	(cd "$t" && find . -type f | sort | sed 's/^/    /')
done
df -h "$mnt"

echo "== unmounting"
rm -rf "$mnt/run"
fusermount3 -u "$mnt"
trap - EXIT
echo "done"
