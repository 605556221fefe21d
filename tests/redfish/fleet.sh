#!/bin/bash
# The fleet rollout (deploy/ansible/rollout.yml) against 8 bmc-sims on loopback, batches of 2.
# One BMC requires signatures (--pubkey) and the image is unsigned, so its update fails:
# in the last batch, exactly the other 7 are updated; in the second batch, the rollout stops
# there: the first batch and its batch-mate are updated, the two batches after it untouched.
# Also times the rollout to 8 against one BMC alone.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../integration/lib.sh"
command -v ansible-playbook >/dev/null || { echo "no ansible-playbook (apt-get install ansible)"; exit 77; }
cd "$T_DIR" || exit 1
PIDS=()
trap 'kill "${PIDS[@]}" 2>/dev/null; wait 2>/dev/null; t_cleanup' EXIT
echo "fleet:$(openssl passwd -6 'fleet pw')" >users
"$FWPUSH" keygen --out key >/dev/null
make_image img1 $((2 << 20))
make_image img2 $((2 << 20))
export ANSIBLE_LOCALHOST_WARNING=false ANSIBLE_HOME="$T_DIR/.ansible" ANSIBLE_NOCOLOR=1 \
	ANSIBLE_HOST_KEY_CHECKING=false

# fleet STRICT: 8 fresh BMCs, BMC number STRICT requiring signatures; writes inventory.yml.
fleet() {
	local i port extra
	kill "${PIDS[@]}" 2>/dev/null
	wait 2>/dev/null
	PIDS=()
	rm -rf flash* ./*.err
	printf 'bmcs:\n  hosts:\n' >inventory.yml
	for i in 0 1 2 3 4 5 6 7; do
		extra=()
		[ "$i" = "$1" ] && extra=(--pubkey key.pub)
		"$FWPUSH" bmc-sim --window "shm:$T_NAME-$i" --flash "flash$i" --quiet \
			--redfish 0 --redfish-users users "${extra[@]}" 2>"bmc$i.err" &
		PIDS+=($!)
	done
	for i in 0 1 2 3 4 5 6 7; do
		for _ in $(seq 100); do grep -q "Redfish at" "bmc$i.err" && break; sleep 0.1; done
		port=$(sed -n 's/.*Redfish at https:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' "bmc$i.err")
		printf '    bmc%s: { redfish_uri: "https://127.0.0.1:%s" }\n' "$i" "$port" >>inventory.yml
	done
	printf '  vars:\n    redfish_user: fleet\n    redfish_password: fleet pw\n' >>inventory.yml
}
# rollout IMAGE [ansible-playbook args]: exit status of the play; time in $ms.
rollout() {
	local img=$1 t0 rc; shift
	t0=$(date +%s%N)
	ansible-playbook -i inventory.yml "$here/../../deploy/ansible/rollout.yml" -e batch=2 \
		-e "image=$T_DIR/$img" -e "image_hash=$(xxhsum -H2 "$img" | cut -d' ' -f1)" "$@" \
		>play.out 2>&1
	rc=$?
	ms=$((($(date +%s%N) - t0) / 1000000))
	return $rc
}
# updated IMAGE: the BMCs whose active image is IMAGE, as "0 1 2 ...".
updated() {
	local i out=
	for i in 0 1 2 3 4 5 6 7; do cmp -s "flash$i" "$1" && out="$out $i"; done
	echo "${out# }"
}
echo "# ansible-core $(dpkg-query -W -f='${Version}' ansible-core 2>/dev/null)"

fleet 7
rollout img1 && rc=0 || rc=$?
check "a failing BMC in the last batch: the rollout fails (exit $rc)" test "$rc" != 0
check "exactly the other 7 are updated ($(updated img1))" test "$(updated img1)" = "0 1 2 3 4 5 6"
check "the failing BMC says why" grep -q "signature is required" play.out
t8=$ms

fleet 3
rollout img1 -l 'bmcs:!bmc3' >/dev/null; rollout img2 && rc=0 || rc=$?
check "a failing BMC in batch 2: the rollout fails" test "$rc" != 0
check "batch 1 and BMC 2 updated, BMC 3 not, batches 3-4 untouched ($(updated img2))" \
	test "$(updated img2)" = "0 1 2"
check "batches 3-4 still run the previous image" test "$(updated img1)" = "4 5 6 7"
grep -q "bmc4\|bmc5" play.out && not_ok "the play went on to batch 3" || ok "the play stopped after batch 2"

fleet 9
rollout img2 -l bmc0 && rc=0 || rc=$?
check "one BMC alone: updated" test "$rc" = 0 -a "$(updated img2)" = 0
t1=$ms
rollout img2 && rc=0 || rc=$?
check "the whole fleet, no failure: all 8 updated" test "$rc" = 0 -a "$(updated img2)" = "0 1 2 3 4 5 6 7"
echo "# rollout of 2 MiB, batches of 2: 8 BMCs ${ms} ms (with a failure in the last batch: ${t8} ms), one BMC alone ${t1} ms"
echo "$T_CHECKS checks, $T_FAILS failed"
[ "$T_FAILS" -eq 0 ]
