#!/usr/bin/env python3
"""Independent count of what each real workflow file holds.

Written separately from the C parser (stdlib xml.etree / json, PyYAML) so
that tests/parser/test_real.c asserts numbers that were not produced by
the code under test. Run:

    python3 tests/parser/expected_counts.py /work/shared/workflows

and paste the printed C table into test_real.c. Per-file features for
tests/fixtures/parser/expected/NAME.tsv:

    python3 tests/parser/expected_counts.py --features WORKFLOW OUT.tsv
 Rules (issue 3): edges are
explicit dependencies union file-implied producer->consumer pairs (distinct
task pairs); a reader that also writes a file does not depend on a writer
declared after it; levels are longest-path depths; declared bytes take the
largest size a producer declares for its output, else the largest mention,
negative sizes made positive.
"""
import json
import os
import sys
import xml.etree.ElementTree as ET

import yaml


def local(tag):
    return tag.rsplit('}', 1)[-1]


def read_dax(path):
    root = ET.parse(path).getroot()
    tasks, uses, edges, catalog = [], [], [], {}
    for el in root:
        t = local(el.tag)
        if t in ('job', 'dax', 'dag'):
            tid = el.get('id')
            tasks.append(tid)
            for u in el:
                ut = local(u.tag)
                if ut == 'uses':
                    if u.get('executable') == 'true' or u.get('type') == 'executable':
                        continue
                    name = u.get('name') or u.get('file')
                    link = u.get('link', 'input')
                    size = u.get('size')
                    for m in u:
                        if local(m.tag) == 'metadata' and m.get('key') == 'size':
                            size = m.text
                    uses.append((tid, name, link, None if size is None else float(size)))
                elif ut in ('stdin', 'stdout', 'stderr'):
                    name = u.get('name') or u.get('file')
                    if name:
                        uses.append((tid, name, 'input' if ut == 'stdin' else 'output', None))
        elif t == 'file':
            for m in el:
                if local(m.tag) == 'metadata' and m.get('key') == 'size':
                    catalog[el.get('name')] = float(m.text)
        elif t == 'child':
            for p in el:
                if local(p.tag) == 'parent':
                    edges.append((p.get('ref'), el.get('ref')))
    return tasks, uses, edges, catalog


def read_yaml(path):
    d = yaml.safe_load(open(path))
    tasks, uses, edges = [], [], []
    for j in d['jobs']:
        tasks.append(j['id'])
        for u in j.get('uses', []):
            size = u.get('size', (u.get('metadata') or {}).get('size'))
            uses.append((j['id'], u['lfn'], u.get('type', 'input'),
                         None if size is None else float(size)))
        for s in ('stdin', 'stdout', 'stderr'):
            if j.get(s):
                uses.append((j['id'], j[s], 'input' if s == 'stdin' else 'output', None))
    for dep in d.get('jobDependencies', []):
        for c in dep.get('children', []):
            edges.append((dep['id'], c))
    return tasks, uses, edges, {}


def read_json(path):
    d = json.load(open(path))
    w = d['workflow']
    tasks, uses, edges = [], [], []
    if 'specification' in w:
        sizes = {f['id']: f.get('sizeInBytes') for f in w['specification'].get('files', [])}
        for t in w['specification']['tasks']:
            tasks.append(t['id'])
            for f in t.get('inputFiles', []):
                uses.append((t['id'], f, 'input', sizes.get(f)))
            for f in t.get('outputFiles', []):
                uses.append((t['id'], f, 'output', sizes.get(f)))
            edges += [(p, t['id']) for p in t.get('parents', [])]
            edges += [(t['id'], c) for c in t.get('children', [])]
        return tasks, uses, edges, {}
    lst = w.get('tasks') or w.get('jobs')
    key = {}
    names = {}
    for t in lst:
        names.setdefault(t['name'], []).append(t.get('id') or t['name'])
    for t in lst:
        k = t.get('id') or t['name']
        tasks.append(k)
        for f in t.get('files', []):
            name = f['name']
            if f.get('path'):
                p = f['path']
                name = p + ('' if p.endswith('/') else '/') + name
            size = f.get('sizeInBytes', f.get('size'))
            uses.append((k, name, f['link'], size))
        for p in t.get('parents', []):
            edges.append((names[p][0] if len(names.get(p, [])) == 1 else p, k))
        for c in t.get('children', []):
            edges.append((k, names[c][0] if len(names.get(c, [])) == 1 else c))
    return tasks, uses, edges, {}


