#!/usr/bin/env bash
# The command's own surface: help, version, and the main job with its JSON.
. "$(dirname "$0")/lib.sh"

check "--help lists the exit codes" sh -c "'$FWPUSH' --help | grep -q 'timeout: the BMC made no progress'"
check "help push" sh -c "'$FWPUSH' help push | grep -q -- '--chunk-size'"
check "help bmc-sim" sh -c "'$FWPUSH' help bmc-sim | grep -q -- '--flash'"
check "--version" sh -c "'$FWPUSH' --version | grep -q '^fwpush [0-9]'"
expect_fail "help for an unknown command" 2 "unknown command" "$FWPUSH" help nope

# One table of commands (tools/fwpush.c) drives --help, help COMMAND and dispatch: every command
# --help lists has its own usage. A name is its synopsis's leading lower-case words.
"$FWPUSH" --help >"$T_DIR/help.txt"
commands=$(python3 -c '
import re, sys
text = open(sys.argv[1]).read().split(" Commands:\n", 1)[1].split("\n\n", 1)[0]
for line in text.splitlines():
    words = re.split(r" {2,}", line.strip())[0].split()
    print(" ".join(w for w in words[:2] if re.fullmatch(r"[a-z][a-z-]*", w)))
' "$T_DIR/help.txt")
check "--help lists 9 commands" [ "$(echo "$commands" | wc -l)" -eq 9 ]
while read -r cmd; do
	# shellcheck disable=SC2086
	check "help $cmd: its usage, then the exit codes" sh -c '"$0" help $1 >"$2" &&
		head -1 "$2" | grep -q "^usage: fwpush $1\( \|$\)" && grep -q "^Exit codes:" "$2"' \
		"$FWPUSH" "$cmd" "$T_DIR/help-cmd.txt"
done <<<"$commands"

# One exit-code table (tools/cli.c) drives --help's exit codes and the man page's EXIT STATUS;
# the README's "Exit codes" table must say the same: every code, its meaning word for word.
check "the README's exit codes are --help's, code for code and meaning for meaning" python3 -c '
import re, sys
readme, helptext = open(sys.argv[1]).read(), open(sys.argv[2]).read()
rows = readme.split("\n## Exit codes\n", 1)[1].split("| code |", 1)[1].split("\n\n", 1)[0]
want = {int(m[1]): m[2] for m in re.finditer(r"^\| *(\d+) *\| *(.*?) *\|", rows, re.M)}
got = {int(m[1]): m[2] for m in
       re.finditer(r"^ *(\d+)  (.*)$", helptext.split("\nExit codes:\n", 1)[1], re.M)}
for code in sorted(set(want) | set(got)):
    if want.get(code) != got.get(code):
        print("       exit %d: README says %r, --help says %r" % (code, want.get(code), got.get(code)))
sys.exit(0 if want == got and len(got) > 2 else 1)
' "$(dirname "$0")/../../README.md" "$T_DIR/help.txt"

# The man page fwpush(1), built from the same tables where scdoc is installed (meson -Dman=auto):
# it renders without a warning and has every command (its synopsis, summary and usage) and every
# exit code with its meaning.
man_page() {
	python3 - "$FWPUSH" "$T_DIR/help.txt" "$commands" <<'PY'
import json, os, re, shutil, subprocess, sys
fwpush, helpfile, commands = sys.argv[1], sys.argv[2], sys.argv[3].splitlines()
build = os.path.dirname(fwpush)
page = os.path.join(build, "fwpush.1")
def info(name):
    try:
        return json.load(open(os.path.join(build, "meson-info", name)))
    except OSError:
        return []
man_opt = [o["value"] for o in info("intro-buildoptions.json") if o["name"] == "man"]
if "fwpush.1" not in [t["name"] for t in info("intro-targets.json")]:
    if shutil.which("scdoc") and man_opt != ["disabled"]:
        sys.exit("       scdoc is installed, but this build makes no fwpush.1 "
                 "(configured before it was? meson setup --reconfigure)")
    print("       (no scdoc here, or -Dman=disabled: no man page to check)")
    sys.exit(0)
if not os.path.isfile(page):
    sys.exit("       %s: not built" % page)
env = dict(os.environ, MANWIDTH="250", MANPAGER="cat", LC_ALL="C.UTF-8")
if shutil.which("man"):
    render = ["man", "--warnings", "-l", page]
elif shutil.which("groff"):
    render = ["groff", "-man", "-Tutf8", "-ww", "-rLL=250n", page]
else:
    print("       (neither man nor groff here: %s not rendered)" % page)
    sys.exit(0)
r = subprocess.run(render, env=env, capture_output=True, text=True)
if r.returncode or r.stderr.strip():
    sys.exit("       %s: exit %d: %s" % (" ".join(render), r.returncode, r.stderr.strip()))
text = r.stdout.translate({0x2010: "-", 0x2011: "-", 0x2212: "-", 0x2018: "'", 0x2019: "'"})
text = " " + " ".join(text.split()) + " "
helptext = open(helpfile).read()
listed = [re.split(r" {2,}", l.strip()) for l in
          helptext.split(" Commands:\n", 1)[1].split("\n\n", 1)[0].splitlines()]
exits = re.findall(r"^ *(\d+)  (.*)$", helptext.split("\nExit codes:\n", 1)[1], re.M)
missing = ["command %s: %s" % (c, line) for c, line in zip(commands, listed)
           if " fwpush %s usage: fwpush %s " % (" ".join(line), c) not in text]
missing += ["exit %s %s" % e for e in exits
            if not re.search(r" %s \([a-z]+\) %s " % (e[0], re.escape(e[1])), text)]
for m in missing:
    print("       %s: not in the rendered page" % m)
sys.exit(1 if missing or len(exits) < 3 or len(listed) != len(commands) else 0)
PY
}
check "fwpush.1: renders, names every command and every exit code" man_page

# The main job, small: its figures must keep the promises they make of each other (computed here
# from the other figures of the same run), and the text, bench.md and bench.json of one run must
# carry the same numbers. The flash checks and the sweep are in bench.sh.
#
# bench ARGS...: fwpush --bench, its pid (exec keeps it) added to $T_DIR/pids for leftovers():
# what a bench of ours left, named with its pid, so benches of other tests running beside do
# not count.
bench() { sh -c 'echo $$ >>"$0"; exec "$@"' "$T_DIR/pids" "$FWPUSH" --bench "$@"; }
leftovers() {
	local p
	for p in $(cat "$T_DIR/pids"); do
		ls -d /dev/shm/fwpush-bench-"$p"-* "${TMPDIR:-/tmp}"/fwpush-bench-"$p"-* 2>/dev/null
	done
}
size=$((8 << 20)) scale=0.001 rss=64
mkdir "$T_DIR/report" "$T_DIR/report2"
bench --size $size --runs 2 --nor-scale $scale --rss-size ${rss}M \
	--report "$T_DIR/report" >"$T_DIR/bench.txt"; rc=$?
check "--bench --report DIR exits 0 (exit $rc)" [ "$rc" -eq 0 ]
json="$T_DIR/report/bench.json"

# holds DESCRIPTION EXPR: the Python expression EXPR is true, where v maps each figure of the
# run's bench.json to its value and x to its note. Figures are printed to 4 significant digits
# (each off by up to 5e-4 of itself), so a relation between three of them holds to 2e-3 (near()).
holds() {
	check "$1" python3 -c '
import json, math, sys
d = json.load(open(sys.argv[1]))
v = {e["name"]: e["value"] for e in d}
x = {e["name"]: e.get("extra", "") for e in d}
def near(a, b, rel=2e-3):
    return math.isclose(a, b, rel_tol=rel)
try:
    ok = eval(sys.argv[2])
except Exception as e:
    ok = False
    print("       %s: %s" % (type(e).__name__, e))
if not ok:
    print("       false: %s" % sys.argv[2])
    print("       figures: %s" % v)
sys.exit(0 if ok else 1)' "$json" "$2"
}
holds "bench.json: a list of {name, unit, value}, each figure once" \
	'all(set(e) >= {"name", "unit", "value"} for e in d) and len(v) == len(d)'
holds "bench.json: every figure the dashboards read, in its unit" '[(e["name"], e["unit"]) for e in d] == [
	("memcpy.gbps", "GB/s"), ("push.stopwait.gbps", "GB/s"), ("push.anchor.gbps", "GB/s"),
	("push.emulated.gbps", "GB/s"), ("push.emulated.ms", "ms"), ("push.ratio_memcpy", "ratio"),
	("push.ratio_stopwait", "ratio"), ("push.ratio_anchor", "ratio"),
	("push.nor.seconds", "s"), ("push.nor.flash_seconds", "s"), ("push.nor.ratio_flash", "ratio"),
	("delta.ratio_0", "ratio"), ("delta.ratio_10", "ratio"), ("delta.ratio_50", "ratio"),
	("push.rss_mib", "MiB"), ("push.rss_start_mib", "MiB"), ("push.rss_base_mib", "MiB"),
	("push.rss_added_mib", "MiB")]'
