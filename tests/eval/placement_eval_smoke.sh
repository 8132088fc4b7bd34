#!/usr/bin/env bash
# placement_eval_smoke.sh PLACEMENT_EVAL BINDIR WORKFLOW MODEL - placement-eval
# end to end on a tiny run (Montage 25 at 1% of its declared sizes, all-PFS
# and learned): it must mount, replay with every byte verified, simulate,
# and leave a table, results.json with both measured and simulated times
# for both policies, and no mount or tier directory behind.  Exit 77 (skip)
# only without /dev/fuse.  No timing thresholds: times are only checked to
# be positive.
set -euo pipefail
eval_bin=$1 bindir=$2 wf=$3 model=$4
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
out=$(mktemp -d /tmp/placement-eval-smoke-XXXXXX)
trap 'rm -rf "$out"' EXIT
shopt -s nullglob
shm_dirs() { local d=(/dev/shm/placement-eval.*); echo ${#d[@]}; }
before_shm=$(shm_dirs)

"$eval_bin" --bindir "$bindir" --model "$model" --workflow "$wf" --base-scale 0.01 --scales 1 --mem 0.5x \
	--policies pfs,learned -o "$out" >"$out/stdout" 2>"$out/stderr" || {
	echo "FAIL: placement-eval exited $?"; cat "$out/stdout" "$out/stderr"; exit 1; }

grep -q "all-PFS" "$out/table.txt" || { echo "FAIL: no all-PFS row in table.txt"; cat "$out/table.txt"; exit 1; }
grep -q "learned" "$out/table.txt" || { echo "FAIL: no learned row in table.txt"; cat "$out/table.txt"; exit 1; }
python3 - "$out/results.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
runs = {r["policy"]: r for r in d["runs"]}
assert set(runs) == {"pfs", "learned"}, "policies in results.json: %s" % sorted(runs)
for p, r in runs.items():
    for k in ("io_meas", "io_sim", "io_simp", "mk_meas", "mk_sim"):
        assert r[k] > 0, "%s: %s = %r, expected > 0" % (p, k, r[k])
# All-PFS writes every file on the PFS tier, on the mount as in simulation.
pfs = runs["pfs"]
assert set(pfs["bytes_per_tier"]) == {"pfs"}, "all-PFS bytes per tier: %s" % pfs["bytes_per_tier"]
assert pfs["sim_bytes_per_tier"]["mem"] == 0 and pfs["sim_bytes_per_tier"]["ssd"] == 0, pfs["sim_bytes_per_tier"]
assert d["learned_vs_static"], "no learned-vs-static verdict"
print("ok: %d runs, I/O time measured/simulated: %s" % (len(runs), ", ".join(
    "%s %.3f/%.3f s" % (p, r["io_meas"], r["io_sim"]) for p, r in sorted(runs.items()))))
PY
if grep -q " /var/tmp/placement-eval\.[0-9]*/mnt " /proc/mounts; then
	echo "FAIL: a placement-eval mount is left behind"; exit 1
fi
after_shm=$(shm_dirs)
[ "$after_shm" -le "$before_shm" ] || { echo "FAIL: a memory tier directory is left in /dev/shm"; exit 1; }
