#!/usr/bin/env bash
# make-default-model.sh - the rule baseline: a model trained on recgen's
# documented rule over every workflow in ../shared/workflows (read in
# place), as tierfs shipped before GA labels; placement-eval --holdout
# compares against this recipe.  The shipped model now comes from
# tools/make-default-model.sh.  Deterministic for a given recgen seed.
#   tools/recgen/make-default-model.sh [BUILD_DIR] [OUT_MODEL.json]
set -euo pipefail
cd "$(dirname "$0")/../.."
build=${1:-build}
wf=../shared/workflows
[ -d "$wf" ] || { echo "make-default-model: no $wf (the project's shared folder)" >&2; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
USER=${USER:-$(id -un)} "$build/bin/recgen" -c etc/tierfs.conf -n 8 -s 1 \
	"$wf"/*.xml "$wf"/*.dax "$wf"/*.yml "$wf"/*.json >"$tmp/records.csv"
"$build/bin/tiertrain" fit "$tmp/records.csv" -o "${2:-rule-model.json}" \
	--param rounds=40 --param max_depth=5 --param seed=1 --param threads=1