holds "throughputs are positive" \
	'min(v["memcpy.gbps"], v["push.stopwait.gbps"], v["push.anchor.gbps"], v["push.emulated.gbps"]) > 0'
holds "push.ratio_memcpy = push.emulated.gbps / memcpy.gbps" \
	'near(v["push.ratio_memcpy"], v["push.emulated.gbps"] / v["memcpy.gbps"])'
holds "push.ratio_stopwait = push.emulated.gbps / push.stopwait.gbps" \
	'near(v["push.ratio_stopwait"], v["push.emulated.gbps"] / v["push.stopwait.gbps"])'
holds "push.ratio_anchor = push.emulated.gbps / push.anchor.gbps" \
	'near(v["push.ratio_anchor"], v["push.emulated.gbps"] / v["push.anchor.gbps"])'
holds "push.emulated.ms = the image size / push.emulated.gbps" \
	"near(v['push.emulated.ms'], $size / v['push.emulated.gbps'] / 1e6)"
holds "the default push says it was verified byte for byte" \
	'x["push.emulated.gbps"] == "4 slots x 256 KiB, verified byte for byte"'
# The NOR model's own time: 64 KiB sectors erased in 160 ms each, programmed at 2 MB/s, scaled.
holds "push.nor.flash_seconds = (sectors x 160 ms + size / 2 MB/s) x $scale" \
	"near(v['push.nor.flash_seconds'], (-(-$size // 65536) * 0.160 + $size / 2e6) * $scale, 1e-3)"
