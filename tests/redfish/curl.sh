#!/bin/bash
# bmc-sim --redfish against real curl over real HTTPS, one theme per test (meson test --suite
# redfish, redfish-curl-GROUP), each with its own bmc-sim so that a mutant's test runs only the
# checks that can see it:
#
#   curl.sh auth      the certificate, Basic, the resources, sessions, lockout
#   curl.sh uploads   raw and multipart uploads through the same flash as the window, their
#                     tasks, the inventory of both banks
#   curl.sh doors     a window push seen as a task; one update at a time, each door refusing
#                     the other
#   curl.sh pldm      the version a PLDM package carries, whichever door it came through
#   curl.sh input     bad input (each with nothing staged), a cut-off upload
source "$(dirname "$0")/../integration/lib.sh"
group=${1:-}
case "$group" in
auth | uploads | doors | pldm | input) ;;
*) echo "usage: curl.sh auth|uploads|doors|pldm|input" >&2; exit 99 ;;
esac
command -v curl >/dev/null || { echo "no curl"; exit 77; }
command -v xxhsum >/dev/null || { echo "no xxhsum"; exit 77; }

flash="$T_DIR/flash"
users="$T_DIR/users"
echo "admin:$(openssl passwd -6 's3cret pass')" >"$users"
start_bmc rf "$flash" --flash-size 16M --redfish 0 --redfish-users "$users" \
	--flash-model nor:scale=0.5,buffer=1M
for _ in $(seq 50); do grep -q "Redfish at" "$T_DIR/bmc.err" 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*Redfish at https:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' "$T_DIR/bmc.err")
[ -n "$port" ] || { cat "$T_DIR/bmc.err"; not_ok "bmc-sim --redfish starts"; exit 1; }
ok "bmc-sim --redfish serves on 127.0.0.1:$port"
base="https://127.0.0.1:$port"
ca=(--cacert "$flash.tls.crt")

# rf [curl args] PATH: body to $T_DIR/body, headers to $T_DIR/hdr; prints the status code.
rf() { curl -s "${ca[@]}" -o "$T_DIR/body" -D "$T_DIR/hdr" -w '%{http_code}' "$@"; }
auth=(-u 'admin:s3cret pass')
jq_() { python3 -c "import json,sys; d=json.load(open('$T_DIR/body')); print($1)"; }
code_is() { # code_is WHAT WANT CURL-ARGS...
	local what=$1 want=$2 got; shift 2
	got=$(rf "$@")
	if [ "$got" = "$want" ]; then ok "$what: $got"; else not_ok "$what: $got, expected $want"; cat "$T_DIR/body"; echo; fi
}
# wait_task MONITOR: polls until the monitor stops answering 202; the task's body in $T_DIR/body.
wait_task() {
	local i c
	for i in $(seq 200); do
		c=$(rf "${auth[@]}" "$base$1")
		[ "$c" = 202 ] || { echo "$c"; return; }
		sleep 0.1
	done
	echo timeout
}

