#!/usr/bin/env bash
# figures.sh BUILD_BIN OUT [RUNS] - the closing-note figures of the trace
# generator (issue 10), not a CI test (minutes of CPU):
#  1. real per-file records: each workflow of $WORKFLOWS (default: the
#     shared ones below) replayed RUNS times (different seeds) by
#     tierreplay on a fresh tierfs mount whose recorder writes files.csv;
#  2. tiertrain tracegen fit on them with 30% of the runs held out: curve
#     RMSE of the trace generator vs the class-mean curve and the nearest
#     real file (jitter baseline), KS of the feature marginals per FG.
# (wfsim-Epigenomics_100 is left out: 400,000 s of declared runtime make
# its replay take 20 minutes even at --time-scale 0.002.)
# Output: OUT/real.csv, OUT/gen.json, OUT/fit.txt (NOFIT=1: records only).
set -euo pipefail
bin=$1 out=$2 runs=${3:-3}
wfdir=${TIERFS_WORKFLOWS_DIR:-/work/shared/workflows}
workflows=${WORKFLOWS:-"pegi-1000genome-chameleon-2ch-100k-001.json pegi-montage-chameleon-2mass-01d-001.json pegi-epigenomics-chameleon-ilmn-1seq-100k-001.json pegi-srasearch-chameleon-10a-001.json mfi-blast-chameleon-small-001.json mfi-bwa-chameleon-small-001.json nfi-rnaseq-dirt02-001.json wfi-bwa-chameleon-small-001.json pegasus-broadband.dax wfsim-Montage_25.xml wfsim-CyberShake_30.xml"}
scale=${SCALE:-0.0005}
tscale=${TIME_SCALE:-0.002}
mkdir -p "$out"
. "$(dirname "$0")/../common/mount.sh"
tfs_test_dirs tg-fig
first=1
: >"$out/real.csv"
for wf in $workflows; do
	for run in $(seq "$runs"); do
		rm -rf "$root/ssd" "$root/pfs" "$root/state" "$shm"/*
		mkdir -p "$root/ssd" "$root/pfs" "$root/state"
		cat >"$root/tierfs.conf" <<CONF
[global]
placement = first
state_dir = $root/state
[tier mem]
path = $shm
capacity = 256M
read_bandwidth = 10G/s
write_bandwidth = 8G/s
[tier ssd]
path = $root/ssd
capacity = 2G
read_bandwidth = 2G/s
write_bandwidth = 1G/s
[tier pfs]
path = $root/pfs
capacity = 8G
read_bandwidth = 500M/s
write_bandwidth = 400M/s
CONF
		"$bin/tierfs" "$mnt" -f -o "config=$root/tierfs.conf,workflow=$wfdir/$wf" 2>"$root/log" &
		pid=$!
		tfs_wait_mount || true
		"$bin/tierreplay" "$wfdir/$wf" "$mnt" --workers 2 --scale "$scale" --time-scale "$tscale" \
			--compute sleep --seed "$run" >/dev/null || echo "replay of $wf failed" >&2
		fusermount3 -u "$mnt"
		wait "$pid" || true
		if [ $first = 1 ]; then
			cat "$root/state/files.csv" >>"$out/real.csv"
			first=0
		else
			tail -n +2 "$root/state/files.csv" >>"$out/real.csv"
		fi
		echo "$wf run $run: $(($(wc -l <"$root/state/files.csv") - 1)) records" >&2
	done
done
"$bin/tiertrain" tracegen check "$out/real.csv"
[ -n "${NOFIT:-}" ] && exit 0
"$bin/tiertrain" tracegen fit "$out/real.csv" -o "$out/gen.json" --holdout 0.3 --keep-real \
	--test-out "$out/test.csv" ${FIT_ARGS:-} | tee "$out/fit.txt"
