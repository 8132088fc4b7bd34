#!/usr/bin/env bash
# test.sh - set up, build and pass every test: Criterion unit tests and
# mount tests under CTest, once in a normal build and once under
# AddressSanitizer + UBSan; then a short libFuzzer run of each workflow
# format's parser.
# The daemon takes requests over /dev/fuse or, where the kernel offers it,
# over io_uring (Linux 6.14+, only after root sets the fuse module's
# enable_uring).  Both must pass: as root, the normal build runs with the
# parameter off and the sanitizer build with it on, then the sanitizer
# build's mount tests once more with it off (the /dev/fuse loop and its
# spliced READ replies under the sanitizers); it is put back as it was at
# the end.  Where it cannot be changed (not root, a read-only /sys), every
# mount takes the kernel's choice, and the run says which.
set -euo pipefail
cd "$(dirname "$0")/.."

uring_param=/sys/module/fuse/parameters/enable_uring
uring_was=
if [ "$(id -u)" -eq 0 ] && [ -w "$uring_param" ]; then
	uring_was=$(cat "$uring_param")
	trap 'echo "$uring_was" > "$uring_param"' EXIT
	echo N > "$uring_param"
elif [ -r "$uring_param" ]; then
	# Not root, or /sys is read-only (a container): the kernel's choice holds.
	if [ "$(cat "$uring_param")" = Y ]; then via=io_uring; else via=/dev/fuse; fi
	echo "test: $uring_param cannot be changed here: every mount takes requests over $via"
fi

tools/setup.sh build
ctest --test-dir build --output-on-failure -j1

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
tools/setup.sh build-asan -DTIERFS_SANITIZE=ON -DCMAKE_BUILD_TYPE=Debug
if [ -n "$uring_was" ]; then
	echo Y > "$uring_param"
	echo "test: mounts of the sanitizer build take requests over io_uring"
fi
ctest --test-dir build-asan --output-on-failure -j1
if [ -n "$uring_was" ]; then
	echo N > "$uring_param" # no mount is up: ctest waited for every test
	echo "test: the sanitizer build's mounts again, over /dev/fuse"
	ctest --test-dir build-asan --output-on-failure -j1 -R mount
fi

# libFuzzer (clang): only the parser's fuzz targets are built.
CC=clang cmake -S . -B build-fuzz -DTIERFS_FUZZ=ON -DTIERFS_FUZZ_SECONDS=10 -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build-fuzz -j"$(nproc)" --target parser_fuzz_dax parser_fuzz_json parser_fuzz_yaml
ctest --test-dir build-fuzz --output-on-failure -R '^parser_fuzz_(dax|json|yaml)$'
