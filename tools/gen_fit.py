#!/usr/bin/env python3
"""gen_fit.py - fit the size and runtime distributions of `tiertrain
generate` (trainer/gen_table.c) to the real workflow instances, read in
place from the shared workflow directory (never copied).

    python3 tools/gen_fit.py /work/shared/workflows > trainer/gen_table.c
    python3 tools/gen_fit.py --summary /work/shared/workflows

Model: every file role and every task category gets a log-normal
distribution, mu = mean(ln x), sigma = std(ln x) (maximum likelihood),
clamped to the observed range [min, max]. A role is named exactly as the
generator names it (trainer/gen_shapes.c):
  - a file a task writes: "CATEGORY.CLASS"
  - a workflow input: "input.CATEGORY.CLASS", CATEGORY being its
    consumer of lowest level (then first in document order)
CLASS comes from the file name: "area" for *_area.fits, else the
extension with any digits/dashes after it cut off ("variation-s0427-h0"
-> "variation"), "bin" when there is none; a few kinds refine it
(ROLE_FIXUPS below). Runtimes are keyed "rt.CATEGORY".

Inspiral and SIPHT have no real instance in the shared set: their entries
are the published per-job figures of the Pegasus workflow generator
(Bharathi et al., WORKS'08; pegasus-isi/WorkflowGenerator,
bharathi/src/simulation/generator/app/LIGO.java and SIPHT.java), given
there as truncated normals (mean, variance); here they become the
log-normal with the same mean and variance. The ASL paper's binary-tree
and GenBase workflows have no trace at all: their figures are our
documented choices (see GENBASE/BINTREE below), marked n = 0.

Only the standard library; runs in well under a second.
"""
import json
import math
import os
import re
import sys
import xml.etree.ElementTree as ET

# kind -> saved real instance it is fitted on
REAL = {
    "montage": "wfi-montage-chameleon-dss-10d-001.json",
    "1000genome": "wfi-1000genome-chameleon-22ch-250k-001.json",
    "epigenomics": "wfi-epigenomics-chameleon-ilmn-4seq-50k-001.json",
    "cybershake": "wfsim-CyberShake_1000.xml",
}


def file_class(name):
    if name.endswith("_area.fits"):
        return "area"
    base = name.rsplit("/", 1)[-1]
    if "." not in base:
        return "bin"
    ext = base.rsplit(".", 1)[1]
    ext = re.sub(r"[-_0-9].*$", "", ext)
    return ext or "bin"


def fixup_epigenomics(role, name):
    # the per-lane mapMerge and the final one (all lanes) differ 4x
    if role == "mapMerge.map" and "_sequence" not in name:
        return "mapMerge.map_all"
    return role


def fixup_montage(role, name):
    if role == "mViewer.jpg" and name.startswith("mosaic-color"):
        return "mViewer.color_jpg"
    return role


ROLE_FIXUPS = {"epigenomics": fixup_epigenomics, "montage": fixup_montage}


class Wf:
    """tasks: list of (id, category, runtime, inputs, outputs, parents)"""

    def __init__(self):
        self.tasks = []
        self.size = {}


def load_wfformat15(path):
    d = json.load(open(path))
    s = d["workflow"]["specification"]
    ex = {t["id"]: t for t in d["workflow"]["execution"]["tasks"]}
    w = Wf()
    w.size = {f["id"]: int(f["sizeInBytes"]) for f in s["files"]}
    for t in s["tasks"]:
        e = ex[t["id"]]
        cat = e.get("command", {}).get("program") or t.get("category") or t["name"]
        w.tasks.append((t["id"], cat, float(e["runtimeInSeconds"]),
                        list(t["inputFiles"]), list(t["outputFiles"]),
                        list(t["parents"])))
    return w


