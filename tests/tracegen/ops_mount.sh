#!/usr/bin/env bash
# ops_mount.sh TIERFS TIERTRAIN TIERREPLAY FIXTURES - the loop of issue 10
# on a real mount: records from Darshan text fixtures -> tiertrain
# tracegen fit -> generate --learned (WfFormat + operation stream) ->
# tierreplay --ops plays the stream on a tierfs mount with that workflow
# attached -> the recorder writes one record per created file, which
# tiertrain reads back.  A malformed stream is refused naming its line.
set -euo pipefail
tierfs=$1 tiertrain=$2 tierreplay=$3 fix=$4
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
. "$(dirname "$0")/../common/mount.sh"
tfs_test_dirs tierfs-ops
mkdir -p "$mnt" "$root/ssd" "$root/pfs" "$root/state"

"$tiertrain" tracegen convert "$fix/darshan-posix.txt" "$fix/dxt.txt" -o "$root/rec.csv" >/dev/null ||
	fail "convert"
"$tiertrain" tracegen fit "$root/rec.csv" -o "$root/gen.json" --epochs 5 --flow-iters 20 >/dev/null ||
	fail "fit"
"$tiertrain" generate --learned "$root/gen.json" --count 1 --files 12 --max-ops 16 -o "$root/syn" >/dev/null ||
	fail "generate"
wf=$root/syn/tracegen-0000.json ops=$root/syn/tracegen-0000.ops
[ -f "$wf" ] && [ -f "$ops" ] || fail "no workflow or stream written"
# On a plain directory first: the stream plays, every line is one operation.
mkdir "$root/plain"
"$tierreplay" "$wf" "$root/plain" --ops "$ops" --time-scale 0 --json >"$root/plain.json" || fail "plain play"
nops=$(grep -vc '^#' "$ops")
grep -q "\"ops\": $nops," "$root/plain.json" || fail "expected $nops operations: $(cat "$root/plain.json")"

cat >"$root/tierfs.conf" <<CONF
[global]
placement = first
state_dir = $root/state
migrate_threads = 0
[tier ssd]
path = $root/ssd
capacity = 4G
read_bandwidth = 2G/s
write_bandwidth = 1G/s
[tier pfs]
path = $root/pfs
capacity = 8G
read_bandwidth = 500M/s
write_bandwidth = 400M/s
CONF
"$tierfs" "$mnt" -f -o "config=$root/tierfs.conf,workflow=$wf" 2>"$root/log" &
pid=$!
tfs_wait_mount || fail "not mounted"
"$tierreplay" "$wf" "$mnt" --ops "$ops" --time-scale 0 --json >"$root/mnt.json" || fail "play on the mount"
cmp -s <(sed 's/"elapsed_s.*//' "$root/plain.json") <(sed 's/"elapsed_s.*//' "$root/mnt.json") ||
	fail "the mount and the plain directory saw different operations"
fusermount3 -u "$mnt"
wait "$pid"
pid=
"$tiertrain" tracegen check "$root/state/files.csv" >"$root/check" || fail "files.csv refused"
grep -q "^12 records" "$root/check" || fail "expected 12 records: $(cat "$root/check")"
written=$(awk -F, 'NR > 1 { s += $13 } END { print s }' "$root/state/files.csv")
grep -q "\"write_bytes\": $written," "$root/mnt.json" || fail "recorded $written bytes written, the player says $(cat "$root/mnt.json")"

# A stream line naming a file the workflow does not have.
sed '3s/ f0000[0-9][0-9]/ nosuchfile/' "$ops" >"$root/bad.ops"
if "$tierreplay" "$wf" "$root/plain" --ops "$root/bad.ops" --time-scale 0 2>"$root/err"; then
	fail "a stream naming an unknown file was played"
fi
grep -q "bad.ops:3: file 'nosuchfile' is not a file of the workflow" "$root/err" || fail "message: $(cat "$root/err")"
echo "PASS: operation streams"
