#!/usr/bin/env bash
# The command's own surface: help, version, and the main job with its JSON.
. "$(dirname "$0")/lib.sh"

check "--help lists the exit codes" sh -c "'$FWPUSH' --help | grep -q 'timeout: the BMC made no progress'"
check "help push" sh -c "'$FWPUSH' help push | grep -q -- '--chunk-size'"
check "help bmc-sim" sh -c "'$FWPUSH' help bmc-sim | grep -q -- '--flash'"
check "--version" sh -c "'$FWPUSH' --version | grep -q '^fwpush [0-9]'"
expect_fail "help for an unknown command" 2 "unknown command" "$FWPUSH" help nope

leftovers() { ls -d /dev/shm/fwpush-bench-* "${TMPDIR:-/tmp}"/fwpush-bench-* 2>/dev/null | sort; }
before=$(leftovers)
"$FWPUSH" --bench --size 8M --runs 2 --nor-scale 0.001 --rss-size 64M >"$T_DIR/bench.txt"
check "--bench prints the push line" grep -q "push.emulated.gbps" "$T_DIR/bench.txt"
"$FWPUSH" --bench --size 8M --runs 2 --nor-scale 0.001 --rss-size 64M --json \
	--report "$T_DIR" >"$T_DIR/bench.json"
check "--bench --json: every figure the dashboards read, and sane" python3 -c '
import json, sys
d = json.load(open(sys.argv[1]))
assert all(set(e) >= {"name", "unit", "value"} for e in d)
v = {e["name"]: e["value"] for e in d}
for k in ("memcpy.gbps", "push.stopwait.gbps", "push.emulated.gbps", "push.ratio_memcpy",
          "push.ratio_stopwait", "push.nor.ratio_flash", "push.rss_mib"):
    assert v[k] > 0, k
assert v["push.nor.ratio_flash"] >= 0.99, v["push.nor.ratio_flash"]
assert v["push.rss_mib"] < 64, v["push.rss_mib"]
assert json.load(open(sys.argv[2])) == d
' "$T_DIR/bench.json" "$T_DIR/bench.json"
check "--report wrote bench.md" grep -q "| push.emulated.gbps |" "$T_DIR/bench.md"
check "--bench removed everything it made" [ "$(leftovers)" = "$before" ]

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
