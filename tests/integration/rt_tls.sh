#!/usr/bin/env bash
# rt-update from https URLs: a server whose certificate nothing trusts is refused (exit 3, one
# line saying so, nothing staged, nothing applied), as is one whose certificate names another
# host; one whose CA is given with --ca-file or FWPUSH_CA_FILE is staged and applied. The
# certificate is self-signed, made here with the openssl CLI; the server is http_server.py.
# Exits 77 (SKIP) without the openssl CLI or Python's ssl module, or on a build without libcurl.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/rt_lib.sh"

command -v openssl >/dev/null || { echo "SKIP: no openssl CLI to make a certificate"; exit 77; }
python3 -c 'import ssl' 2>/dev/null || { echo "SKIP: python3 has no ssl module"; exit 77; }
if "$FWPUSH" rt-update --stage http://127.0.0.1:1/x --name "$RT_NAME" 2>&1 |
	grep -q "built without libcurl"; then
	echo "SKIP: this fwpush was built without libcurl (-Dcurl=disabled): no URLs"
	exit 77
fi
flash="$T_DIR/flash.bin"
name="$RT_NAME"
all=$(rt_cpus | paste -sd,)
make_image "$T_DIR/v1" 3000000
make_image "$T_DIR/v2" 2000000
unset FWPUSH_CA_FILE

openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$T_DIR/key.pem" -out "$T_DIR/cert.pem" 2>"$T_DIR/openssl.err" ||
	{ cat "$T_DIR/openssl.err"; exit 1; }
rt_start_server --tls "$T_DIR/cert.pem" "$T_DIR/key.pem"
url="https://127.0.0.1:$PORT"

rt() { "$FWPUSH" rt-update --name "$name" --flash "$flash" --json --timeout 5s "$@" \
	>"$T_DIR/rt.json" 2>"$T_DIR/rt.err"; }

rt "$T_DIR/v1"; rc=$?
check "v1 applied from a file (exit $rc)" [ "$rc" -eq 0 ]

expect_fail "untrusted certificate: refused" 3 \
	"update $url/v2: server certificate not trusted (.*); trust a private CA with --ca-file FILE" \
	"$FWPUSH" rt-update "$url/v2" --timeout 5s --name "$name" --flash "$flash"
check "untrusted certificate: flash still v1" cmp -s "$T_DIR/v1" "$flash"
expect_fail "certificate for another host (localhost): refused, even with its CA" 3 \
	"server certificate not trusted" \
	"$FWPUSH" rt-update --stage "https://localhost:$PORT/v2" --ca-file "$T_DIR/cert.pem" \
	--name "$name"
check "refused downloads: no partial file left" [ ! -e "/dev/shm/fwpush-rt-$name.img.part" ]
expect_fail "refused downloads: nothing staged" 8 "no update staged" \
	"$FWPUSH" rt-update --activate --timeout 5s --name "$name" --flash "$flash"
check "refused downloads: flash still v1" cmp -s "$T_DIR/v1" "$flash"
expect_fail "--ca-file that does not exist" 2 "--ca-file $T_DIR/nope.pem: No such file" \
	"$FWPUSH" rt-update --stage "$url/v2" --ca-file "$T_DIR/nope.pem" --name "$name"

rt "$url/v2" --ca-file "$T_DIR/cert.pem"; rc=$?
check "trusted with --ca-file: staged and applied (exit $rc)" [ "$rc" -eq 0 ]
check "trusted with --ca-file: v2 is active" cmp -s "$T_DIR/v2" "$flash"
check "trusted with --ca-file: every processor bit-exact" all_resumed "$T_DIR/rt.json" "$all"

FWPUSH_CA_FILE="$T_DIR/cert.pem" "$FWPUSH" rt-update --stage "$url/v1" --name "$name" -q; rc=$?
check "trusted with FWPUSH_CA_FILE: staged (exit $rc)" [ "$rc" -eq 0 ]
rt --activate; rc=$?
check "trusted with FWPUSH_CA_FILE: applied (exit $rc)" [ "$rc" -eq 0 ]
check "trusted with FWPUSH_CA_FILE: v1 is active" cmp -s "$T_DIR/v1" "$flash"
done_testing