group_auth() {
	check "a self-signed certificate was made at the first start" test -s "$flash.tls.crt" -a -s "$flash.tls.key"
	check "its key is not readable by others" test "$(stat -c %a "$flash.tls.key")" = 600
	# The service root, Basic, and what an authenticated client can read.
	code_is "service root, no auth" 200 "$base/redfish/v1/"
	check "service root links UpdateService" grep -q '"UpdateService":{"@odata.id":"/redfish/v1/UpdateService"}' "$T_DIR/body"
	code_is "/redfish version document" 200 "$base/redfish"
	code_is "UpdateService without credentials" 401 "$base/redfish/v1/UpdateService"
	check "401 asks for Basic" grep -qi '^WWW-Authenticate: Basic' "$T_DIR/hdr"
	check "401 has a Redfish error body" grep -q '"@Message.ExtendedInfo"' "$T_DIR/body"
	code_is "wrong password" 401 -u admin:wrong "$base/redfish/v1/UpdateService"
	code_is "unknown user" 401 -u root:'s3cret pass' "$base/redfish/v1/UpdateService"
	code_is "UpdateService with Basic" 200 "${auth[@]}" "$base/redfish/v1/UpdateService"
	check "MaxImageSizeBytes is the flash's capacity" test "$(jq_ 'd["MaxImageSizeBytes"]')" = 16777216
	check "HttpPushUri, MultipartHttpPushUri" test "$(jq_ 'd["HttpPushUri"]+" "+d["MultipartHttpPushUri"]')" = \
		"/redfish/v1/UpdateService/update /redfish/v1/UpdateService/update-multipart"
	for p in Managers Managers/bmc Systems Systems/system UpdateService/FirmwareInventory \
		 TaskService TaskService/Tasks SessionService SessionService/Sessions; do
		code_is "GET /redfish/v1/$p" 200 "${auth[@]}" "$base/redfish/v1/$p"
	done

	# Sessions: a token instead of Basic, gone once deleted.
	code_is "login" 201 -H 'Content-Type: application/json' \
		-d '{"UserName":"admin","Password":"s3cret pass"}' "$base/redfish/v1/SessionService/Sessions"
	token=$(sed -n 's/^X-Auth-Token: \([0-9a-f]*\).*/\1/ip' "$T_DIR/hdr")
	sess=$(sed -n 's/^Location: \([^\r]*\).*/\1/ip' "$T_DIR/hdr")
	check "login gives a 256-bit token and a Location" test "${#token}" = 64 -a -n "$sess"
	code_is "GET with X-Auth-Token" 200 -H "X-Auth-Token: $token" "$base/redfish/v1/Managers/bmc"
	code_is "login with a wrong password" 401 -H 'Content-Type: application/json' \
		-d '{"UserName":"admin","Password":"nope"}' "$base/redfish/v1/SessionService/Sessions"
	code_is "logout" 200 -X DELETE -H "X-Auth-Token: $token" "$base$sess"
	code_is "the token is gone" 401 -H "X-Auth-Token: $token" "$base/redfish/v1/Managers/bmc"

	# Lockout: repeated failures from one address lock it out, the right password included.
	for _ in 1 2 3 4 5; do rf -u admin:bad "$base/redfish/v1/Managers" >/dev/null; done
	code_is "locked out after 5 failures, right password too" 401 "${auth[@]}" "$base/redfish/v1/Managers"
	check "the lockout says so" grep -q "Too many failed logins" "$T_DIR/body"
	check "no password in the BMC's log" test -z "$(grep -l 's3cret' "$T_DIR/bmc.err")"
}

group_uploads() {
	# An upload through HttpPushUri: streamed into the inactive bank, activated by the task.
	make_image "$T_DIR/img1" $((4 << 20))
	h1=$(xxhsum -H2 "$T_DIR/img1" | cut -d' ' -f1)
	code_is "raw upload" 202 "${auth[@]}" -H 'Content-Type: application/octet-stream' \
		--data-binary @"$T_DIR/img1" "$base/redfish/v1/UpdateService/update"
	mon=$(sed -n 's/^Location: \([^\r]*\).*/\1/ip' "$T_DIR/hdr")
	check "202 with a task monitor and Retry-After" test -n "$mon" -a -n "$(grep -i '^Retry-After' "$T_DIR/hdr")"
	check "the task monitor answers 200 once done" test "$(wait_task "$mon")" = 200
	check "task Completed, 100%, Update.1.0.UpdateSuccessful" test "$(jq_ 'd["TaskState"]+" "+str(d["PercentComplete"])+" "+d["Messages"][0]["MessageId"]')" = \
		"Completed 100 Update.1.0.UpdateSuccessful"
	check "the flash holds the image" cmp -s "$flash" "$T_DIR/img1"
	code_is "active bank in the inventory" 200 "${auth[@]}" "$base/redfish/v1/UpdateService/FirmwareInventory/bmc_active"
	check "its XXH3-128 is the image's" test "$(jq_ 'd["Oem"]["Fwpush"]["XXH3_128"]')" = "$h1"

	# A multipart upload (what fwupd and bmcweb's clients send), with UpdateParameters.
	make_image "$T_DIR/img2" $((3 << 20))
	h2=$(xxhsum -H2 "$T_DIR/img2" | cut -d' ' -f1)
	code_is "multipart upload" 202 "${auth[@]}" \
		-F 'UpdateParameters={"Targets":[]};type=application/json' \
		-F "UpdateFile=@$T_DIR/img2;type=application/octet-stream" \
		"$base/redfish/v1/UpdateService/update-multipart"
	mon=$(sed -n 's/^Location: \([^\r]*\).*/\1/ip' "$T_DIR/hdr")
	check "multipart task done" test "$(wait_task "$mon")" = 200
	check "the flash holds the multipart image, exactly" cmp -s "$flash" "$T_DIR/img2"
	rf "${auth[@]}" "$base/redfish/v1/UpdateService/FirmwareInventory/bmc_inactive" >/dev/null
	check "the inactive bank is the previous image" test "$(jq_ 'd["Oem"]["Fwpush"]["XXH3_128"]')" = "$h1"
	check "the inactive bank is not a target (Updateable false)" test "$(jq_ 'd["Updateable"]')" = False
}