def load_dax2(path):
    ns = "{http://pegasus.isi.edu/schema/DAX}"
    root = ET.parse(path).getroot()
    w = Wf()
    out_size, in_size = {}, {}
    parents = {}
    for c in root.findall(ns + "child"):
        parents[c.get("ref")] = [p.get("ref") for p in c.findall(ns + "parent")]
    for j in root.findall(ns + "job"):
        ins, outs = [], []
        for u in j.findall(ns + "uses"):
            f, sz = u.get("file"), abs(int(float(u.get("size", "0"))))
            if u.get("link") == "output":
                outs.append(f)
                out_size[f] = sz
            else:
                ins.append(f)
                in_size[f] = max(in_size.get(f, 0), sz)
        w.tasks.append((j.get("id"), j.get("name"), abs(float(j.get("runtime", "0"))),
                        ins, outs, parents.get(j.get("id"), [])))
    w.size = dict(in_size)
    w.size.update(out_size)  # the producer's mention wins
    return w


def levels(w):
    idx = {t[0]: i for i, t in enumerate(w.tasks)}
    prod = {}
    for i, t in enumerate(w.tasks):
        for f in t[4]:
            prod.setdefault(f, i)
    par = [set(idx[p] for p in t[5]) | set(prod[f] for f in t[3] if f in prod)
           for t in w.tasks]
    lvl = [None] * len(w.tasks)

    def get(i):
        stack = [i]
        while stack:
            k = stack[-1]
            todo = [p for p in par[k] if lvl[p] is None]
            if todo:
                stack.extend(todo)
                continue
            lvl[k] = 1 + max((lvl[p] for p in par[k]), default=-1)
            stack.pop()
        return lvl[i]

    for i in range(len(w.tasks)):
        get(i)
    return lvl, prod


def samples(kind, w):
    """role -> sizes, category -> runtimes"""
    lvl, prod = levels(w)
    fix = ROLE_FIXUPS.get(kind, lambda r, n: r)
    first_consumer = {}
    for i, t in enumerate(w.tasks):
        for f in t[3]:
            if f in prod:
                continue
            key = (lvl[i], i)
            if f not in first_consumer or key < first_consumer[f][0]:
                first_consumer[f] = (key, t[1])
    sizes, rts = {}, {}
    for f, sz in w.size.items():
        if f in prod:
            role = w.tasks[prod[f]][1] + "." + file_class(f)
        elif f in first_consumer:
            role = "input." + first_consumer[f][1] + "." + file_class(f)
        else:
            continue
        sizes.setdefault(fix(role, f), []).append(max(sz, 1))
    for t in w.tasks:
        rts.setdefault("rt." + t[1], []).append(max(t[2], 1e-3))
    return sizes, rts


def lognormal_fit(xs):
    ls = [math.log(x) for x in xs]
    mu = sum(ls) / len(ls)
    sd = math.sqrt(sum((l - mu) ** 2 for l in ls) / len(ls))
    return mu, sd, min(xs), max(xs)


def from_mean_var(mean, var):
    """log-normal with this mean and variance (generator's published
    truncated-normal figures), clamped to +-4 sigma"""
    s2 = math.log(1.0 + var / (mean * mean))
    mu = math.log(mean) - s2 / 2
    sd = math.sqrt(s2)
    return mu, sd, math.exp(mu - 4 * sd), math.exp(mu + 4 * sd)


