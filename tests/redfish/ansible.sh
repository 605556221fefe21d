#!/bin/bash
# Ansible (Debian's ansible: community.general.redfish_info / redfish_command, and
# ansible.builtin.uri) drives bmc-sim --redfish: inventory, SimpleUpdate watched to the end,
# a multipart push; both images land in the flash byte for byte (tests/redfish/ansible.yml).
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../integration/lib.sh"
command -v ansible-playbook >/dev/null || { echo "no ansible-playbook (apt-get install ansible)"; exit 77; }
cd "$T_DIR" || exit 1
flash="$T_DIR/flash"
echo "fleet:$(openssl passwd -6 'fleet pw')" >users
mkdir www
make_image www/img1 $((2 << 20))
make_image img2 $((3 << 20))
start_bmc an "$flash" --redfish 0 --redfish-users users
for _ in $(seq 50); do grep -q "Redfish at" bmc.err 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*Redfish at https:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' bmc.err)
[ -n "$port" ] || { cat bmc.err; not_ok "bmc-sim --redfish starts"; exit 1; }
"$FWPUSH" push img2 --target "$WINDOW" -q	# something active to list first
python3 "$here/../integration/http_server.py" www --lifetime 120 >srv.port 2>srv.err &
srv=$!
for _ in $(seq 50); do [ -s srv.port ] && break; sleep 0.1; done
echo "# ansible $(dpkg-query -W -f='${Version}' ansible 2>/dev/null), ansible-core $(dpkg-query -W -f='${Version}' ansible-core 2>/dev/null)"
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_INVENTORY_UNPARSED_WARNING=false \
	ANSIBLE_HOME="$T_DIR/.ansible" ANSIBLE_NOCOLOR=1
# ansible's own redfish_utils talks HTTPS without checking the certificate (validate_certs
# is not an option of these modules in community.general 6); uri is told the same.
ansible-playbook -i localhost, -c local "$here/ansible.yml" \
	-e "bmc=https://127.0.0.1:$port user=fleet" -e "password='fleet pw'" \
	-e "image_url=http://127.0.0.1:$(head -1 srv.port)/img1" \
	-e "image_hash=$(xxhsum -H2 www/img1 | cut -d' ' -f1) push_file=$T_DIR/img2" >play.out 2>&1
rc=$?
check "the playbook passes (inventory, SimpleUpdate + GetUpdateStatus, multipart push)" test "$rc" = 0
[ "$rc" = 0 ] || tail -30 play.out
check "the flash holds the pushed image byte for byte" cmp -s "$flash" img2
check "the inactive bank holds SimpleUpdate's image" cmp -s "$(inactive_bank "$flash")" www/img1
kill "$srv" 2>/dev/null
stop_bmc
echo "$T_CHECKS checks, $T_FAILS failed"
[ "$T_FAILS" -eq 0 ]
