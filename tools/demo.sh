#!/usr/bin/env bash
# demo.sh - the main job, end to end: set up and build; mount tierfs over the
# default tiers of etc/tierfs.conf with the shipped model and the sample
# workflow (etc/sample-workflow.json) attached; run the workflow's I/O on the
# mount with tierreplay (every byte verified); show where each file went and
# why; unmount.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

tools/setup.sh build
export USER=${USER:-$(id -un)}
conf=$top/etc/tierfs.conf
wf=$top/etc/sample-workflow.json
mnt=${TIERFS_DEMO_MNT:-/tmp/tierfs-demo-$USER}
scale=${TIERFS_DEMO_SCALE:-0.1}
# The tier directories named in etc/tierfs.conf.
tiers=(/dev/shm/tierfs-$USER/mem /var/tmp/tierfs-$USER/ssd /var/tmp/tierfs-$USER/pfs)
mkdir -p "${tiers[@]}" "$mnt"
rm -f /tmp/tierfs-"$USER"/records.csv 2>/dev/null || true

echo "== mounting tierfs on $mnt (shipped model, workflow $(basename "$wf") attached)"
build/bin/tierfs "$mnt" -o "config=$conf,workflow=$wf"
cleanup() { fusermount3 -u "$mnt" 2>/dev/null || true; }
trap cleanup EXIT

echo "== running the workflow's I/O on the mount (scale $scale, 2 workers)"
build/bin/tierreplay "$wf" "$mnt" --scale "$scale" --workers 2

echo "== where each file went (user.tierfs.tier), and why (the record log)"
sleep 1.2 # the daemon flushes its record log once a second
state=$(sed -n 's/^state_dir *= *//p' "$conf" | sed "s|\$USER|$USER|")
[ -n "$state" ] || state=${XDG_RUNTIME_DIR:+$XDG_RUNTIME_DIR/tierfs}
[ -n "$state" ] || state=/tmp/tierfs-$USER
(cd "$mnt" && find . -type f | sort | sed 's|^\./||') | while read -r f; do
	printf '%s\t%s\t%s\n' "$f" "$(stat -c %s "$mnt/$f")" \
		"$(getfattr --absolute-names --only-values -n user.tierfs.tier "$mnt/$f")"
done >/tmp/tierfs-demo-files.$$
python3 - "$state/records.csv" /tmp/tierfs-demo-files.$$ <<'PY'
import csv, sys
why = {}
for r in csv.DictReader(open(sys.argv[1])):
    if r["event"] == "create":
        why[r["path"]] = (r["policy"], r["reason"] or "the model chose it", r["consumers"])
print("%-30s %9s  %-4s  %7s  %-8s %s" % ("FILE", "BYTES", "TIER", "READERS", "POLICY", "WHY"))
for line in open(sys.argv[2]):
    f, size, tier = line.rstrip("\n").split("\t")
    pol, reason, cons = why.get(f, ("-", "a workflow input, staged before the run", ""))
    print("%-30s %9s  %-4s  %7s  %-8s %s" % (f, size, tier, cons or "-", pol, reason))
PY
rm -f /tmp/tierfs-demo-files.$$
echo
if [ -x build/bin/tierctl ] && build/bin/tierctl --mount "$mnt" status 2>/dev/null; then :; fi

echo "== unmounting (the record log of every decision stays in the state directory)"
rm -rf "${mnt:?}"/*
fusermount3 -u "$mnt"
trap - EXIT
echo "done"
