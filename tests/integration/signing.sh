#!/usr/bin/env bash
# Signed images: a BMC with a public key activates only images its signature verifies;
# unsigned and wrongly signed ones are refused with a clear status, the active image intact.
. "$(dirname "$0")/lib.sh"

flash="$T_DIR/flash.bin"
cd "$T_DIR" || exit 1
check "keygen" "$FWPUSH" keygen --out key
check "keygen: private key is 0600" [ "$(stat -c %a key)" = 600 ]
check "keygen, another pair" "$FWPUSH" keygen --out other
make_image good 2000000
make_image next 1000000
check "sign" "$FWPUSH" sign good --key key
check "signature is 64 bytes" [ "$(stat -c %s good.sig)" = 64 ]
"$FWPUSH" sign next --key other --out next.badsig >/dev/null
start_bmc signed "$flash" --slots 4 --slot-size 64K --pubkey key.pub

check "signed image: pushed and activated" \
	"$FWPUSH" push good --target "$WINDOW" --signature good.sig -q
check "signed image: flash equals it" cmp -s good "$flash"
expect_fail "unsigned image: refused" 6 "image not signed; the BMC requires a signature" \
	"$FWPUSH" push next --target "$WINDOW"
expect_fail "signed with another key: refused" 6 "signature does not verify" \
	"$FWPUSH" push next --target "$WINDOW" --signature next.badsig
expect_fail "signature of another image: refused" 6 "signature does not verify" \
	"$FWPUSH" push next --target "$WINDOW" --signature good.sig
check "refused images never activated" cmp -s good "$flash"
head -c 10 good.sig >short.sig
expect_fail "malformed signature file" 3 "not an Ed25519 signature" \
	"$FWPUSH" push next --target "$WINDOW" --signature short.sig
expect_fail "missing signature file" 3 "signature nope.sig" \
	"$FWPUSH" push next --target "$WINDOW" --signature nope.sig
expect_fail "bmc-sim with a private key as --pubkey" 2 "not an Ed25519 public key" \
	"$FWPUSH" bmc-sim --window "shm:$T_NAME-k" --flash x --pubkey key
expect_fail "sign with a public key" 2 "not an Ed25519 private key" \
	"$FWPUSH" sign good --key key.pub
done_testing
