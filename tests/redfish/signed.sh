#!/bin/bash
# bmc-sim --redfish --pubkey: an image uploaded over HTTPS is activated only with its Ed25519
# signature (X-Fwpush-Signature, or Oem.Fwpush.Signature in UpdateParameters / SimpleUpdate),
# the same check as the window's; SimpleUpdate pulls an image from an http URL.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../integration/lib.sh"
command -v curl >/dev/null || { echo "no curl"; exit 77; }
cd "$T_DIR" || exit 1
flash="$T_DIR/flash"
echo "ops:$(openssl passwd -6 'pw ops')" >users
"$FWPUSH" keygen --out key >/dev/null
"$FWPUSH" keygen --out other >/dev/null
make_image good $((2 << 20))
make_image next $((1 << 20))
"$FWPUSH" sign good --key key >/dev/null
"$FWPUSH" sign next --key key >/dev/null
"$FWPUSH" sign next --key other --out next.badsig >/dev/null
hexsig() { od -An -v -tx1 "$1" | tr -d ' \n'; }
start_bmc rfs "$flash" --pubkey key.pub --redfish 127.0.0.1:0 --redfish-users users
for _ in $(seq 50); do grep -q "Redfish at" bmc.err 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*Redfish at https:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' bmc.err)
[ -n "$port" ] || { cat bmc.err; not_ok "bmc-sim --redfish --pubkey starts"; exit 1; }
base="https://127.0.0.1:$port"
rf() { curl -s --cacert "$flash.tls.crt" -u 'ops:pw ops' -o body -D hdr -w '%{http_code}' "$@"; }
jq_() { python3 -c "import json; d=json.load(open('body')); print($1)"; }
# upload_result CURL-ARGS...: the final "TaskState MessageId" of an update started with them.
update_result() {
	local c mon i
	c=$(rf "$@")
	[ "$c" = 202 ] || { echo "HTTP $c"; return; }
	mon=$(sed -n 's/^Location: \([^\r]*\).*/\1/ip' hdr)
	for i in $(seq 200); do
		[ "$(rf "$base$mon")" = 202 ] || break
		sleep 0.1
	done
	jq_ 'd["TaskState"]+" "+d["Messages"][0]["MessageId"]'; [ -n "${RF_DEBUG:-}" ] && cat body >&2
}
raw=(-H 'Content-Type: application/octet-stream' "$base/redfish/v1/UpdateService/update")

r=$(update_result --data-binary @good "${raw[@]}")
check "unsigned upload: Exception, VerificationFailed ($r)" test "$r" = "Exception Update.1.0.VerificationFailed"
check "... nothing activated" test ! -e "$flash"
r=$(update_result -H "X-Fwpush-Signature: $(hexsig good.sig)" --data-binary @good "${raw[@]}")
check "signed upload (X-Fwpush-Signature): Completed ($r)" test "$r" = "Completed Update.1.0.UpdateSuccessful"
check "... the flash holds it" cmp -s "$flash" good
r=$(update_result -H "X-Fwpush-Signature: $(hexsig next.badsig)" --data-binary @next "${raw[@]}")
check "another key's signature: VerificationFailed ($r)" test "$r" = "Exception Update.1.0.VerificationFailed"
check "... the active image stays" cmp -s "$flash" good
c=$(rf -H "X-Fwpush-Signature: 12" --data-binary @next "${raw[@]}")
check "a malformed signature header: 400 ($c)" test "$c" = 400
r=$(update_result -F "UpdateParameters={\"Oem\":{\"Fwpush\":{\"Signature\":\"$(hexsig next.sig)\"}}};type=application/json" \
	-F UpdateFile=@next "$base/redfish/v1/UpdateService/update-multipart")
check "signed multipart (Oem.Fwpush.Signature): Completed ($r)" test "$r" = "Completed Update.1.0.UpdateSuccessful"
check "... the flash holds it" cmp -s "$flash" next

# SimpleUpdate: the BMC pulls the image (libcurl, fwpush-curl.so) into the same door.
mkdir www && cp good www/good
python3 "$here/../integration/http_server.py" www >srv.port 2>srv.err &
srv=$!
for _ in $(seq 50); do [ -s srv.port ] && break; sleep 0.1; done
hp=$(head -1 srv.port)
su="$base/redfish/v1/UpdateService/Actions/UpdateService.SimpleUpdate"
r=$(update_result -H 'Content-Type: application/json' -d "{\"ImageURI\":\"http://127.0.0.1:$hp/good\",\"Oem\":{\"Fwpush\":{\"Signature\":\"$(hexsig good.sig)\"}}}" "$su")
check "SimpleUpdate from an http URL, signed: Completed ($r)" test "$r" = "Completed Update.1.0.UpdateSuccessful"
check "... the flash holds it" cmp -s "$flash" good
r=$(update_result -H 'Content-Type: application/json' -d "{\"ImageURI\":\"127.0.0.1:$hp/missing\",\"TransferProtocol\":\"HTTP\"}" "$su")
check "SimpleUpdate of a missing file: TransferFailed ($r)" test "$r" = "Exception Update.1.0.TransferFailed"
r=$(update_result -H 'Content-Type: application/json' -d "{\"ImageURI\":\"http://127.0.0.1:$hp/good\"}" "$su")
check "SimpleUpdate unsigned: VerificationFailed ($r)" test "$r" = "Exception Update.1.0.VerificationFailed"
check "SimpleUpdate of a file: URL is refused, 400" test "$(rf -H 'Content-Type: application/json' -d '{"ImageURI":"file:///etc/passwd"}' "$su")" = 400
check "SimpleUpdate without ImageURI: 400" test "$(rf -H 'Content-Type: application/json' -d '{}' "$su")" = 400
check "SimpleUpdate with a non-JSON body: 415" test "$(rf -H 'Content-Type: text/plain' -d 'x' "$su")" = 415
check "the active image is still the good one" cmp -s "$flash" good
kill "$srv" 2>/dev/null
stop_bmc
echo "$T_CHECKS checks, $T_FAILS failed"
[ "$T_FAILS" -eq 0 ]
