#!/usr/bin/env bash
# demo.sh - the main job, end to end: set up and build; mount tierfs over the
# default tiers of etc/tierfs.conf with the shipped model and the sample
# workflow (etc/sample-workflow.json) attached; run the workflow's I/O on the
# mount with tierreplay (every byte verified); show where each file went and
# why; then the same run with every file on the SSD tier for comparison;
# unmount.  Where FUSE is missing it says so and stops.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

tools/setup.sh build
export USER=${USER:-$(id -un)}
if [ ! -c /dev/fuse ]; then
	echo "demo: FUSE is not available: /dev/fuse is missing (load the module with 'modprobe fuse'; in a container, start it with --device /dev/fuse)" >&2
	exit 1
fi
command -v fusermount3 >/dev/null || { echo "demo: fusermount3 is missing (apt-get install fuse3)" >&2; exit 1; }
conf=$top/etc/tierfs.conf
wf=$top/etc/sample-workflow.json
mnt=${TIERFS_DEMO_MNT:-/tmp/tierfs-demo-$USER}
scale=${TIERFS_DEMO_SCALE:-0.1}
# The tier directories named in etc/tierfs.conf.
tiers=(/dev/shm/tierfs-$USER/mem /var/tmp/tierfs-$USER/ssd /var/tmp/tierfs-$USER/pfs)
mkdir -p "${tiers[@]}" "$mnt"
rm -f /tmp/tierfs-"$USER"/records.csv 2>/dev/null || true

echo "== mounting tierfs on $mnt (shipped model, workflow $(basename "$wf") attached)"
timeout 60 build/bin/tierfs "$mnt" -o "config=$conf,workflow=$wf" ||
	{ echo "demo: tierfs could not mount $mnt (see the message above)" >&2; exit 1; }
work=$(mktemp -d /tmp/tierfs-demo-work.XXXXXX)
cleanup() { fusermount3 -u "$mnt" 2>/dev/null || true; rm -rf "$work"; }
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

echo "== the same run with every file on the ssd tier (placement = ssd, no model)"
rm -rf "${mnt:?}"/*
fusermount3 -u "$mnt"
sed -e 's/^placement *=.*/placement = ssd/' -e '/^model *=/d' "$conf" >"$work/ssd.conf"
timeout 60 build/bin/tierfs "$mnt" -o "config=$work/ssd.conf"
run_json() { build/bin/tierreplay "$wf" "$mnt" --scale "$scale" --workers 2 --json; }
run_json >"$work/ssd.json"
rm -rf "${mnt:?}"/*
fusermount3 -u "$mnt"
timeout 60 build/bin/tierfs "$mnt" -o "config=$conf,workflow=$wf"
run_json >"$work/learned.json"
python3 - "$work/learned.json" "$work/ssd.json" <<'PY'
import json, sys
a, b = (json.load(open(p)) for p in sys.argv[1:3])
print("%-24s %12s %12s  %s" % ("", "I/O time s", "makespan s", "bytes per tier"))
for name, r in (("learned (shipped model)", a), ("all on ssd", b)):
    tiers = ", ".join("%s %.1f MB" % (t, v / 1e6) for t, v in sorted(r["bytes_per_tier"].items()) if v)
    print("%-24s %12.3f %12.3f  %s" % (name, r["io_time_s"], r["makespan_s"], tiers))
print("learned/ssd I/O time: %.2f (measured on this machine's tmpfs and disk, page cache included)"
      % (a["io_time_s"] / b["io_time_s"] if b["io_time_s"] else float("nan")))
PY

echo "== unmounting (the record log of every decision stays in the state directory)"
rm -rf "${mnt:?}"/*
fusermount3 -u "$mnt"
trap - EXIT
rm -rf "$work"
echo "done"