def count(path):
    with open(path, 'rb') as fh:
        head = fh.read(64).lstrip(b'\xef\xbb\xbf \t\r\n')
    if head.startswith(b'<'):
        tasks, uses, edges, catalog = read_dax(path)
    elif head.startswith(b'{'):
        tasks, uses, edges, catalog = read_json(path)
    else:
        tasks, uses, edges, catalog = read_yaml(path)
    order = {t: i for i, t in enumerate(tasks)}
    writers, readers, files = {}, {}, []
    out_size, any_size = {}, {}
    for tid, name, link, size in uses:
        if name not in writers:
            writers[name], readers[name] = set(), set()
            files.append(name)
        if link in ('output', 'inout', 'checkpoint'):
            writers[name].add(tid)
        if link in ('input', 'inout', 'checkpoint'):
            readers[name].add(tid)
        if size is not None:
            s = abs(float(size))
            any_size[name] = max(any_size.get(name, 0), s)
            if link in ('output', 'inout', 'checkpoint'):
                out_size[name] = max(out_size.get(name, 0), s)
    for name, s in catalog.items():
        if name in writers:
            any_size[name] = max(any_size.get(name, 0), abs(s))
    explicit = set(edges)
    implied = set()
    for f in files:
        for p in writers[f]:
            for c in readers[f]:
                if c == p or (c in writers[f] and order[c] < order[p]):
                    continue
                implied.add((p, c))
    union = explicit | implied
    parents = {t: [] for t in tasks}
    for p, c in union:
        parents[c].append(p)
    level = {}
    sys.setrecursionlimit(100000)

    def lev(t):
        if t not in level:
            level[t] = 1 + max((lev(p) for p in parents[t]), default=-1)
        return level[t]
    for t in tasks:
        lev(t)
    width = {}
    for t in tasks:
        width[level[t]] = width.get(level[t], 0) + 1
    declared = sum(round(out_size.get(f, any_size.get(f, 0))) for f in files)
    feats = []
    for f in files:
        w = sorted(writers[f], key=lambda t: (level[t], order[t]))
        owner = w[0] if w else None
        base = level[owner] if owner else -1
        cons = [c for c in readers[f] if c != owner]
        dist = [max(0, level[c] - base) for c in cons]
        feats.append((f, level[owner] if owner else 0, width[level[owner]] if owner else 0,
                      len(cons), min(dist) if dist else -1, max(dist) if dist else -1,
                      round(out_size.get(f, any_size.get(f, 0))), owner or '-'))
    multi = sum(1 for f in files if len(writers[f]) > 1)
    return dict(tasks=len(tasks), files=len(files), explicit=len(explicit),
                implied=len(implied), edges=len(union), levels=len(width),
                max_width=max(width.values()), declared=declared, multi=multi,
                feats=feats)


def main():
    if len(sys.argv) == 4 and sys.argv[1] == '--features':
        # one TSV row per file: name V1 V2 V5 V6 V7 size producer (-1 = none)
        with open(sys.argv[3], 'w') as out:
            out.write('# generated by tests/parser/expected_counts.py --features %s\n'
                      % os.path.basename(sys.argv[2]))
            for row in count(sys.argv[2])['feats']:
                out.write('\t'.join(str(x) for x in row) + '\n')
        return
    d = sys.argv[1] if len(sys.argv) > 1 else '/work/shared/workflows'
    print('/* generated by tests/parser/expected_counts.py %s */' % d)
    for name in sorted(os.listdir(d)):
        if name.endswith('.tsv'):
            continue
        c = count(os.path.join(d, name))
        print('\t{ "%s", %d, %d, %d, %d, %d, %d, %d, %dULL, %d },' % (
            name, c['tasks'], c['files'], c['explicit'], c['implied'], c['edges'],
            c['levels'], c['max_width'], c['declared'], c['multi']))


if __name__ == '__main__':
    main()
