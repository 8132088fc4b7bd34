#!/usr/bin/env bash
# recorder_mount.sh TIERFS TIERTRAIN WORKFLOWS_DIR - the per-file I/O
# recorder on a real mount (issue 10): files written, read, unlinked and
# left alive under an attached workflow each get one line in
# STATE_DIR/files.csv that `tiertrain tracegen check` reads strictly, with
# the producer class and V1/V5 the workflow gives, the bytes, requests and
# opens the test did, ids and no paths.
set -euo pipefail
tierfs=$1 tiertrain=$2 wfdir=$3
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
dax=$wfdir/pegasus-blackdiamond.dax
[ -f "$dax" ] || { echo "FAIL: $dax missing (the shared workflows)"; exit 1; }

. "$(dirname "$0")/../common/mount.sh"
tfs_test_dirs tierfs-rec
fail() { echo "FAIL: $*"; [ -f "$root/log" ] && cat "$root/log"; [ -f "$root/state/files.csv" ] && cat "$root/state/files.csv"; exit 1; }
mkdir -p "$mnt" "$root/ssd" "$root/pfs" "$root/state"
cat >"$root/tierfs.conf" <<CONF
[global]
placement = first
state_dir = $root/state
migrate_threads = 0
[tier ssd]
path = $root/ssd
capacity = 64M
read_bandwidth = 2G/s
write_bandwidth = 1G/s
[tier pfs]
path = $root/pfs
capacity = 64M
read_bandwidth = 500M/s
write_bandwidth = 400M/s
CONF
"$tierfs" "$mnt" -f -o "config=$root/tierfs.conf,workflow=$dax" 2>"$root/log" &
pid=$!
tfs_wait_mount || fail "not mounted"

# f.b1 (made by preprocess, level 0, read by one findrange): 3 writes of
# 64 KiB in one open, then read back in a second open, then unlinked.
dd if=/dev/urandom of="$mnt/f.b1" bs=64k count=3 status=none
dd if="$mnt/f.b1" of=/dev/null bs=64k status=none
rm "$mnt/f.b1"
# f.d (made by analyze, level 2, read by nobody): one write, left alive.
dd if=/dev/urandom of="$mnt/f.d" bs=1000 count=1 status=none
# A file the workflow does not know.
echo hello >"$mnt/scratch.log"
fusermount3 -u "$mnt"
wait "$pid"
pid=

csv=$root/state/files.csv
[ -f "$csv" ] || fail "no files.csv"
"$tiertrain" tracegen check "$csv" >"$root/check" 2>&1 || { cat "$root/check"; fail "tiertrain tracegen check refused files.csv"; }
grep -q "^3 records" "$root/check" || fail "expected 3 records: $(cat "$root/check")"
grep -q "f\.b1\|f\.d\|scratch\|$root" "$csv" && fail "a path or file name leaked into files.csv"

# Columns: 1 id (unique), 3 class, 4 producer_level, 8 consumers, 11 size,
# 12 bytes_read, 13 bytes_written, 14 reads, 15 writes, 16 opens,
# 18 seq_frac, 23 rh4 (100K-1M), 22 rh3 (10K-100K), 32 wh3.
# Rows by what tells them apart (ids are opaque): bytes written.
row() { awk -F, -v w="$1" '$13 == w' "$csv"; }
[ "$(cut -d, -f1 "$csv" | sort -u | wc -l)" = 4 ] || fail "ids are not unique (a header and 3 records expected)"
b1=$(row 196608)
[ -n "$b1" ] || fail "no record for f.b1"
IFS=, read -r -a f <<<"$b1"
[ "${f[2]}" = preprocess ] || fail "f.b1: class '${f[2]}', expected preprocess"
[ "${f[3]}" = 0 ] || fail "f.b1: producer_level ${f[3]}, expected 0"
[ "${f[7]}" = 1 ] || fail "f.b1: consumers ${f[7]}, expected 1"
[ "${f[10]}" = 196608 ] || fail "f.b1: size ${f[10]}, expected 196608"
[ "${f[11]}" = 196608 ] || fail "f.b1: bytes_read ${f[11]}, expected 196608"
[ "${f[12]}" = 196608 ] || fail "f.b1: bytes_written ${f[12]}, expected 196608"
[ "${f[14]}" = 3 ] || fail "f.b1: writes ${f[14]}, expected 3 (64 KiB writes, no writeback cache)"
[ "${f[13]}" -ge 1 ] || fail "f.b1: reads ${f[13]}, expected at least 1"
[ "${f[15]}" = 2 ] || fail "f.b1: opens ${f[15]}, expected 2"
[ "${f[31]}" = 3 ] || fail "f.b1: wh3 (10K-100K writes) ${f[31]}, expected 3"
# The time profiles, rc0-rc19 and wc0-wc19, each scaled to its peak (1).
peak() { local v m=0; for v in "$@"; do [ "$v" = 1 ] && m=1; done; echo "$m"; }
[ "$(peak "${f[@]:38:20}")" = 1 ] || fail "f.b1: its read profile has no peak: ${f[*]:38:20}"
[ "$(peak "${f[@]:58:20}")" = 1 ] || fail "f.b1: its write profile has no peak: ${f[*]:58:20}"
d=$(row 1000)
[ -n "$d" ] || fail "no record for f.d, alive at unmount"
IFS=, read -r -a f <<<"$d"
[ "${f[2]}" = analyze ] || fail "f.d: class '${f[2]}', expected analyze"
[ "${f[3]}" = 2 ] || fail "f.d: producer_level ${f[3]}, expected 2"
[ "${f[7]}" = 0 ] || fail "f.d: consumers ${f[7]}, expected 0"
[ "${f[8]}" = -1 ] || fail "f.d: next_use_distance ${f[8]}, expected -1 (nobody reads it)"
[ "${f[12]}" = 1000 ] || fail "f.d: bytes_written ${f[12]}"
[ "$(peak "${f[@]:58:20}")" = 1 ] || fail "f.d: its write profile has no peak: ${f[*]:58:20}"
[ "$(peak "${f[@]:38:20}")" = 0 ] || fail "f.d: a read profile, but nobody read it: ${f[*]:38:20}"
s=$(row 6)
[ -n "$s" ] || fail "no record for the unknown file"
IFS=, read -r -a f <<<"$s"
[ -z "${f[2]}" ] || fail "unknown file: class '${f[2]}', expected none"
echo "PASS: recorder"
