#!/usr/bin/env bash
# inspect.sh TIERCTL FIXTURES WORKFLOWS - tierctl workflow inspect, which
# needs no daemon: the summary of the project's sample workflow, the JSON
# report's keys and counts, the same graph from a real file read in place,
# and a clear error for a file that is no workflow.
set -euo pipefail
tierctl=$1 sample=$2 wfdir=$3
out=$("$tierctl" workflow inspect "$sample")
grep -q "^tasks *12$" <<<"$out" || { echo "FAIL: $out"; exit 1; }
grep -q "^levels *6 (widest 4 tasks)$" <<<"$out" || { echo "FAIL: $out"; exit 1; }
"$tierctl" --json workflow inspect "$sample" | python3 -c '
import json, sys
d = json.load(sys.stdin)
s = d["summary"]
for k in ("format", "tasks", "files", "edges", "explicit_edges", "implied_edges", "levels",
          "max_width", "declared_bytes", "multi_producer_files"):
    assert k in s, k
assert (s["tasks"], s["files"], s["levels"]) == (12, 17, 6), s
assert len(d["tasks"]) == 12 and len(d["files"]) == 17
' || { echo "FAIL: --json"; exit 1; }
if [ -f "$wfdir/wfsim-Montage_25.xml" ]; then
	out=$("$tierctl" workflow inspect "$wfdir/wfsim-Montage_25.xml")
	grep -q "^tasks *25$" <<<"$out" || { echo "FAIL: Montage_25: $out"; exit 1; }
fi
# A chain: one task per level, and the summary says so in the singular.
chain=$(mktemp --suffix=.json)
trap 'rm -f "$chain"' EXIT
cat >"$chain" <<'JSON'
{"name": "chain", "schemaVersion": "1.5",
 "workflow": {"specification": {
  "tasks": [{"name": "a", "id": "a", "parents": [], "children": ["b"], "inputFiles": [], "outputFiles": ["f"]},
            {"name": "b", "id": "b", "parents": ["a"], "children": [], "inputFiles": ["f"], "outputFiles": []}],
  "files": [{"id": "f", "sizeInBytes": 10}]},
  "execution": {"tasks": [{"id": "a", "runtimeInSeconds": 1}, {"id": "b", "runtimeInSeconds": 1}]}}}
JSON
out=$("$tierctl" workflow inspect "$chain")
grep -q "^levels *2 (widest 1 task)$" <<<"$out" || { echo "FAIL: chain: $out"; exit 1; }
if err=$("$tierctl" workflow inspect /etc/hostname 2>&1); then
	echo "FAIL: a non-workflow was accepted"; exit 1
fi
grep -q "not a recognised workflow" <<<"$err" || { echo "FAIL: message: $err"; exit 1; }
echo "PASS: tierctl workflow inspect"
