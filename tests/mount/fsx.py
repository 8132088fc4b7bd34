#!/usr/bin/env python3
"""fsx.py MOUNT_DIR REF_DIR SEED OPS - random writes, truncates and reads of
one file through a tierfs mount, every read checked against a reference
copy on a plain directory (in the manner of fsx).  Lengths and offsets
gather at the edges that matter: pages, the 128 KiB from which READ replies
are spliced, the 1020 KiB of a spliced reply, 1 MiB; reads go through a
read-only descriptor (the kernel's page cache) and the read-write one
(past it).  Exit 1 with the operation, offset and first differing byte."""
import os
import random
import sys

mnt, ref_dir, seed, nops = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
rnd = random.Random(seed)
MAX = 8 << 20
name = "fsx.%d" % seed
path, ref = os.path.join(mnt, name), os.path.join(ref_dir, name)
fd = os.open(path, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o644)
rf = os.open(ref, os.O_CREAT | os.O_RDWR | os.O_TRUNC, 0o644)
ro = None
log = []


def length():
    return rnd.choice([1, 17, 4096, 65536, 131072, 131073, 1044480, 1044481,
                       1048576, 2 << 20, rnd.randrange(1, 3 << 20)])


def offset():
    return rnd.choice([0, 4096 * rnd.randrange(0, MAX // 4096), rnd.randrange(0, MAX)])


def fail(msg):
    print("FAIL: seed %d: %s" % (seed, msg))
    print("  last operations: " + "; ".join(log[-8:]))
    sys.exit(1)


for i in range(nops):
    op = rnd.random()
    if op < 0.35:
        off = offset()
        n = min(length(), MAX - off)
        data = rnd.randbytes(n)
        log.append("write %d@%d" % (n, off))
        got = os.pwrite(fd, data, off)
        if got != n:
            fail("op %d: write of %d bytes at %d wrote %d" % (i, n, off, got))
        os.pwrite(rf, data, off)
    elif op < 0.42:
        size = rnd.randrange(0, MAX)
        log.append("truncate %d" % size)
        os.ftruncate(fd, size)
        os.ftruncate(rf, size)
    else:
        if ro is None or rnd.random() < 0.2:
            if ro is not None:
                os.close(ro)
            ro = os.open(path, os.O_RDONLY)
        off, n = offset(), length()
        via = "read-only" if rnd.random() < 0.7 else "read-write"
        log.append("read %d@%d %s" % (n, off, via))
        got = os.pread(ro if via == "read-only" else fd, n, off)
        want = os.pread(rf, n, off)
        if got != want:
            first = next((k for k in range(min(len(got), len(want))) if got[k] != want[k]), None)
            fail("op %d: read of %d at %d through the %s descriptor: %d bytes, expected %d; first difference at +%s"
                 % (i, n, off, via, len(got), len(want), first))
size, want = os.fstat(fd).st_size, os.fstat(rf).st_size
if size != want:
    fail("final size %d, expected %d" % (size, want))
with open(path, "rb") as a, open(ref, "rb") as b:
    if a.read() != b.read():
        fail("final content differs")
print("ok: seed %d, %d operations, final size %d" % (seed, nops, size))
