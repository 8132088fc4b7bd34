#!/usr/bin/env bash
# replay_mount.sh TIERFS TIERREPLAY FIXTURES WORKFLOWS - tierreplay into a
# real tierfs mount: a small memory tier makes files spill to ssd, and the
# run must verify every byte and report bytes per tier that agree with
# where the backing files really are.  Exit 77 (skip) only without
# /dev/fuse; the mount is always taken down (trap).
set -euo pipefail
. "$(dirname "$0")/../common/mount.sh"
tierfs=$1 replay=$2 fixtures=$3 workflows=$4
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
command -v fusermount3 >/dev/null || { echo "FAIL: fusermount3 missing (apt-get install fuse3)"; exit 1; }

root=$(mktemp -d /tmp/tierreplay-mount-XXXXXX)
shm=$(mktemp -d /dev/shm/tierreplay-mount-XXXXXX)
mnt=$root/mnt
# A daemon that does not leave within 10 s of its unmount is killed, so a
# hang in the daemon fails this test instead of hanging it.
daemon_gone() {
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	return 1
}
cleanup() {
	if grep -q " $mnt fuse.tierfs " /proc/mounts; then
		fusermount3 -u "$mnt" 2>/dev/null || fusermount3 -u -z "$mnt" 2>/dev/null || true
	fi
	if [ -n "${pid:-}" ]; then
		daemon_gone || true
		wait "$pid" 2>/dev/null || true
	fi
	rm -rf "$root" "$shm"
}
trap cleanup EXIT
mkdir -p "$mnt" "$root/ssd" "$root/pfs" "$root/state"
cat >"$root/tierfs.conf" <<CONF
[global]
placement = first
state_dir = $root/state
# replay accounting only: no background moves between the replay's tier
# report and the scan of the tier directories
migrate_threads = 0
[tier mem]
path = $shm
capacity = 2M
[tier ssd]
path = $root/ssd
capacity = 256M
[tier pfs]
path = $root/pfs
capacity = 256M
CONF

"$tierfs" "$mnt" -f -o "config=$root/tierfs.conf" 2>"$root/log" &
pid=$!
tfs_wait_mount || { echo "FAIL: tierfs did not mount"; cat "$root/log"; exit 1; }

# One run: verified, and the TIER table equals a count of the backing dirs.
check_run() {
	local wf=$1 dir=$2
	shift 2
	mkdir -p "$mnt/$dir"
	"$replay" "$wf" "$mnt/$dir" "$@" >"$root/out" 2>"$root/err" || {
		echo "FAIL: tierreplay $wf exited $?"; cat "$root/out" "$root/err"; exit 1; }
	grep -q '^verified   yes' "$root/out" || { echo "FAIL: $wf not verified"; cat "$root/out"; exit 1; }
	awk '/^TIER /{t=1; next} t && NF==3 {print $1, $3}' "$root/out" | sort >"$root/reported"
	: >"$root/backing"
	for t in mem ssd pfs; do
		case $t in mem) d=$shm ;; *) d=$root/$t ;; esac
		[ -d "$d/$dir" ] || continue
		n=$(find "$d/$dir" -type f | wc -l)
		b=$(find "$d/$dir" -type f -printf '%s\n' | awk '{s+=$1} END {print s+0}')
		if [ "$n" -gt 0 ]; then echo "$t $b" >>"$root/backing"; fi
	done
	sort -o "$root/backing" "$root/backing"
	diff -u "$root/backing" "$root/reported" || { echo "FAIL: $wf: bytes per tier disagree with the tier directories"; cat "$root/out"; exit 1; }
	if grep -q '^unknown ' "$root/reported"; then echo "FAIL: $wf: files without a tier on the mount"; exit 1; fi
}

check_run "$fixtures/replay/diamond-wf14.json" diamond --workers 2
# 11 MB through a 2 MB memory tier: the run must spill and still verify.
check_run "$workflows/wfi-montage-chameleon-dss-10d-001.json" montage --workers 2 --scale 0.001
grep -q '^mem ' "$root/reported" && grep -q '^ssd ' "$root/reported" ||
	{ echo "FAIL: montage did not use both mem and ssd"; cat "$root/reported"; exit 1; }

# A byte changed behind the daemon's back in the tier itself fails the run.
mkdir -p "$mnt/tamper"
"$replay" "$fixtures/replay/diamond-wf14.json" "$mnt/tamper" --stage-only >/dev/null
backing=$({ find "$shm/tamper" "$root/ssd/tamper" "$root/pfs/tamper" -path '*data/ref.db' 2>/dev/null || true; } | head -1)
[ -n "$backing" ] || { echo "FAIL: staged input not found in any tier"; exit 1; }
printf 'X' | dd of="$backing" bs=1 seek=99 conv=notrunc status=none
set +e
"$replay" "$fixtures/replay/diamond-wf14.json" "$mnt/tamper" --no-stage >"$root/out" 2>"$root/err"
status=$?
set -e
[ "$status" -eq 1 ] || { echo "FAIL: tampered input gave exit $status"; cat "$root/err"; exit 1; }
grep -q 'data/ref.db: byte at offset 99 differs' "$root/err" || { echo "FAIL: message"; cat "$root/err"; exit 1; }

fusermount3 -u "$mnt"
daemon_gone || { echo "FAIL: tierfs still running 10 s after its unmount (killed)"; tail -5 "$root/log"; exit 1; }
set +e
wait "$pid"
status=$?
set -e
pid=
[ "$status" -eq 0 ] || { echo "FAIL: tierfs exited with $status"; cat "$root/log"; exit 1; }
echo "PASS: replays on tierfs verified; bytes per tier match the tier directories"
