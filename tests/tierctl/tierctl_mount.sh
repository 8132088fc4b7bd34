#!/usr/bin/env bash
# tierctl_mount.sh TIERFS TIERCTL WORKFLOWS_DIR MODEL MANPAGE - tierctl
# against two real tierfs mounts: status, where (from anywhere, across
# mounts, in batches past the request limit), workflow attach/list/detach
# with a real workflow, stats (JSON, Prometheus), series, reload (without
# and with a model); hostile requests written raw to the socket; another
# user kept out.  Every check can fail; exit 77 (skip) only without
# /dev/fuse.  The mounts are always unmounted (trap).
set -uo pipefail
tierfs=$1 tierctl=$2 wfdir=$3 model=$4 manpage=$5
[ -c /dev/fuse ] || { echo "SKIP: no /dev/fuse"; exit 77; }
py=/usr/bin/python3
[ -x $py ] || py=$(command -v python3) || { echo "FAIL: python3 is needed to check JSON"; exit 1; }

fails=0
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
pass() { echo "ok: $*"; }

root=$(mktemp -d /tmp/tierctl-test-XXXXXX)
chmod 755 "$root"
# Two mounts whose names trap a naive prefix test ("m nt" vs "m ntb"),
# with a space that /proc/self/mountinfo escapes as \040.
mnt="$root/m nt"
mnt2="$root/m ntb"
pids=()
cleanup() {
	for m in "$mnt" "$mnt2"; do
		fusermount3 -u "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true
	done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$root"
}
trap cleanup EXIT

start_mount() { # DIR NAME
	local m=$1 n=$2
	mkdir -p "$m" "$root/$n/mem" "$root/$n/ssd" "$root/$n/pfs" "$root/$n/state"
	cat >"$root/$n/tierfs.conf" <<CONF
[global]
placement = first
state_dir = $root/$n/state
[tier mem]
path = $root/$n/mem
capacity = 1M
[tier ssd]
path = $root/$n/ssd
capacity = 64M
[tier pfs]
path = $root/$n/pfs
capacity = 64M
CONF
	"$tierfs" "$m" -f -o "config=$root/$n/tierfs.conf" 2>"$root/$n/log" &
	pids+=($!)
	for _ in $(seq 200); do
		mountpoint -q "$m" && return 0
		sleep 0.05
	done
	echo "FAIL: $m not mounted"
	cat "$root/$n/log"
	exit 1
}
start_mount "$mnt" one
start_mount "$mnt2" two

# run CMD...: stdout in $out, stderr in $err, status in $rc.
run() {
	"$@" >"$root/out" 2>"$root/err"
	rc=$?
	out=$(cat "$root/out")
	err=$(cat "$root/err")
}
# json EXPR: evaluate a Python expression over the JSON in $out as j.
json() { printf '%s' "$out" | $py -c "import json,sys; j=json.load(sys.stdin); sys.exit(0 if ($1) else 1)"; }

cd /
echo small >"$mnt/a"
mkdir "$mnt/run1" "$mnt2/elsewhere"
echo other >"$mnt2/b"

# --- status ---
run "$tierctl" --mount "$mnt" status
[ $rc -eq 0 ] || fail "status exited $rc: $err"
for t in mem ssd pfs; do
	grep -Eq "^$t +[0-9.]+[BKMGT] +1\.0M|^$t +[0-9.]+[BKMGT] +64M" <<<"$out" || fail "status has no row for tier $t with its capacity: $out"
done
grep -q '^policy  *first' <<<"$out" || fail "status does not show the policy: $out"
grep -q '^model  *none' <<<"$out" || fail "status does not show that no model is loaded: $out"
grep -q '^workflows  *none' <<<"$out" || fail "status does not show the (no) workflows: $out"
# Requests over io_uring exactly when the kernel offers it (root enabled
# it: tools/test.sh does for the sanitizer build), else why not.
if [ "$(cat /sys/module/fuse/parameters/enable_uring 2>/dev/null)" = Y ]; then
	grep -q '^io_uring  *on$' <<<"$out" || fail "the kernel offers io_uring but status does not say it is on: $out"
