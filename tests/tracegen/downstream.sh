#!/usr/bin/env bash
# downstream.sh BUILD_BIN OUT - the use that matters (issue 10): does a
# placement model trained on real + synthetic workflows place held-out
# real workflows better than one trained on the real ones only?  Not a CI
# test (minutes of CPU).
#  1. records of the TRAIN workflows replayed on a recording mount
#     (figures.sh), byte counts and lifetimes multiplied back by 1/SCALE
#     and 1/TIME_SCALE (the replay shrinks both), a generator fitted on them;
#  2. NSYN synthetic workflows generated from it (flow FG);
#  3. tiertrain label on the TRAIN workflows (real) and on the synthetic
#     ones; tiertrain fit: model_real on the real records, model_mix on
#     real + synthetic;
#  4. tiertrain simulate of every TEST workflow (none of them trained on)
#     with each model and with the first / most-free policies, mem at
#     0.05x, 0.2x and 0.8x of the workflow's bytes, ssd SSD_X (0.25) of
#     them, pfs 8x;
#     summed I/O time per placement.
set -euo pipefail
bin=$1 out=$2
wfdir=${TIERFS_WORKFLOWS_DIR:-/work/shared/workflows}
here=$(cd "$(dirname "$0")" && pwd)
src=$(cd "$here/../.." && pwd)
train=${TRAIN:-"pegi-1000genome-chameleon-2ch-100k-001.json pegi-montage-chameleon-2mass-01d-001.json pegi-epigenomics-chameleon-ilmn-1seq-100k-001.json mfi-blast-chameleon-small-001.json mfi-bwa-chameleon-small-001.json nfi-rnaseq-dirt02-001.json pegasus-broadband.dax wfsim-CyberShake_30.xml"}
test=${TEST:-"wfi-1000genome-chameleon-2ch-100k-001.json wfsim-Montage_25.xml wfsim-Epigenomics_100.xml wfi-bwa-chameleon-small-001.json pegi-srasearch-chameleon-10a-001.json"}
nsyn=${NSYN:-40}
scale=${SCALE:-0.0005}
tscale=${TIME_SCALE:-0.002}
runs=${RUNS:-3}
ssd_x=${SSD_X:-0.25}
mkdir -p "$out"
if [ ! -f "$out/train/real.csv" ]; then
	WORKFLOWS="$train" SCALE=$scale TIME_SCALE=$tscale "$here/figures.sh" "$bin" "$out/train" "$runs" >"$out/train.log" 2>&1
fi
python3 - "$out/train/real.csv" "$out/real-rescaled.csv" "$scale" "$tscale" <<'PY'
import sys
src, dst, scale, tscale = sys.argv[1], sys.argv[2], float(sys.argv[3]), float(sys.argv[4])
with open(src) as f, open(dst, "w") as o:
    hdr = f.readline()
    o.write(hdr)
    cols = hdr.strip().split(",")
    ix = {c: i for i, c in enumerate(cols)}
    for line in f:
        v = line.rstrip("\n").split(",")
        for c in ("size", "bytes_read", "bytes_written"):
            v[ix[c]] = str(int(round(int(v[ix[c]]) / scale)))
        v[ix["lifetime"]] = "%.9g" % (float(v[ix["lifetime"]]) / tscale)
        o.write(",".join(v) + "\n")
PY
"$bin/tiertrain" tracegen fit "$out/real-rescaled.csv" -o "$out/gen.json" >"$out/gen.txt"
rm -rf "$out/syn"
"$bin/tiertrain" generate --learned "$out/gen.json" --count "$nsyn" -o "$out/syn" --no-ops --seed 7 >/dev/null
real_wf=""
for w in $train; do real_wf="$real_wf $wfdir/$w"; done
"$bin/tiertrain" label $real_wf -o "$out/lab-real.csv" -q >/dev/null
"$bin/tiertrain" label "$out"/syn/*.json -o "$out/lab-syn.csv" -q >/dev/null
cp "$out/lab-real.csv" "$out/lab-mix.csv"
tail -n +2 "$out/lab-syn.csv" >>"$out/lab-mix.csv"
"$bin/tiertrain" fit "$out/lab-real.csv" -o "$out/model-real.json" --quiet >/dev/null
"$bin/tiertrain" fit "$out/lab-mix.csv" -o "$out/model-mix.json" --quiet >/dev/null
printf "%-48s %-8s %12s %12s %12s %12s\n" workflow mem first most-free model-real model-mix | tee "$out/downstream.txt"
for w in $test; do
	bytes=$("$bin/wfinfo" inspect "$wfdir/$w" | awk -F: '/declared bytes/ {gsub(/ /, "", $2); print $2}')
	for f in 0.05 0.2 0.8; do
		mem=$(python3 -c "print(max(1, int($bytes * $f)))")
		ssd=$(python3 -c "print(max(1, int($bytes * $ssd_x)))")
		caps="--capacity mem=$mem --capacity ssd=$ssd --capacity pfs=$((bytes * 8 + 1))"
		row=""
		for how in "--policy first" "--policy most-free" "--model $out/model-real.json" "--model $out/model-mix.json"; do
			t=$("$bin/tiertrain" simulate "$wfdir/$w" -c "$src/etc/tierfs.conf" $caps $how --json |
				python3 -c 'import json,sys; print("%.3f" % json.load(sys.stdin)["io_time"])')
			row="$row $(printf "%12s" "$t")"
		done
		printf "%-48s %-8s%s\n" "$w" "${f}x" "$row" | tee -a "$out/downstream.txt"
	done
done
awk 'NR > 1 { for (i = 3; i <= 6; i++) s[i] += $i } END { printf "%-48s %-8s %12.3f %12.3f %12.3f %12.3f\n", "total I/O time (s)", "", s[3], s[4], s[5], s[6] }' \
	"$out/downstream.txt" | tee -a "$out/downstream.txt"
