#!/bin/bash
# fwupd's redfish plugin (fwupdtool, from Debian) against bmc-sim --redfish: it lists the BMC's
# firmware with the version the inventory gives, and installs an image through it (multipart
# push, then the task), which lands in the flash byte for byte.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../integration/lib.sh"
command -v fwupdtool >/dev/null || { echo "no fwupdtool (apt-get install fwupd)"; exit 77; }
cd "$T_DIR" || exit 1
flash="$T_DIR/flash"
echo "fleet:$(openssl passwd -6 'fleet pw')" >users
make_image img1 $((2 << 20))
make_image img2 $((3 << 20))
start_bmc fw "$flash" --redfish 0 --redfish-users users
for _ in $(seq 50); do grep -q "Redfish at" bmc.err 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*Redfish at https:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' bmc.err)
[ -n "$port" ] || { cat bmc.err; not_ok "bmc-sim --redfish starts"; exit 1; }
check "a first image through the window" "$FWPUSH" push img1 --target "$WINDOW" -q
# fwupd reads FWUPD_SYSCONFDIR/fwupd/fwupd.conf: the BMC's address and credentials.
mkdir fwupd
printf '[fwupd]\n[redfish]\nUri=https://127.0.0.1:%s\nUsername=fleet\nPassword=fleet pw\nCACheck=false\n' \
	"$port" >fwupd/fwupd.conf
chmod 640 fwupd/fwupd.conf
fwt() { timeout 120 env FWUPD_SYSCONFDIR="$T_DIR" fwupdtool --plugins redfish "$@"; }
echo "# fwupd $(dpkg-query -W -f='${Version}' fwupd 2>/dev/null)"
fwt get-devices --json >devices.json 2>fwupd.err
dev() { python3 -c "
import json; d=[x for x in json.load(open('devices.json'))['Devices'] if x['Name'].endswith('(active bank)')]
print(d[0].get('$1', '') if d else '')"; }
h1=$(xxhsum -H2 img1 | cut -d' ' -f1)
check "fwupd lists the BMC image, version xxh3-${h1:0:16}" test "$(dev Version)" = "xxh3-${h1:0:16}"
check "fwupd sees it updatable" python3 -c "
import json; d=[x for x in json.load(open('devices.json'))['Devices'] if x['Name'].endswith('(active bank)')]
assert 'updatable' in d[0]['Flags']"
id=$(dev DeviceId)
fwt install-blob img2 "$id" --no-reboot-check --verbose >install.out 2>&1
check "fwupdtool install-blob succeeds" grep -q "UpdateState: *success" install.out
check "the flash holds fwupd's image byte for byte" cmp -s "$flash" img2
fwt get-devices --json >devices.json 2>fwupd.err
h2=$(xxhsum -H2 img2 | cut -d' ' -f1)
check "fwupd then reports the new version" test "$(dev Version)" = "xxh3-${h2:0:16}"
stop_bmc
echo "$T_CHECKS checks, $T_FAILS failed"
[ "$T_FAILS" -eq 0 ]
