#!/bin/sh
# learnbench.sh BUILD_DIR [ROWS...]: tierfs's learner against XGBoost on the
# same synthetic records (tools/bench/learngen.c: 11 features V1-V11, 3
# tiers, 5% label noise).  For each size: training time with 1 and 2
# threads, peak memory, test accuracy (on 20% more rows from another seed),
# single-row prediction latency (XGBoost's C API against ours on the same
# imported model) and batch rows/s.  100 rounds, depth 6, eta 0.3, 256 bins
# for both; no early stopping, so both build the same number of trees.
# train_s is wall time, cpu_s the process CPU time of training alone: on a
# shared machine the CPU time is the fair comparison.
# Needs python3-xgboost and libxgboost-dev (learnbench is built only then).
set -eu
build=${1:?usage: learnbench.sh BUILD_DIR [ROWS...]}
shift
sizes=${*:-3810 100000 1000000}
here=$(cd "$(dirname "$0")" && pwd)
bin=$build/bin
for t in learngen tiertrain learnbench; do
	test -x "$bin/$t" || { echo "learnbench.sh: $bin/$t missing (build it; learnbench needs libxgboost-dev)" >&2; exit 1; }
done
/usr/bin/python3 -c 'import xgboost' 2>/dev/null || { echo "learnbench.sh: python3-xgboost is not installed" >&2; exit 1; }
work=$(mktemp -d /tmp/learnbench-XXXXXX)
trap 'rm -rf "$work"' EXIT
rounds=100
depth=6

for n in $sizes; do
	test_n=$((n / 5))
	"$bin/learngen" "$n" 1 > "$work/train.csv"
	"$bin/learngen" "$test_n" 2 > "$work/test.csv"
	echo "== $n training rows, $test_n test rows, $rounds rounds, depth $depth"
	for th in 1 2; do
		/usr/bin/time -f "%M" -o "$work/rss" nice "$bin/tiertrain" fit "$work/train.csv" -o "$work/ours.json" --valid 0 \
			--param rounds=$rounds --param max_depth=$depth --param threads=$th > "$work/fit.log"
		secs=$(sed -n 's/^trained .* in \([0-9.]*\) s (\([0-9.]*\) s CPU).*/\1 cpu_s=\2/p' "$work/fit.log")
		echo "tierfs  threads=$th train_s=$secs peak_rss_mb=$(($(cat "$work/rss") / 1024))"
	done
	for th in 1 2; do
		nice /usr/bin/python3 "$here/learnbench_xgb.py" "$work/train.csv" "$work/test.csv" "$work/xgb.json" $th $rounds $depth
	done
	nice "$bin/learnbench" "$work/ours.json" "$work/xgb.json" "$work/test.csv" mem,ssd,pfs
done