# Published generator figures: key -> (mean, variance); sizes in bytes,
# runtimes in seconds. Roles follow the generator naming of gen_shapes.c.
INSPIRAL = {
    "input.TmpltBank.gwf": (15595958.08, 334629862.67),
    "input.TmpltBank.fac_darm": (8415922, 0),
    "input.TmpltBank.ref_darm": (902334, 0),
    "input.Inspiral.injection": (2421423, 0),
    "TmpltBank.xml": (986917.26, 18948.0 * 18948.0),
    "Inspiral.xml": (312935.68, 335782981511.87),
    "Thinca.xml": (33820.71, 1888180029.78),
    "TrigBank.xml": (12779.67, 137597136.79),
    "rt.TmpltBank": (18.14, 0.18),
    "rt.Inspiral": (460.21, 545.0 * 545.0),
    "rt.Thinca": (5.37, 0.06),
    "rt.TrigBank": (5.11, 0.1),
}
SIPHT = {
    "input.Findterm.fna": (5248967.25, 2301068882937.69),
    "input.Findterm.rnafold": (591942, 0),
    "input.RNAMotif.descriptor": (17626, 0),
    "input.Transterm.expterm": (45788, 0),
    "input.Transterm.ptt": (328510.50, 76625546.75),
    "input.Blast.partners": (288565.20, 107942475771.75),
    "input.Patser.matrix": (170917, 0),
    "input.Patser.alphabet": (16, 0),
    "input.FFN_Parse.ffn": (4202875, 168713989549.5),
    "Findterm.term": (16463275, 95617942503538.19),
    "RNAMotif.out": (1053510.50, 8411320934.75),
    "Transterm.out": (440409.25, 211951229.69),
    "Blast.sorted": (5270722.25, 11857591385947.69),
    "Patser.out": (91780.15, 61994599624.9),
    "Patser_concate.out": (567813.75, 880488134611.69),
    "SRNA.out": (331823.5, 482134362.75),
    "FFN_Parse.ffn": (802506.75, 18062265579.69),
    "Blast_candidate.out": (2965.5, 24644.25),
    "Blast_QRNA.txt": (773386.5, 201840720.75),
    "Blast_paralogues.txt": (690731.5, 362706549090.75),
    "Blast_synteny.txt": (1146801.25, 445588527066.69),
    "SRNA_annotate.out": (307952.25, 3812001448.19),
    "rt.Findterm": (1349.47, 796.0 * 796.0),
    "rt.Transterm": (55.78, 48.0 * 48.0),
    "rt.RNAMotif": (36.42, 78.15),
    "rt.Blast": (2350.58, 1016.0 * 1016.0),
    "rt.FFN_Parse": (1.64, 0.06),
    "rt.SRNA": (361.33, 342.0 * 342.0),
    "rt.Blast_paralogues": (4.99, 1.32),
    "rt.Blast_candidate": (5.18, 0.99),
    "rt.Blast_QRNA": (1412.09, 9702.26),
    "rt.Patser": (1.27, 0.11),
    "rt.Patser_concate": (0.08, 0.01),
    "rt.SRNA_annotate": (1.68, 0.92),
    "rt.Blast_synteny": (33.0, 0),
}
# GenBase (Taft et al., SIGMOD 2014) as a partitioned workflow: each
# partition is a block of the microarray (genes x patients, 8-byte
# values) of about 256 MiB; selection keeps ~40%; per-query partial
# results are the size of what the query returns (regression
# coefficients, a covariance block, SVD factors, biclusters, test
# statistics). Spreads sigma = 0.2-0.5. Our choice, not a trace.
MB = 1 << 20
GENBASE = {
    "input.select.matrix": (256 * MB, (0.15 * 256 * MB) ** 2),
    "input.select.meta": (12 * MB, 0),
    "input.regression.genes": (6 * MB, 0),
    "select.block": (100 * MB, (0.3 * 100 * MB) ** 2),
    "regression.part": (2 * MB, (0.3 * 2 * MB) ** 2),
    "covariance.part": (48 * MB, (0.3 * 48 * MB) ** 2),
    "svd.part": (24 * MB, (0.3 * 24 * MB) ** 2),
    "bicluster.part": (1 * MB, (0.5 * MB) ** 2),
    "statistics.part": (256 << 10, (0.3 * (256 << 10)) ** 2),
    "merge.result": (32 * MB, (0.5 * 32 * MB) ** 2),
    "report.pdf": (4 * MB, (0.2 * 4 * MB) ** 2),
    "rt.select": (20.0, 6.0 ** 2),
    "rt.regression": (30.0, 9.0 ** 2),
    "rt.covariance": (60.0, 18.0 ** 2),
    "rt.svd": (90.0, 27.0 ** 2),
    "rt.bicluster": (120.0, 60.0 ** 2),
    "rt.statistics": (15.0, 5.0 ** 2),
    "rt.merge": (10.0, 4.0 ** 2),
    "rt.report": (2.0, 0.5 ** 2),
}
# Binary tree (reduction): leaves read a 128 MiB input each and write
# 64 MiB; every inner node merges its children's outputs into 64 MiB.
BINTREE = {
    "input.leaf.dat": (128 * MB, (0.25 * 128 * MB) ** 2),
    "leaf.dat": (64 * MB, (0.25 * 64 * MB) ** 2),
    "merge.dat": (64 * MB, (0.25 * 64 * MB) ** 2),
    "rt.leaf": (30.0, 9.0 ** 2),
    "rt.merge": (10.0, 3.0 ** 2),
}
PUBLISHED = [("inspiral", INSPIRAL, "Bharathi et al. WORKS'08 generator figures (LIGO.java); no real instance saved"),
             ("sipht", SIPHT, "Bharathi et al. WORKS'08 generator figures (SIPHT.java); no real instance saved"),
             ("genbase", GENBASE, "our choice after GenBase (Taft et al. SIGMOD'14); no trace exists"),
             ("bintree", BINTREE, "our choice; no trace exists")]


