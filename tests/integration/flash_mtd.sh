#!/usr/bin/env bash
# bmc-sim --flash mtd:DEV refuses what is no MTD NOR device, or options that do not go with one,
# with one line naming the device and what is wrong. (The MTD flash itself: unit-flash_mtd on
# a fake NOR device, the arm rig on the AST2600's SPI NOR; this kernel has no MTD.)
. "$(dirname "$0")/lib.sh"

W="shm:fwpt-mtd-$$"
head -c 1M /dev/zero >"$T_DIR/plain"
expect_fail "a plain file is not an MTD device" 4 "flash $T_DIR/plain: not an MTD device" \
	"$FWPUSH" bmc-sim --window "$W" --flash "mtd:$T_DIR/plain"
expect_fail "nor a character device that is not MTD" 4 "flash /dev/null: not an MTD device" \
	"$FWPUSH" bmc-sim --window "$W" --flash mtd:/dev/null
expect_fail "a missing device" 4 "flash $T_DIR/none: No such file or directory" \
	"$FWPUSH" bmc-sim --window "$W" --flash "mtd:$T_DIR/none"
expect_fail "--flash-model paces files, not an MTD device" 2 "not an MTD device (mtd:/dev/null)" \
	"$FWPUSH" bmc-sim --window "$W" --flash mtd:/dev/null --flash-model nor
printf 'admin:x\n' >"$T_DIR/users"
expect_fail "--redfish on an MTD flash needs its own certificate" 2 "needs --tls-cert" \
	"$FWPUSH" bmc-sim --window "$W" --flash mtd:/dev/null --redfish 0 \
	--redfish-users "$T_DIR/users"
check "no window left behind" [ ! -e "/dev/shm/${W#shm:}" ]
done_testing