holds "the NOR note names the model that ran" \
	"x['push.nor.seconds'] == '64K sectors, 160 ms erase, 2 MB/s program, 8M buffer, time x $scale'"
holds "push.nor.ratio_flash = push.nor.seconds / push.nor.flash_seconds" \
	'near(v["push.nor.ratio_flash"], v["push.nor.seconds"] / v["push.nor.flash_seconds"])'
holds "the NOR push takes at least the part's own time" \
	'v["push.nor.seconds"] >= v["push.nor.flash_seconds"] * 0.998'
holds "the RSS figures are positive and below the ${rss} MiB image" \
	"all(0 < v[k] < $rss for k in ('push.rss_mib', 'push.rss_start_mib', 'push.rss_base_mib'))"
holds "push.rss_added_mib = push.rss_mib - push.rss_base_mib" \
	'(abs(v["push.rss_added_mib"] - (v["push.rss_mib"] - v["push.rss_base_mib"])) <=
	  1e-3 * (v["push.rss_mib"] + v["push.rss_base_mib"]))'
holds "the ${rss} MiB image adds less than 1/16 of itself over a 4 KiB one" \
	"abs(v['push.rss_added_mib']) < $rss / 16"
holds "the process start is no more than a push's peak" \
	'v["push.rss_start_mib"] <= v["push.rss_base_mib"] + 0.5'

# same_numbers FILE KIND: FILE (the text table or bench.md) has the figures of bench.json, in
# order, with the same values, units and notes, under a header naming the size and the runs.
same_numbers() {
	python3 -c '
import json, re, sys
d = json.load(open(sys.argv[1]))
text = open(sys.argv[2]).read()
if sys.argv[3] == "md":
    head = "8 MiB image, median of 2 runs per kind."
    rows = [[c.strip() for c in l.strip().strip("|").split("|")]
            for l in text.splitlines() if l.startswith("| ") and not l.startswith("| measurement")]
    rows = [(r[0], float(r[1].split()[0]), r[1].split()[1], r[2]) for r in rows]
else:
    head = "fwpush bench: 8 MiB image, median of 2 runs per kind"
    rows = [re.match(r"  (\S+) +(\S+) (\S+) *(.*)$", l).groups()
            for l in text.splitlines()[2:]]
    rows = [(r[0], float(r[1]), r[2], r[3].strip()) for r in rows]
want = [(e["name"], e["value"], e["unit"], e.get("extra", "")) for e in d]
if head not in text or rows != want:
    print("       header %s: %s" % (head, head in text))
    for r, w in zip(rows + [None] * len(want), want + [None] * len(rows)):
        if r != w:
            print("       %s vs bench.json %s" % (r, w))
    sys.exit(1)' "$json" "$1" "$2"
}
check "the text output carries bench.json's numbers" same_numbers "$T_DIR/bench.txt" text
check "bench.md carries bench.json's numbers" same_numbers "$T_DIR/report/bench.md" md

