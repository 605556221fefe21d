#!/bin/bash
# Slow and stalled clients against bmc-sim --redfish --redfish-timeout 2s: an upload that stops
# sending half way is cut off after the timeout, its task fails, the bank is given back and the
# active image stays; a client that sends its headers a byte at a time and never finishes is
# dropped too; neither keeps the next upload out.
here=$(cd "$(dirname "$0")" && pwd)
source "$here/../integration/lib.sh"
command -v curl >/dev/null || { echo "no curl"; exit 77; }
cd "$T_DIR" || exit 1
flash="$T_DIR/flash"
echo "ops:$(openssl passwd -6 pw)" >users
make_image img1 $((1 << 20))
make_image img2 $((4 << 20))
start_bmc st "$flash" --redfish 0 --redfish-users users --redfish-timeout 2s
for _ in $(seq 50); do grep -q "Redfish at" bmc.err 2>/dev/null && break; sleep 0.1; done
port=$(sed -n 's/.*Redfish at https:\/\/127.0.0.1:\([0-9]*\)\/.*/\1/p' bmc.err)
[ -n "$port" ] || { cat bmc.err; not_ok "bmc-sim --redfish starts"; exit 1; }
base="https://127.0.0.1:$port"
check "a first image through the window" "$FWPUSH" push img1 --target "$WINDOW" -q
# stall MODE: a TLS client that stops: "body" after half of a 4 MiB upload, "headers" half way
# through its request line. Prints how long until the server closed the connection.
stall() {
	python3 - "$port" "$flash.tls.crt" "$1" <<'PY'
import base64, socket, ssl, sys, time
port, ca, mode = int(sys.argv[1]), sys.argv[2], sys.argv[3]
ctx = ssl.create_default_context(cafile=ca)
s = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port)), server_hostname="localhost")
auth = base64.b64encode(b"ops:pw").decode()
req = ("POST /redfish/v1/UpdateService/update HTTP/1.1\r\nHost: x\r\nAuthorization: Basic %s\r\n"
       "Content-Type: application/octet-stream\r\nContent-Length: %d\r\n\r\n" % (auth, 4 << 20)).encode()
if mode == "body":
    s.sendall(req + b"\0" * (2 << 20))
else:
    s.sendall(req[:20])
t0 = time.monotonic()
s.settimeout(30)
try:
    while s.recv(4096):
        pass
except (ssl.SSLError, ConnectionError, socket.timeout):
    pass
print("%.1f" % (time.monotonic() - t0))
PY
}
rf() { curl -s --cacert "$flash.tls.crt" -u ops:pw -o body -D hdr -w '%{http_code}' "$@"; }
t=$(stall body)
check "an upload stalled half way is cut off after the timeout (${t} s)" \
	python3 -c "import sys; sys.exit(not 1.5 <= $t <= 10)"
sleep 0.3
# tasks: every task as "KIND STATE MESSAGEID" lines.
tasks() {
	local m
	rf "$base/redfish/v1/TaskService/Tasks" >/dev/null
	for m in $(python3 -c "import json; [print(x['@odata.id']) for x in json.load(open('body'))['Members']]"); do
		rf "$base$m" >/dev/null
		python3 -c "import json; d=json.load(open('body')); print(d['Oem']['Fwpush']['Kind'], d['TaskState'], d['Messages'][0]['MessageId'])"
	done
}
check "its task is an Exception (TransferFailed)" test "$(tasks | grep '^upload')" = "upload Exception Update.1.0.TransferFailed"
check "the active image stays" cmp -s "$flash" img1
check "the inactive bank was given back (cut to 0 bytes)" test ! -s "$(inactive_bank "$flash")"
t=$(stall headers)
check "a client stalled in its headers is dropped after the timeout (${t} s)" \
	python3 -c "import sys; sys.exit(not 1.5 <= $t <= 10)"
check "the next upload goes through" test "$(rf -H 'Content-Type: application/octet-stream' \
	--data-binary @img2 "$base/redfish/v1/UpdateService/update")" = 202
mon=$(sed -n 's/^Location: \([^\r]*\).*/\1/ip' hdr)
for _ in $(seq 100); do [ "$(rf "$base$mon")" = 202 ] || break; sleep 0.1; done
check "... and is activated" cmp -s "$flash" img2
stop_bmc
echo "$T_CHECKS checks, $T_FAILS failed"
[ "$T_FAILS" -eq 0 ]