group_doors() {
	make_image "$T_DIR/img1" $((4 << 20))

	# A push through the window shows up as a task with a live PercentComplete; meanwhile the other
	# door is told 503 + Retry-After.
	make_image "$T_DIR/img3" $((4 << 20))
	"$FWPUSH" push "$T_DIR/img3" --target "$WINDOW" -T 30 >/dev/null 2>"$T_DIR/push.err" &
	push=$!
	seen=
	while kill -0 "$push" 2>/dev/null; do
		rf "${auth[@]}" "$base/redfish/v1/TaskService/Tasks" >/dev/null
		last=$(jq_ 'd["Members"][-1]["@odata.id"]')
		rf "${auth[@]}" "$base$last" >/dev/null
		[ -n "${RF_DEBUG:-}" ] && echo "$last: $(cat "$T_DIR/body")"
		if [ "$(jq_ 'd["Oem"]["Fwpush"]["Kind"]+" "+d["TaskState"]')" = "window push Running" ]; then
			pc=$(jq_ 'd["PercentComplete"]')
			[ "$pc" -gt 0 ] && [ "$pc" -lt 100 ] && { seen=$pc; break; }
		fi
		sleep 0.05
	done
	check "a window push is a Running task with PercentComplete between 0 and 100 ($seen)" test -n "$seen"
	code_is "an upload during a window push" 503 "${auth[@]}" -H 'Content-Type: application/octet-stream' \
		--data-binary @"$T_DIR/img1" "$base/redfish/v1/UpdateService/update"
	check "503 says Retry-After" grep -qi '^Retry-After: [0-9]' "$T_DIR/hdr"
	check "the window push succeeds" wait "$push"
	sleep 0.3
	rf "${auth[@]}" "$base$last" >/dev/null
	check "its task Completed at 100%" test "$(jq_ 'd["TaskState"]+" "+str(d["PercentComplete"])')" = "Completed 100"
	check "the flash holds the window's image" cmp -s "$flash" "$T_DIR/img3"

	# ... and the other way round: a window START during a Redfish upload is answered BUSY.
	make_image "$T_DIR/img4" $((8 << 20))
	curl -s "${ca[@]}" "${auth[@]}" -H 'Content-Type: application/octet-stream' --limit-rate 2M \
		--data-binary @"$T_DIR/img4" -o "$T_DIR/slow.body" "$base/redfish/v1/UpdateService/update" &
	slow=$!
	sleep 1
	"$FWPUSH" push "$T_DIR/img1" --target "$WINDOW" -T 2 >/dev/null 2>"$T_DIR/push.err"
	check "a window push during an upload fails: busy" grep -qi busy "$T_DIR/push.err"
	wait "$slow"
	mon=$(python3 -c "import json; print(json.load(open('$T_DIR/slow.body'))['TaskMonitor'])")
	check "the slow upload completes" test "$(wait_task "$mon")" = 200
	check "the flash holds the slow upload" cmp -s "$flash" "$T_DIR/img4"
}