# --json on stdout and --report into another directory: one run, the same list.
bench --size 1M --runs 1 --nor-scale 0 --delta-scale 0 --rss-size 0 --json \
	--report "$T_DIR/report2" >"$T_DIR/bench.json"; rc=$?
check "--bench --json --report exits 0 (exit $rc)" [ "$rc" -eq 0 ]
check "--json on stdout equals the --report's bench.json, NOR, delta and RSS skipped" python3 -c '
import json, sys
out, rep = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
names = [e["name"] for e in out]
assert out == rep, (out, rep)
assert names == ["memcpy.gbps", "push.stopwait.gbps", "push.anchor.gbps", "push.emulated.gbps",
                 "push.emulated.ms", "push.ratio_memcpy", "push.ratio_stopwait",
                 "push.ratio_anchor"], names
' "$T_DIR/bench.json" "$T_DIR/report2/bench.json"
check "--bench removed everything it made" [ -z "$(leftovers)" ]

# list: read from a sysfs tree made here, one ivshmem-like device bound to vfio-pci and a
# device with I/O ports only (never listed: no window fits in it).
sys="$T_DIR/sys" && mkdir -p "$sys/0000:00:10.0" "$sys/0000:00:1f.0" "$sys/not-a-device"
printf '0x1af4\n' >"$sys/0000:00:10.0/vendor"; printf '0x1110\n' >"$sys/0000:00:10.0/device"
printf '0x050000\n' >"$sys/0000:00:10.0/class"
printf '0xfea00000 0xfea000ff 0x40200\n0 0 0\n0x800000000 0x8003fffff 0x14220c\n' \
	>"$sys/0000:00:10.0/resource"
ln -s ../../../bus/pci/drivers/vfio-pci "$sys/0000:00:10.0/driver"
ln -s ../../../kernel/iommu_groups/5 "$sys/0000:00:10.0/iommu_group"
printf '0xc000 0xc01f 0x40101\n' >"$sys/0000:00:1f.0/resource"
check "list: the device, its BARs, and the target that reaches it" python3 -c '
import json, sys
d = json.loads(sys.argv[1])
assert [x["bdf"] for x in d] == ["0000:00:10.0"], d
x = d[0]
assert (x["vendor"], x["device"], x["driver"], x["iommu_group"]) == ("1af4", "1110", "vfio-pci", 5)
assert [(b["index"], b["size"], b["prefetchable"]) for b in x["bars"]] == [(0, 256, False), (2, 4 << 20, True)]
assert x["target"] == "vfio:0000:00:10.0,bar=2", x["target"]
' "$("$FWPUSH" list --json --sysfs "$sys")"
check "list: a table with a header" bash -c '"$1" list --sysfs "$2" | grep -q "^0000:00:10.0  1af4:1110 .*vfio:0000:00:10.0,bar=2$"' _ "$FWPUSH" "$sys"
expect_fail "list: a sysfs directory that is not there" 1 "list: .*No such file" \
	"$FWPUSH" list --sysfs "$T_DIR/nope"
expect_fail "vfio: no such device" 4 "no PCI device ffff:ff:1f.7" \
	"$FWPUSH" push "$T_DIR/bench.json" --target vfio:ffff:ff:1f.7,bar=2
expect_fail "vfio: malformed BDF" 4 "malformed" \
	"$FWPUSH" push "$T_DIR/bench.json" --target vfio:00:40.0
expect_fail "pci: bar out of range" 4 "malformed" \
	"$FWPUSH" push "$T_DIR/bench.json" --target pci:00:01.0,bar=6
done_testing