else
	grep -q '^io_uring  *the kernel does not offer it' <<<"$out" || fail "status does not say why io_uring is off: $out"
fi
# Large reads over /dev/fuse are spliced from the tier file: the status
# counts them, and the data read is the data written.
head -c 3000000 /dev/urandom >"$root/big"
cp "$root/big" "$mnt/big"
cmp -s "$root/big" "$mnt/big" || fail "a 3 MB file read back through the mount differs"
run "$tierctl" --mount "$mnt" status
if [ "$(cat /sys/module/fuse/parameters/enable_uring 2>/dev/null)" = Y ]; then
	grep -q '^spliced reads  *off: requests come over io_uring' <<<"$out" || fail "status does not say spliced reads are off over io_uring: $out"
else
	grep -Eq '^spliced reads  *on: [1-9][0-9]* replies, [0-9.]+ MiB' <<<"$out" || fail "status counts no spliced READ replies after a 3 MB read: $out"
fi
rm -f "$mnt/big"
run "$tierctl" --json status --mount "$mnt"
json "[t['name'] for t in j['tiers']] == ['mem','ssd','pfs'] and j['tiers'][0]['capacity'] == 1048576 and j['mountpoint'] == '$mnt'" ||
	fail "status --json: tiers or mountpoint wrong: $out"
(cd "$mnt/run1" && "$tierctl" status >/dev/null) || fail "status from a directory inside the mount failed"
[ $fails -eq 0 ] && pass "status shows the tiers"

# --- where ---
f0=$fails
run "$tierctl" where "$mnt/a"
[ $rc -eq 0 ] || fail "where on a file exited $rc: $err"
xtier=$($py -c "import os,sys; print(os.getxattr(sys.argv[1], 'user.tierfs.tier').decode())" "$mnt/a")
grep -Eq "^$mnt/a +$xtier +6B +first +no workflow attached here" <<<"$out" ||
	fail "where $mnt/a: expected tier $xtier (as user.tierfs.tier says), 6B, policy first, reason 'no workflow attached here': $out"
run sh -c "cd '$mnt/run1' && '$tierctl' where ../a"
grep -Eq "^\.\./a +$xtier " <<<"$out" || fail "where with a relative path from inside the mount: $out $err"
run sh -c "cd '$mnt' && '$tierctl' where . '$mnt/'"
grep -Eq "^\. +[a-z,]+ .*directory" <<<"$out" && grep -Eq "^$mnt/ +[a-z,]+ .*directory" <<<"$out" ||
	fail "where on the mount's root: $out $err"
run "$tierctl" where /etc/hostname
[ $rc -eq 1 ] || fail "where outside any mount exited $rc, expected 1"
grep -q "^tierctl: /etc/hostname is not inside a tierfs mount" <<<"$err" || fail "where outside: no clear message: $err"
run "$tierctl" where "$mnt/missing"
[ $rc -eq 1 ] && grep -q "missing: No such file or directory" <<<"$err" || fail "where on a missing file: rc $rc, $err"
# Paths of two mounts (the prefix trap) and one outside, in one call.
run "$tierctl" where "$mnt/a" "$mnt2/b" /etc/hostname "$mnt2/elsewhere"
[ $rc -eq 1 ] || fail "where with one bad path among good ones exited $rc, expected 1"
grep -Eq "^$mnt/a +mem " <<<"$out" && grep -Eq "^$mnt2/b +mem " <<<"$out" &&
	grep -Eq "^$mnt2/elsewhere +[a-z,]+ .*directory" <<<"$out" ||
	fail "where across two mounts: $out"
run "$tierctl" --json where "$mnt2/b" --mount "$mnt"
[ $rc -eq 1 ] && grep -q "is not inside the mount at $mnt (given with --mount)" <<<"$err" ||
	fail "where of a path outside the --mount mount: rc $rc, $err"
