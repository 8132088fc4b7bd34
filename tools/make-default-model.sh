#!/usr/bin/env bash
# make-default-model.sh - regenerate the shipped placement model
# (etc/tierfs-model.json) from scratch, the ASL paper's pipeline:
#   1. generate  synthetic workflows of every kind at two scales, two seeds
#   2. label     each over a memory sweep with the genetic algorithm
#   3. fit       boosted trees on the labelled records
#   4. eval      every policy on the real workflows of ../shared/workflows,
#                none of which was trained on, plus a scale sweep of
#                generated kinds (other seeds than the trained ones); the
#                learned policy with its plan check, as the daemon runs it,
#                and the unchecked model beside it; report in OUT/report.md
# Deterministic (every step is seeded).  About 10 minutes on 2 cores.
#   tools/make-default-model.sh [--quick] [BUILD_DIR] [OUT_DIR]
# --quick: fewer workflows and sweep points (a smoke run, not the model).
set -euo pipefail
cd "$(dirname "$0")/.."
quick=0
if [ "${1:-}" = "--quick" ]; then
	quick=1
	shift
fi
build=${1:-build}
out=${2:-$build/model-report}
tt=$build/bin/tiertrain
[ -x "$tt" ] || { echo "make-default-model: $tt not built (cmake --build $build)" >&2; exit 1; }
export USER=${USER:-$(id -un)}
work=$(mktemp -d /tmp/tierfs-model.XXXXXX)
trap 'rm -rf "$work"' EXIT
mkdir -p "$work/gen" "$out"
t0=$(date +%s)
step() { echo "== $* ($(($(date +%s) - t0)) s)"; }

step "1/4 generate"
if [ $quick = 1 ]; then
	kinds="montage epigenomics"
	seeds="1"
	sweep="mem=0.05x,0.3x"
else
	kinds=$("$tt" generate --list | grep -E '^[a-z0-9]+$')
	seeds="1 2"
	sweep="mem=0.02x,0.05x,0.1x,0.2x,0.4x,0.8x"
fi
for k in $kinds; do
	# Half and once the kind's default scale (the GA's cost grows with
	# the files; the model generalises across scale through V3/V4).
	def=$("$tt" generate --list | awk -v k="$k" '$1 == k {f = 1; next} f && /default/ {match($0, /default [0-9]+/); print substr($0, RSTART + 8, RLENGTH - 8); exit}')
	for s in $(( def / 2 > 1 ? def / 2 : 1 )) "$def"; do
		for seed in $seeds; do
			"$tt" generate "$k" --scale "$s" --seed "$seed" -o "$work/gen/$k-$s-$seed.json"
		done
	done
done
echo "$(ls "$work/gen" | wc -l) workflows"

step "2/4 label (genetic algorithm, sweep $sweep)"
"$tt" label "$work"/gen/*.json --vary "$sweep" -o "$work/records.csv" | tail -n 1

step "3/4 fit"
model=etc/tierfs-model.json
[ $quick = 1 ] && model=$out/model.json
"$tt" fit "$work/records.csv" -o "$model" --quiet \
	--param rounds=40 --param max_depth=8 --param seed=1 --param threads=2
cp "$work/records.csv" "$out/records.csv"

step "4/4 eval (held-out real workflows, and generated kinds over scale)"
wf=../shared/workflows
held=()
if [ -d "$wf" ]; then
	if [ $quick = 1 ]; then
		held=("$wf/wfsim-Montage_25.xml")
	else
		for f in "$wf"/*.xml "$wf"/*.dax "$wf"/*.json "$wf"/*.yml; do
			[ -e "$f" ] && held+=("$f")
		done
	fi
fi
gens=()
for k in $kinds; do gens+=("gen:$k"); done
# Seed 3: the generated workflows of the scale sweep are not the ones
# labelled above (seeds 1 and 2), so both sweeps are held out.
"$tt" eval --model "$model" --vary "$sweep" --seed 3 -o "$out" -q "${held[@]}" "${gens[@]}" |
	tee "$out/eval.txt" | tail -n 14
step "done: model $model, report $out/report.md"