def cstr(s):
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def main():
    args = sys.argv[1:]
    summary = "--summary" in args
    args = [a for a in args if a != "--summary"]
    if len(args) != 1:
        sys.stderr.write("usage: gen_fit.py [--summary] WORKFLOWS_DIR\n")
        return 2
    wdir = args[0]
    rows = []
    for kind, fn in REAL.items():
        path = os.path.join(wdir, fn)
        w = load_dax2(path) if fn.endswith(".xml") else load_wfformat15(path)
        sizes, rts = samples(kind, w)
        for key in sorted(sizes) + sorted(rts):
            xs = sizes.get(key) or rts[key]
            mu, sd, lo, hi = lognormal_fit(xs)
            rows.append((kind, key, mu, sd, lo, hi, len(xs), fn))
    for kind, table, src in PUBLISHED:
        for key, (mean, var) in table.items():
            mu, sd, lo, hi = from_mean_var(mean, var)
            rows.append((kind, key, mu, sd, lo, hi, 0, src))
    if summary:
        print("%-11s %-34s %5s %14s %8s %14s %14s" % ("kind", "key", "n", "median", "sigma", "min", "max"))
        for kind, key, mu, sd, lo, hi, n, _ in rows:
            print("%-11s %-34s %5d %14.6g %8.3f %14.6g %14.6g" % (kind, key, n, math.exp(mu), sd, lo, hi))
        return 0
    out = sys.stdout
    out.write("/* gen_table.c - fitted size and runtime distributions of the synthetic\n"
              " * workflow generator (gen.h). GENERATED by tools/gen_fit.py from the real\n"
              " * instances in the shared workflow directory; do not edit by hand:\n"
              " *   python3 tools/gen_fit.py /work/shared/workflows > trainer/gen_table.c\n"
              " * Each row: log-normal (mu, sigma of ln bytes / ln seconds), clamp range,\n"
              " * sample count (0 = published or chosen figures, see gen_fit.py).\n"
              " * Sources:\n")
    for kind, fn in REAL.items():
        out.write(" *   %-11s %s\n" % (kind, fn))
    for kind, _, src in PUBLISHED:
        out.write(" *   %-11s %s\n" % (kind, src))
    out.write(" */\n#include \"gen.h\"\n\n#include <string.h>\n\n")
    out.write("static const struct gen_fit fits[] = {\n")
    for kind, key, mu, sd, lo, hi, n, _ in rows:
        out.write("\t{ %s, %s, %.6f, %.6f, %.17g, %.17g, %d },\n"
                  % (cstr(kind), cstr(key), mu, sd, lo, hi, n))
    out.write("};\n\n"
              "size_t gen_fit_count(void)\n{\n\treturn sizeof(fits) / sizeof(fits[0]);\n}\n\n"
              "const struct gen_fit *gen_fit_at(size_t i)\n{\n"
              "\treturn i < gen_fit_count() ? &fits[i] : NULL;\n}\n\n"
              "const struct gen_fit *gen_fit_find(const char *kind, const char *key)\n{\n"
              "\tfor (size_t i = 0; i < gen_fit_count(); i++)\n"
              "\t\tif (strcmp(fits[i].kind, kind) == 0 && strcmp(fits[i].key, key) == 0)\n"
              "\t\t\treturn &fits[i];\n"
              "\treturn NULL;\n}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