group_pldm() {
	# The version an image carries: a PLDM firmware update package's PackageVersionString (DSP0267
	# package header 1.0: UUID, revision, header size, release time, bitmap length, string type,
	# length and bytes), whichever door it came through.
	python3 - "$T_DIR" <<'PY'
import os, struct, sys
d = sys.argv[1]
def pkg(version, payload):
    uuid = bytes.fromhex("f018878ccb7d49439800a02f059aca02")
    v = version.encode()
    hdr = uuid + bytes([1]) + struct.pack("<H", 36 + len(v)) + bytes(13) + struct.pack("<H", 8) + bytes([1, len(v)]) + v
    return hdr + payload
open(d + "/pkg1", "wb").write(pkg("bmc-2.7.1-rc3", os.urandom(1 << 20)))
open(d + "/pkg2", "wb").write(pkg("bmc-2.8.0", os.urandom(1 << 20)))
PY
	code_is "upload of a PLDM package" 202 "${auth[@]}" -H 'Content-Type: application/octet-stream' \
		--data-binary @"$T_DIR/pkg1" "$base/redfish/v1/UpdateService/update"
	mon=$(sed -n 's/^Location: \([^\r]*\).*/\1/ip' "$T_DIR/hdr")
	wait_task "$mon" >/dev/null
	rf "${auth[@]}" "$base/redfish/v1/UpdateService/FirmwareInventory/bmc_active" >/dev/null
	check "the inventory's Version is the package's (bmc-2.7.1-rc3)" test "$(jq_ 'd["Version"]')" = bmc-2.7.1-rc3
	check "a PLDM package through the window" "$FWPUSH" push "$T_DIR/pkg2" --target "$WINDOW" -q -T 30
	sleep 0.3
	rf "${auth[@]}" "$base/redfish/v1/UpdateService/FirmwareInventory/bmc_active" >/dev/null
	check "... its version shows too (bmc-2.8.0)" test "$(jq_ 'd["Version"]')" = bmc-2.8.0
	rf "${auth[@]}" "$base/redfish/v1/UpdateService/FirmwareInventory/bmc_inactive" >/dev/null
	check "... and the previous one's on the inactive bank" test "$(jq_ 'd["Version"]')" = bmc-2.7.1-rc3
}