# A name with a newline stays on one line.
touch "$mnt/new"$'\n'"line"
run "$tierctl" where "$mnt/new"$'\n'"line"
[ "$(wc -l <<<"$out")" -eq 2 ] && grep -q 'new\\x0aline' <<<"$out" || fail "a name with a newline broke the table: $out"
# More paths than one request may carry: tierctl batches them.
mkdir "$mnt/many"
long=$(printf 'x%.0s' $(seq 150))
for i in $(seq 600); do : >"$mnt/many/$long-$i"; done
run "$tierctl" --json where "$mnt"/many/*
[ $rc -eq 0 ] || fail "where on 600 long paths exited $rc: $err"
json "len(j['files']) == 600 and all(f.get('tier') == 'mem' for f in j['files']) and j['files'][599]['path'] == 'many/$long-99'" ||
	fail "where on 600 paths (over 64 KiB of request) did not answer each in order"
[ $fails -eq $f0 ] && pass "where shows tier, size, policy and reason, across mounts and in batches"

# --- migrate, pin, unpin ---
f0=$fails
head -c 100000 /dev/urandom >"$root/moved.src"
cp "$root/moved.src" "$mnt/moved"
tier_of() { $py -c "import os,sys; print(os.getxattr(sys.argv[1], 'user.tierfs.tier').decode())" "$1"; }
pin_of() { $py -c "
import os, sys
try:
    print(os.getxattr(sys.argv[1], 'user.tierfs.pin').decode())
except OSError:
    print('-')" "$1"; }
[ "$(tier_of "$mnt/moved")" = mem ] || fail "the file to move did not start on mem"
run "$tierctl" migrate pfs "$mnt/moved"
[ $rc -eq 0 ] && grep -q "^moved $mnt/moved to pfs$" <<<"$out" || fail "migrate pfs: rc $rc, $out $err"
[ "$(tier_of "$mnt/moved")" = pfs ] && [ -f "$root/one/pfs/moved" ] && [ ! -e "$root/one/mem/moved" ] ||
	fail "after migrate the file is not (only) in pfs"
cmp -s "$root/moved.src" "$mnt/moved" || fail "migrate changed the file's content"
run "$tierctl" where "$mnt/moved"
grep -Eq "^$mnt/moved +pfs +98K " <<<"$out" || fail "where after migrate: $out"
run "$tierctl" pin ssd "$mnt/moved"
[ $rc -eq 0 ] && grep -q "^pinned $mnt/moved to ssd$" <<<"$out" || fail "pin ssd: rc $rc, $out $err"
[ "$(tier_of "$mnt/moved")" = ssd ] && [ "$(pin_of "$mnt/moved")" = ssd ] || fail "after pin: tier $(tier_of "$mnt/moved"), pin $(pin_of "$mnt/moved")"
run "$tierctl" unpin "$mnt/moved"
[ $rc -eq 0 ] && [ "$(pin_of "$mnt/moved")" = - ] && [ "$(tier_of "$mnt/moved")" = ssd ] || fail "unpin: rc $rc, pin $(pin_of "$mnt/moved"), $err"
cmp -s "$root/moved.src" "$mnt/moved" || fail "pin changed the file's content"
run "$tierctl" migrate nvme "$mnt/moved"
[ $rc -eq 1 ] && grep -q "^tierctl: $mnt/moved: 'tier' must name a tier of this mount" <<<"$err" || fail "migrate to an unknown tier: rc $rc, $err"
run "$tierctl" --json migrate pfs "$mnt/missing" /etc/hostname "$mnt/moved"
[ $rc -eq 1 ] || fail "migrate with bad paths exited $rc, expected 1"
json "j['ok'] is False and [f['ok'] for f in j['files']] == [False, False, True] and 'not inside a tierfs mount' in j['files'][1]['error']" ||
	fail "migrate --json with bad paths: $out"
[ "$(tier_of "$mnt/moved")" = pfs ] || fail "the good path among bad ones was not moved"
run "$tierctl" pin mem "$mnt/run1"
[ $rc -eq 1 ] && grep -q "^tierctl: $mnt/run1: cannot pin it" <<<"$err" || fail "pinning a directory: rc $rc, $err"
run "$tierctl" --mount "$mnt" status
grep -Eq "^migrator +(running|off); [0-9]+ moves " <<<"$out" || fail "status does not show the migrator: $out"
[ $fails -eq $f0 ] && pass "migrate, pin and unpin move files whole and say why they cannot"

# --- workflows ---
f0=$fails
run sh -c "cd '$wfdir' && '$tierctl' workflow attach '$mnt/run1' pegasus-blackdiamond.dax"
[ $rc -eq 0 ] || fail "workflow attach exited $rc: $err"
run "$tierctl" workflow list --mount "$mnt"
grep -Eq "^run1 +diamond +dax[^ ]* +5 +6 +model +$wfdir/pegasus-blackdiamond.dax$" <<<"$out" || fail "workflow list: $out"
# No model yet: no plan check, and the list says so.
grep -q "^run1: no model loaded: the first policy places its files$" <<<"$out" || fail "workflow list, plan line: $out"
run "$tierctl" --json workflow list --mount "$mnt"
json "len(j['workflows']) == 1 and j['workflows'][0]['dir'] == 'run1' and j['workflows'][0]['file'] == '$wfdir/pegasus-blackdiamond.dax'" ||
	fail "workflow list --json: $out"
run "$tierctl" --mount "$mnt2" workflow list
grep -q "^no workflow attached" <<<"$out" || fail "the other mount lists a workflow: $out"
echo a >"$mnt/run1/f.a"
echo b >"$mnt/run1/f.b1"
echo log >"$mnt/run1/unknown.log"
echo c >"$mnt/f.c1"
run "$tierctl" --json where "$mnt/run1/f.a" "$mnt/run1/f.b1" "$mnt/run1/unknown.log" "$mnt/f.c1"
[ $rc -eq 0 ] || fail "where on workflow files exited $rc: $err"
json "all(f['policy'] == 'first' and f['workflow'] == 'run1' and f['reason'] == 'no model loaded' for f in j['files'][:2])" ||
	fail "files the workflow names lack policy/workflow/reason: $out"
json "j['files'][2]['reason'] == 'the workflow does not name this file' and j['files'][3]['reason'] == 'no workflow attached here'" ||
	fail "unknown files: wrong reason: $out"
run "$tierctl" where "$mnt/run1/unknown.log"
grep -Eq "unknown.log +mem +4B +first +run1 +the workflow does not name this file$" <<<"$out" || fail "where (table) of an unknown file: $out"
run "$tierctl" status --mount "$mnt"
grep -Eq "^run1 +diamond " <<<"$out" || fail "status does not list the attached workflow: $out"
run "$tierctl" workflow attach "$mnt/run1" /etc/hostname
[ $rc -eq 1 ] && grep -q "^tierctl: /etc/hostname: " <<<"$err" || fail "attaching a non-workflow: rc $rc, $err"
run "$tierctl" workflow attach /tmp "$wfdir/pegasus-blackdiamond.dax"
[ $rc -eq 1 ] && grep -q "^tierctl: /tmp is not inside a tierfs mount" <<<"$err" || fail "attach outside the mount: rc $rc, $err"
run "$tierctl" workflow detach "$mnt/run1"
[ $rc -eq 0 ] || fail "workflow detach exited $rc: $err"
run "$tierctl" workflow list --mount "$mnt"
grep -q "^no workflow attached" <<<"$out" || fail "list after detach: $out"
echo c >"$mnt/run1/f.c1"
run "$tierctl" --json where "$mnt/run1/f.c1"
json "j['files'][0]['reason'] == 'no workflow attached here'" || fail "a file created after detach: $out"
run "$tierctl" workflow detach "$mnt/run1"
[ $rc -eq 1 ] && grep -q "no workflow is attached to 'run1'" <<<"$err" || fail "detach twice: rc $rc, $err"
[ $fails -eq $f0 ] && pass "workflow attach, list, placement reasons, detach"

# --- stats and series ---
f0=$fails
run "$tierctl" --mount "$mnt" stats --prometheus
[ $rc -eq 0 ] || fail "stats --prometheus exited $rc: $err"
printf '%s\n' "$out" | $py -c '
import re, sys
sample = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]*(\{[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\"(,[a-zA-Z_][a-zA-Z0-9_]*=\"[^\"]*\")*\})? [-+0-9.eE]+|NaN|[+-]Inf$")
n = 0
tiers = set()
for ln in sys.stdin.read().splitlines():
    if not ln or ln.startswith("#"):
        continue
    if not sample.match(ln):
        sys.exit("not a Prometheus sample line: " + ln)
    float(ln.rsplit(" ", 1)[1])
    tiers.update(re.findall(r"tier=\"([a-z]+)\"", ln))
    n += 1
sys.exit(0 if n and tiers == {"mem", "ssd", "pfs"} else "no samples for the three tiers")
' || fail "stats --prometheus does not parse"
run "$tierctl" --mount "$mnt" --json stats
json "'creates_total' in j and [t['name'] for t in j['tiers']] == ['mem','ssd','pfs']" || fail "stats --json: $out"
run "$tierctl" --mount "$mnt" stats
grep -q '^creates ' <<<"$out" && grep -Eq '^ssd +' <<<"$out" || fail "stats (table): $out"
run "$tierctl" --mount "$mnt" stats --json --prometheus
[ $rc -eq 2 ] || fail "stats --json --prometheus exited $rc, expected 2 (usage)"
run "$tierctl" --mount "$mnt" series
[ $rc -eq 0 ] && head -1 <<<"$out" | grep -q '^time,mem_read_Bps,' || fail "series: no CSV header: $(head -c 200 <<<"$out")"
run "$tierctl" --mount "$mnt" series -o "$root/series.csv"
[ $rc -eq 0 ] && head -1 "$root/series.csv" | grep -q '^time,' || fail "series -o FILE: rc $rc"
[ $fails -eq $f0 ] && pass "stats (Prometheus parses, JSON, table) and series"

# --- reload ---
f0=$fails
run "$tierctl" --mount "$mnt" reload
[ $rc -eq 1 ] && grep -q "^tierctl: no model configured (model = in $root/one/tierfs.conf); the old model stays" <<<"$err" ||
	fail "reload without a model: rc $rc, $err"
echo still >"$mnt/after-reload" && [ "$(cat "$mnt/after-reload")" = still ] || fail "the mount stopped working after a failed reload"
run "$tierctl" --mount "$mnt" reload --model /etc/hostname
[ $rc -eq 1 ] && grep -q "/etc/hostname.*the old model stays" <<<"$err" || fail "reload of a bad model: rc $rc, $err"
run "$tierctl" --mount "$mnt" reload --model "$model"
[ $rc -eq 0 ] && grep -q "^model reloaded from $model" <<<"$out" || fail "reload --model $model: rc $rc, $err"
run "$tierctl" --mount "$mnt" status
grep -q '^policy  *learned (fallback first)' <<<"$out" && grep -q "^model  *$model" <<<"$out" || fail "status after reload: $out"
run "$tierctl" workflow attach "$mnt/run1" "$wfdir/pegasus-blackdiamond.dax"
echo d >"$mnt/run1/f.d"
run "$tierctl" --json where "$mnt/run1/f.d"
json "j['files'][0]['policy'] == 'learned' and abs(sum(j['files'][0]['probabilities'].values()) - 1) < 0.01 and j['files'][0]['tier'] in j['files'][0]['probabilities']" ||
	fail "a learned decision without probabilities: $out"
run "$tierctl" where "$mnt/run1/f.d"
grep -Eq "f\.d +[a-z]+ +2B +learned +run1 +mem=[0-9.]+ ssd=[0-9.]+ pfs=[0-9.]+ " <<<"$out" || fail "where (table) of a learned decision: $out"
[ $fails -eq $f0 ] && pass "reload: refusals keep the mount working; a model loads and where shows its probabilities"

# --- hostile requests, raw on the socket ---
f0=$fails
sock=$($py -c "import os,sys; print(os.getxattr(sys.argv[1], 'user.tierfs.socket').decode())" "$mnt")
[ "$(stat -c %a "$sock")" = 600 ] || fail "the socket $sock is mode $(stat -c %a "$sock"), expected 600"
before=$(cd "$root/one" && find mem ssd pfs | sort | md5sum)
run "$tierctl" --json --mount "$mnt" workflow list
wf_before=$out
$py - "$sock" "$wfdir/pegasus-blackdiamond.dax" <<'PY' || fail "a hostile request was not refused"
import json, socket, sys
sock, wf = sys.argv[1], sys.argv[2]
def ask(raw):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock)
    try:
        s.sendall(raw)
    except (BrokenPipeError, ConnectionResetError):
        pass
    s.shutdown(socket.SHUT_WR)
    data = b""
    while True:
        b = s.recv(65536)
        if not b:
            break
        data += b
    s.close()
    return json.loads(data)
bad = 0
def refused(name, raw, why):
    global bad
    r = ask(raw)
    if r.get("ok") is not False or why not in r.get("error", ""):
        print("not refused as expected (%s): %r" % (name, r))
        bad += 1
    else:
        print("refused (%s): %s" % (name, r["error"]))
refused("attach outside", json.dumps({"cmd": "attach", "dir": "../../..", "workflow": wf}).encode() + b"\n", "inside the mount")
refused("attach absolute", json.dumps({"cmd": "attach", "dir": "/etc", "workflow": wf}).encode() + b"\n", "inside the mount")
refused("detach outside", json.dumps({"cmd": "detach", "dir": "run1/../.."}).encode() + b"\n", "inside the mount")
refused("relative model", json.dumps({"cmd": "reload", "model": "../x.json"}).encode() + b"\n", "absolute")
refused("malformed JSON", b'{"cmd": "status", \n', "not a JSON object")
refused("not an object", b'["status"]\n', "not a JSON object")
refused("no cmd", b'{"paths": []}\n', "no \"cmd\"")
refused("migrate outside", json.dumps({"cmd": "migrate", "path": "../../etc/passwd", "tier": "mem"}).encode() + b"\n", "inside the mount")
refused("pin absolute", json.dumps({"cmd": "pin", "path": "/etc/passwd", "tier": "mem"}).encode() + b"\n", "inside the mount")
refused("unknown cmd", b'{"cmd": "rm -rf"}\n', "unknown command")
refused("over 64 KiB", json.dumps({"cmd": "where", "paths": ["a" * 70000]}).encode() + b"\n", "larger than")
r = ask(json.dumps({"cmd": "where", "paths": ["../../../etc/passwd", "/etc/passwd"]}).encode() + b"\n")
if not all(f.get("error") == "not a path inside the mount" and "tier" not in f for f in r.get("files", [0])):
    print("where outside the mount answered: %r" % r)
    bad += 1
sys.exit(bad)
PY
run "$tierctl" --json --mount "$mnt" workflow list
[ "$out" = "$wf_before" ] || fail "the workflows changed after hostile requests: $out"
[ "$(cd "$root/one" && find mem ssd pfs | sort | md5sum)" = "$before" ] || fail "the tiers changed after hostile requests"
echo alive >"$mnt/alive" && [ "$(cat "$mnt/alive")" = alive ] || fail "the mount stopped working after hostile requests"
run "$tierctl" --mount "$mnt" status
[ $rc -eq 0 ] || fail "status after hostile requests exited $rc: $err"
[ $fails -eq $f0 ] && pass "hostile requests refused, nothing changed"

# --- another user ---
if [ "$(id -u)" -eq 0 ] && command -v setpriv >/dev/null; then
	f0=$fails
	as_nobody() { setpriv --reuid=65534 --regid=65534 --clear-groups --reset-env "$@"; }
	as_nobody $py -c "
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
try:
    s.connect(sys.argv[1])
except PermissionError:
    sys.exit(0)
sys.exit('uid 65534 could connect to the 0600 socket')" "$sock" || fail "another user reached the socket"
	# Opened up by hand, the daemon still refuses a peer that is not its user.
	chmod 0711 "$root/one" "$root/one/state"
	chmod 0666 "$sock"
	reply=$(as_nobody $py -c "
import socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(sys.argv[1])
try:
    s.sendall(b'{\"cmd\":\"detach\",\"dir\":\"run1\"}\n')
except BrokenPipeError:
    pass  # refused before the daemon read: the reply is waiting
print(s.recv(4096).decode())" "$sock")
	chmod 0600 "$sock"
	chmod 0700 "$root/one/state"
	grep -q '"ok":false' <<<"$reply" && grep -q "only the mount's owner" <<<"$reply" || fail "the daemon served uid 65534: $reply"
	run "$tierctl" --json --mount "$mnt" workflow list
	[ "$out" = "$wf_before" ] || fail "uid 65534 changed the workflows: $out"
	run as_nobody "$tierctl" --mount "$mnt" status
	[ $rc -eq 1 ] && grep -q "^tierctl: --mount.*$mnt.*Permission denied (the .*mount.* lets in only the user who mounted it)" <<<"$err" ||
		fail "tierctl as uid 65534: rc $rc, $err"
	run as_nobody "$tierctl" where "$mnt/a"
	[ $rc -eq 1 ] && grep -q "^tierctl: .*$mnt.*Permission denied (the .*mount.* lets in only the user who mounted it)" <<<"$err" ||
		fail "tierctl where as uid 65534: rc $rc, $err"
	[ $fails -eq $f0 ] && pass "another user cannot use the socket"
else
	echo "note: not root or no setpriv: the other-user check is left out"
fi

# --- usage and help (same table as the man page) ---
f0=$fails
for args in "bogus" "where" "migrate pfs" "unpin" "status extra" "status --frob" "workflow" "workflow frob" "series -o" "reload --model"; do
	# shellcheck disable=SC2086
	run "$tierctl" $args
	[ $rc -eq 2 ] && grep -q "^tierctl: \|^Usage: tierctl" <<<"$err" || fail "'tierctl $args' exited $rc (expected 2) with: $err"
done
for c in status where migrate pin unpin stats series "workflow attach" "workflow detach" "workflow list" reload help; do
	# shellcheck disable=SC2086
	run "$tierctl" $c --help
	[ $rc -eq 0 ] && grep -q "^Usage: tierctl \[--mount DIR\] \[--json\] $c" <<<"$out" || fail "'tierctl $c --help': rc $rc: $out"
	grep -q "^\\\\fB${c/ / }\\\\fR" "$manpage" || fail "the man page has no entry for '$c'"
done
[ -z "$(groff -man -ww -z "$manpage" 2>&1)" ] || fail "groff warns about $manpage: $(groff -man -ww -z "$manpage" 2>&1)"
[ $fails -eq $f0 ] && pass "usage errors exit 2; every command has --help and a man page entry"

# --- a daemon that died (last: it takes the second mount away) ---
f0=$fails
kill -9 "${pids[1]}"
wait "${pids[1]}" 2>/dev/null
run "$tierctl" where "$mnt2/b"
[ $rc -eq 1 ] && grep -q "^tierctl: .*$mnt2.*Transport endpoint is not connected (.*daemon.* is gone; unmount it with fusermount3 -u)" <<<"$err" ||
	fail "where on a mount whose daemon died: rc $rc, $err"
run "$tierctl" where "$mnt/a"
[ $rc -eq 0 ] || fail "the first mount is not usable once the second one's daemon died: $err"
[ $fails -eq $f0 ] && pass "a dead daemon is named as such"

if [ $fails -ne 0 ]; then
	echo "--- daemon log ---"
	cat "$root/one/log"
	echo "FAIL: $fails check(s)"
	exit 1
fi
echo "PASS"
