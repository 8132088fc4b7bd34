#!/usr/bin/env bash
# setup.sh - install what tierfs needs from Debian (as root) and build it
# into build/.  Safe to run again: installs only what is missing.
#   tools/setup.sh [BUILD_DIR] [extra cmake args...]
set -euo pipefail
cd "$(dirname "$0")/.."

# libyaml: Pegasus 5 workflows (tierfs.conf has its own reader: Debian's
# libinih is built without line numbers for error messages);
# fio, mergerfs: baselines of tools/bench/fsbench; attr: getfattr for the demo;
# python3-xgboost, libxgboost-dev: the learner's XGBoost import tests and
# learnbench baseline (the real XGBoost, trained in the same run);
# clang, libclang-rt-14-dev: libFuzzer for the parser's fuzz run;
# liburing-dev: FUSE over io_uring (the ring setup and its SQE/CQE handling
# are liburing's, kept in step with the kernel, not ours to redo);
# gnuplot-nox: the plots of `tiertrain eval` and tools/bench/placement-eval
# (a plotting program beats writing SVG by hand; no X11 pulled in).
PKGS=(build-essential cmake pkg-config libfuse3-dev fuse3 liburing-dev libxml2-dev libcjson-dev
      libopenblas-dev libcriterion-dev libyaml-dev attr fio mergerfs python3 util-linux
      python3-xgboost libxgboost-dev clang libclang-rt-14-dev gnuplot-nox)

missing=()
for p in "${PKGS[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" -ne 0 ]; then
		echo "setup: missing packages: ${missing[*]}" >&2
		echo "setup: as root run: apt-get install -y ${missing[*]}" >&2
		exit 1
	fi
	echo "setup: installing ${missing[*]}"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

build=${1:-build}
shift || true
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo "$@" >/dev/null
cmake --build "$build" -j"$(nproc)"
