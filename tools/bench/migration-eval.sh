#!/usr/bin/env bash
# migration-eval.sh - a real workflow on a mount whose memory tier is far
# too small for its intermediate files: how many bytes the migrator demoted
# (and why it could: nobody reads them any more / no workflow knows them /
# still to be read) and promoted, with the replay verifying every byte.
#   tools/bench/migration-eval.sh [BUILD] [WORKFLOW] [SCALE] [MEM]
# Defaults: build, ../shared/workflows/wfi-epigenomics-chameleon-ilmn-4seq-50k-001.json,
# scale 0.02, a 24 MiB memory tier.  Prints figures; asserts nothing.
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
wf=${2:-../shared/workflows/wfi-epigenomics-chameleon-ilmn-4seq-50k-001.json}
scale=${3:-0.02}
mem=${4:-24M}
wf=$(realpath "$wf")
py=python3
[ -x /usr/bin/python3 ] && py=/usr/bin/python3

root=$(mktemp -d /tmp/tierfs-mig-eval-XXXXXX)
shm=$(mktemp -d /dev/shm/tierfs-mig-eval-XXXXXX)
mnt=$root/mnt
trap 'fusermount3 -u -z "$mnt" 2>/dev/null || true; rm -rf "$root" "$shm"' EXIT
mkdir -p "$mnt" "$root/ssd" "$root/pfs" "$root/state"
cat >"$root/tierfs.conf" <<CONF
[global]
state_dir = $root/state
placement = first
migrate_threads = 2
[tier mem]
path = $shm
capacity = $mem
high_watermark = 0.8
low_watermark = 0.5
[tier ssd]
path = $root/ssd
capacity = 4G
[tier pfs]
path = $root/pfs
capacity = 4G
CONF
"$build/bin/tierfs" "$mnt" -f -o "config=$root/tierfs.conf,workflow=$wf" 2>"$root/log" &
for _ in $(seq 200); do grep -q " $mnt fuse.tierfs " /proc/mounts && break; sleep 0.05; done
"$build/bin/tierreplay" "$wf" "$mnt" --scale "$scale" --time-scale 0.002 --compute sleep --workers 2 --json \
	>"$root/replay.json"
sock=$(getfattr --absolute-names --only-values -n user.tierfs.socket "$mnt")
$py - "$sock" "$root/replay.json" "$wf" "$scale" "$mem" <<'PY'
import json, socket, sys
s = socket.socket(socket.AF_UNIX); s.connect(sys.argv[1])
s.sendall(b'{"cmd":"status"}\n')
st = json.loads(s.makefile().readline())
rep = json.load(open(sys.argv[2]))
m = st["migration"]
mib = lambda b: f"{b / 1048576:8.1f} MiB"
print(f"workflow {sys.argv[3].split('/')[-1]} at scale {sys.argv[4]}, memory tier {sys.argv[5]}")
print(f"replay: makespan {rep['makespan_s']:.2f} s, I/O time {rep['io_time_s']:.2f} s, verified {rep['verified']}")
print("written per tier (after the run): " + ", ".join(f"{t} {mib(b).strip()}" for t, b in rep["bytes_per_tier"].items()))
print(f"demoted   {mib(m['demoted_bytes'])} in {m['demoted_files']} files")
print(f"  - nobody reads them any more {mib(m['demoted_finished_bytes'])}")
print(f"  - no workflow knows them     {mib(m['demoted_unknown_bytes'])}")
print(f"  - still to be read           {mib(m['demoted_still_needed_bytes'])}")
print(f"promoted  {mib(m['promoted_bytes'])} in {m['promoted_files']} files")
print(f"spills {st['spills']}, failed moves {m['failed']}, retried {m['retried']}")
PY
fusermount3 -u "$mnt"