group_input() {
	# Bad input: the right code, a Redfish error, nothing staged or activated.
	make_image "$T_DIR/img1" $((4 << 20))
	make_image "$T_DIR/img4" $((8 << 20))
	before=$(xxhsum -H2 "$flash" | cut -d' ' -f1)
	head -c $((20 << 20)) /dev/zero >"$T_DIR/big"
	code_is "over MaxImageSizeBytes" 413 "${auth[@]}" -H 'Content-Type: application/octet-stream' \
		--data-binary @"$T_DIR/big" "$base/redfish/v1/UpdateService/update"
	up=$(curl -s "${ca[@]}" "${auth[@]}" -H 'Content-Type: application/octet-stream' -o /dev/null \
		-w '%{size_upload}' --data-binary @"$T_DIR/big" "$base/redfish/v1/UpdateService/update")
	check "413 comes before the body is read ($up of $((20 << 20)) bytes sent)" test "$up" -lt $((4 << 20))
	code_is "multipart over MaxImageSizeBytes" 413 "${auth[@]}" -F "UpdateFile=@$T_DIR/big" \
		"$base/redfish/v1/UpdateService/update-multipart"
	code_is "wrong content type (raw)" 415 "${auth[@]}" -H 'Content-Type: text/plain' \
		--data-binary @"$T_DIR/img1" "$base/redfish/v1/UpdateService/update"
	code_is "wrong content type (multipart URI)" 415 "${auth[@]}" -H 'Content-Type: application/octet-stream' \
		--data-binary @"$T_DIR/img1" "$base/redfish/v1/UpdateService/update-multipart"
	printf -- '--XyZ\r\nContent-Disposition: form-data; name="UpdateFile"; filename="x"\r\n\r\nabc' >"$T_DIR/mal"
	code_is "malformed multipart (no closing boundary)" 400 "${auth[@]}" \
		-H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary @"$T_DIR/mal" \
		"$base/redfish/v1/UpdateService/update-multipart"
	printf -- '--XyZ\r\nContent-Disposition: form-data; name="Other"\r\n\r\nabc\r\n--XyZ--\r\n' >"$T_DIR/nofile"
	code_is "multipart without UpdateFile" 400 "${auth[@]}" \
		-H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary @"$T_DIR/nofile" \
		"$base/redfish/v1/UpdateService/update-multipart"
	code_is "multipart without a boundary" 400 "${auth[@]}" -H 'Content-Type: multipart/form-data' \
		--data-binary @"$T_DIR/mal" "$base/redfish/v1/UpdateService/update-multipart"
	python3 - "$T_DIR" <<'PY'
import base64, sys
d = sys.argv[1]
img = open(d + "/img1", "rb").read()
def part(enc, payload):
    return (b"--XyZ\r\nContent-Disposition: form-data; name=\"UpdateFile\"; filename=\"f\"\r\n"
            b"Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: " + enc +
            b"\r\n\r\n" + payload + b"\r\n--XyZ--\r\n")
open(d + "/b64", "wb").write(part(b"base64", base64.encodebytes(img)))
open(d + "/qp", "wb").write(part(b"quoted-printable", b"abc"))
PY
	code_is "multipart, UpdateFile in base64 (as Ansible's uri sends it)" 202 "${auth[@]}" \
		-H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary @"$T_DIR/b64" \
		"$base/redfish/v1/UpdateService/update-multipart"
	mon=$(sed -n 's/^Location: \([^\r]*\).*/\1/ip' "$T_DIR/hdr")
	check "... decoded into the flash byte for byte" test "$(wait_task "$mon")" = 200 -a "$(cmp "$flash" "$T_DIR/img1" && echo same)" = same
	code_is "multipart, quoted-printable UpdateFile" 415 "${auth[@]}" \
		-H 'Content-Type: multipart/form-data; boundary=XyZ' --data-binary @"$T_DIR/qp" \
		"$base/redfish/v1/UpdateService/update-multipart"
	before=$(xxhsum -H2 "$flash" | cut -d' ' -f1)
	code_is "upload without credentials" 401 -H 'Content-Type: application/octet-stream' \
		--data-binary @"$T_DIR/img1" "$base/redfish/v1/UpdateService/update"
	code_is "unknown URI" 404 "${auth[@]}" "$base/redfish/v1/Nope"
	code_is "unknown URI outside /redfish" 404 "${auth[@]}" "$base/etc/passwd"
	code_is "path trick: /.." 404 "${auth[@]}" --path-as-is "$base/redfish/v1/../v1/UpdateService"
	code_is "path trick: //" 404 "${auth[@]}" "$base/redfish//v1/UpdateService"
	code_is "path trick: %2e%2e" 404 "${auth[@]}" --path-as-is "$base/redfish/v1/%2e%2e/v1/Managers"
	code_is "wrong method: DELETE UpdateService" 405 "${auth[@]}" -X DELETE "$base/redfish/v1/UpdateService"
	check "405 says Allow" grep -qi '^Allow: GET' "$T_DIR/hdr"
	code_is "wrong method: GET on HttpPushUri" 405 "${auth[@]}" "$base/redfish/v1/UpdateService/update"
	code_is "oversized header" 431 "${auth[@]}" -H "X-Big: $(head -c 70000 /dev/zero | tr '\0' a)" \
		"$base/redfish/v1/Managers/bmc"
	code_is "unknown task" 404 "${auth[@]}" "$base/redfish/v1/TaskService/Tasks/999"
	# An upload cut off half way: its task fails, the active image stays.
	curl -s "${ca[@]}" "${auth[@]}" -H 'Content-Type: application/octet-stream' --limit-rate 1M \
		--max-time 1 --data-binary @"$T_DIR/img4" -o /dev/null "$base/redfish/v1/UpdateService/update"
	sleep 0.5
	rf "${auth[@]}" "$base/redfish/v1/TaskService/Tasks" >/dev/null
	last=$(jq_ 'd["Members"][-1]["@odata.id"]')
	rf "${auth[@]}" "$base$last" >/dev/null
	check "a cut-off upload's task is an Exception" test "$(jq_ 'd["TaskState"]')" = Exception
	check "nothing bad was activated" test "$(xxhsum -H2 "$flash" | cut -d' ' -f1)" = "$before"
	code_is "after it, an upload goes through again" 202 "${auth[@]}" -H 'Content-Type: application/octet-stream' \
		--data-binary @"$T_DIR/img1" "$base/redfish/v1/UpdateService/update"
	mon=$(sed -n 's/^Location: \([^\r]*\).*/\1/ip' "$T_DIR/hdr")
	check "... and activates" test "$(wait_task "$mon")" = 200
}

"group_$group"
stop_bmc
echo "$T_CHECKS checks, $T_FAILS failed"
[ "$T_FAILS" -eq 0 ]
