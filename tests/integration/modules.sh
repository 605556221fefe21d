#!/usr/bin/env bash
# The loadable modules (engine/transport/module.h): fwpush itself links neither DPDK, libcurl nor
# libcrypto; a dpdk: target loads fwpush-dpdk.so, a URL fwpush-curl.so, a key (keygen, sign,
# bmc-sim --pubkey, rt-update --pubkey) fwpush-sign.so. A module that is missing, is not an ELF
# object, is another module, or comes from another fwpush gives one line naming it with the
# loader's reason: exit 4 for a dpdk: target, exit 3 for a URL, for a key the exit of a bad key.
# A plain push, one with --signature (64 bytes read, nothing verified) and --version never look
# for one. FWPUSH_MODULES lists the built modules (colon-separated).
# Exits 77 (SKIP) on a static build, which links everything in and loads nothing, or without
# readelf.
. "$(dirname "$0")/lib.sh"

command -v readelf >/dev/null || { echo "SKIP: no readelf (binutils)"; exit 77; }
if ! readelf -d "$FWPUSH" | grep -q NEEDED; then
	echo "SKIP: $FWPUSH is linked statically: it loads no modules"
	exit 77
fi
curl_mod= dpdk_mod= sign_mod=
IFS=: read -r -a mods <<<"${FWPUSH_MODULES:-}"
for m in "${mods[@]}"; do
	case "$m" in
	*/fwpush-curl.so) curl_mod=$m ;;
	*/fwpush-dpdk.so) dpdk_mod=$m ;;
	*/fwpush-sign.so) sign_mod=$m ;;
	esac
done

needed=$(readelf -d "$FWPUSH" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
check "fwpush links neither libcurl, DPDK nor libcrypto (NEEDED: $needed)" \
	bash -c '! grep -qE "libcurl|librte_|libcrypto" <<<"$1"' _ "$needed"
check "nor does anything it links (ldd)" \
	bash -c '! ldd "$1" | grep -qE "libcurl|librte_|libcrypto"' _ "$FWPUSH"

# Nothing but a dpdk: target or a URL looks for a module: an empty module directory is fine.
empty="$T_DIR/empty"
mkdir "$empty"
img="$T_DIR/img"
make_image "$img" 100000
check "--version with no modules" env FWPUSH_MODULE_DIR="$empty" "$FWPUSH" --version
start_bmc w "$T_DIR/flash"
check "a shm: push with no modules" env FWPUSH_MODULE_DIR="$empty" \
	"$FWPUSH" push "$img" --target "$WINDOW" --timeout 5s
stop_bmc

# A signature is 64 bytes the host reads and sends: pushing or staging one loads no module.
# The BMC, which checks it, loads fwpush-sign.so from where this fwpush finds its modules.
[ -n "$sign_mod" ] || not_ok "FWPUSH_MODULES names no fwpush-sign.so"
check "keygen (the module loads)" "$FWPUSH" keygen --out "$T_DIR/key"
check "sign (the module loads)" "$FWPUSH" sign "$img" --key "$T_DIR/key"
start_bmc s "$T_DIR/flash-s" --pubkey "$T_DIR/key.pub"
check "push --signature with no modules, to a BMC that checks it" env \
	FWPUSH_MODULE_DIR="$empty" "$FWPUSH" push "$img" --target "$WINDOW" --timeout 5s \
	--signature "$img.sig" -q
check "the BMC activated it" cmp -s "$img" "$T_DIR/flash-s"
# maps DSO...: prints what the dynamic loader opened for "$FWPUSH" "$@" (LD_DEBUG=files).
maps() {
	rm -f "$T_DIR/ld".*
	LD_DEBUG=files LD_DEBUG_OUTPUT="$T_DIR/ld" "$FWPUSH" "$@" >/dev/null 2>&1
	sed -n 's/.*[[:space:]]file=\([^ ]*\) .*/\1/p' "$T_DIR/ld".* | sort -u | tr '\n' ' '
}
opened=$(maps push "$img" --target "$WINDOW" --timeout 5s --signature "$img.sig" -q)
check "push --signature maps neither fwpush-sign.so nor libcrypto ($opened)" \
	bash -c '[ -n "$1" ] && ! grep -qE "fwpush-sign|libcrypto" <<<"$1"' _ "$opened"
opened=$(maps keygen --out "$T_DIR/key2")
check "keygen maps fwpush-sign.so and libcrypto ($opened)" \
	bash -c 'grep -q "fwpush-sign\.so.*libcrypto\|libcrypto.*fwpush-sign\.so" <<<"$1"' _ "$opened"
stop_bmc
check "rt-update --stage --signature with no modules" env FWPUSH_MODULE_DIR="$empty" \
	"$FWPUSH" rt-update --stage "$img" --signature "$img.sig" --name "$T_NAME" -q

# Directories of broken modules: not ELF, another module, another build's module.
odd="$T_DIR/odd" wrong="$T_DIR/wrong" other="$T_DIR/other"
mkdir "$odd" "$wrong" "$other"
yes "not a module" | head -c 8192 >"$odd/fwpush-dpdk.so"
cp "$odd/fwpush-dpdk.so" "$odd/fwpush-curl.so"
# edit_module MODULE OUT FROM TO: a copy of MODULE with the string FROM (a regex matching once,
# NUL-terminated) made TO: its name ("curl" -> "pcie") or its ABI ("fwpush 0.1.0" -> "fwpush 9.1.0").
edit_module() {
	python3 - "$@" <<'PY'
import re, sys
src, out, old = sys.argv[1], sys.argv[2], sys.argv[3].encode()
new = sys.argv[4].encode().replace(b"\\x00", b"\0")
b = open(src, "rb").read()
n = len(re.findall(old, b))
assert n == 1, "%s: %d matches of %r" % (src, n, old)
open(out, "wb").write(re.sub(old, new, b))
PY
}
renamed() { edit_module "$1" "$2" '\x00'"$3"'\x00' '\x00'"$4"'\x00'; }
another() { edit_module "$1" "$2" 'fwpush [0-9]+(\.[0-9]+\.[0-9]+\x00)' 'fwpush 9\1'; }

if "$FWPUSH" --help | grep -q 'dpdk:'; then
	[ -n "$dpdk_mod" ] || not_ok "FWPUSH_MODULES names no fwpush-dpdk.so"
	bdf=0000:ff:1f.7
	dpdk() { env "$@" "$FWPUSH" push "$img" --target "dpdk:$bdf"; }
	expect_fail "dpdk: the module loads and looks for the device" 4 "no PCI device $bdf" dpdk
	expect_fail "dpdk: no module: named, with dlerror" 4 \
		"cannot load the dpdk: transport: module fwpush-dpdk.so: $empty/fwpush-dpdk.so: cannot open shared object file" \
		dpdk FWPUSH_MODULE_DIR="$empty"
	expect_fail "dpdk: a module that is not ELF" 4 "module fwpush-dpdk.so: .*invalid ELF header" \
		dpdk FWPUSH_MODULE_DIR="$odd"
	if renamed "$dpdk_mod" "$wrong/fwpush-dpdk.so" dpdk pcie; then
		expect_fail "dpdk: a module that is another module" 4 \
			"module fwpush-dpdk.so: $wrong/fwpush-dpdk.so is the pcie module of fwpush" \
			dpdk FWPUSH_MODULE_DIR="$wrong"
	else
		not_ok "cannot rename $dpdk_mod"
	fi
	if another "$dpdk_mod" "$other/fwpush-dpdk.so"; then
		expect_fail "dpdk: a module of another fwpush" 4 \
			"is the dpdk module of fwpush 9\.[0-9.]*, not the dpdk module of this fwpush" \
			dpdk FWPUSH_MODULE_DIR="$other"
	else
		not_ok "cannot make a dpdk module of another version from $dpdk_mod"
	fi
else
	echo "# built without DPDK: no dpdk: module to test"
fi

url() { env "$@" "$FWPUSH" rt-update --stage http://127.0.0.1:1/x --name "$T_NAME"; }
if ! url 2>&1 | grep -q "built without libcurl"; then
	[ -n "$curl_mod" ] || not_ok "FWPUSH_MODULES names no fwpush-curl.so"
	expect_fail "URL: the module loads and connects" 3 "update http://127.0.0.1:1/x: .*connect" url
	expect_fail "URL: no module: named, with dlerror" 3 \
		"cannot fetch URLs: module fwpush-curl.so: $empty/fwpush-curl.so: cannot open shared object file" \
		url FWPUSH_MODULE_DIR="$empty"
	expect_fail "URL: a module that is not ELF" 3 "module fwpush-curl.so: .*invalid ELF header" \
		url FWPUSH_MODULE_DIR="$odd"
	if renamed "$curl_mod" "$wrong/fwpush-curl.so" curl pcie; then
		expect_fail "URL: a module that is another module" 3 \
			"module fwpush-curl.so: $wrong/fwpush-curl.so is the pcie module of fwpush" \
			url FWPUSH_MODULE_DIR="$wrong"
	else
		not_ok "cannot rename $curl_mod"
	fi
	if another "$curl_mod" "$other/fwpush-curl.so"; then
		expect_fail "URL: a module of another fwpush" 3 \
			"is the curl module of fwpush 9\.[0-9.]*, not the curl module of this fwpush" \
			url FWPUSH_MODULE_DIR="$other"
	else
		not_ok "cannot make a curl module of another version from $curl_mod"
	fi
else
	echo "# built without libcurl: no curl module to test"
fi

# Keys. A module that does not load is one line, and nothing is written: the exit of a bad key
# (2) for sign, bmc-sim --pubkey and rt-update --pubkey, keygen's failure (1) for keygen, and
# the loader's reason. Those lines need -ELIBACC cases in tools/cmd_sign.c, cmd_bmc.c and
# cmd_rt.c (fwp_module_error()), not written yet: while SIGN_LINES_PENDING=1 a case that fails
# only on its exit code or line is a TODO, one that passes fails the test (then set it to 0).
SIGN_LINES_PENDING=0
# sign_fail DESCRIPTION CODE PATTERN COMMAND...: expect_fail for a signing module that does
# not load; whatever the line, the command must fail with one line.
sign_fail() {
	local what=$1 code=$2 pattern=$3 rc lines; shift 3
	[ "$SIGN_LINES_PENDING" = 1 ] || { expect_fail "$what" "$code" "$pattern" "$@"; return; }
	"$@" >"$T_DIR/out" 2>"$T_DIR/err"; rc=$?
	lines=$(wc -l <"$T_DIR/err")
	if [ "$rc" -eq 0 ] || [ "$lines" -ne 1 ]; then
		not_ok "$what: want a failure and one line, got exit $rc, $lines line(s):"
		sed 's/^/       /' "$T_DIR/err"
	elif [ "$rc" -eq "$code" ] && grep -q -- "$pattern" "$T_DIR/err"; then
		not_ok "$what: passes (exit $rc: $(cat "$T_DIR/err")): set SIGN_LINES_PENDING=0"
	else
		echo "TODO - $what: want exit $code and '$pattern', got exit $rc: $(cat "$T_DIR/err")"
	fi
}
if [ -n "$sign_mod" ]; then
	mods="$T_DIR/mods"
	mkdir "$mods"
	cp "$sign_mod" "$mods/"
	check "keygen with FWPUSH_MODULE_DIR" env FWPUSH_MODULE_DIR="$mods" \
		"$FWPUSH" keygen --out "$T_DIR/key3"
	check "sign with FWPUSH_MODULE_DIR" env FWPUSH_MODULE_DIR="$mods" \
		"$FWPUSH" sign "$img" --key "$T_DIR/key3" --out "$T_DIR/img.sig3"
	nomod="$empty/fwpush-sign.so: cannot open shared object file"
	sign_fail "keygen: no module: named, with dlerror" 1 "module fwpush-sign.so: $nomod" \
		env FWPUSH_MODULE_DIR="$empty" "$FWPUSH" keygen --out "$T_DIR/nokey"
	check "keygen: no module: no key written" [ ! -e "$T_DIR/nokey" ] && [ ! -e "$T_DIR/nokey.pub" ]
	sign_fail "sign: no module: named, with dlerror" 2 "module fwpush-sign.so: $nomod" \
		env FWPUSH_MODULE_DIR="$empty" "$FWPUSH" sign "$img" --key "$T_DIR/key" \
		--out "$T_DIR/nosig"
	check "sign: no module: no signature written" [ ! -e "$T_DIR/nosig" ]
	sign_fail "bmc-sim --pubkey: no module: named, with dlerror" 2 \
		"--pubkey $T_DIR/key.pub: .*module fwpush-sign.so: $nomod" \
		env FWPUSH_MODULE_DIR="$empty" "$FWPUSH" bmc-sim --window "shm:$T_NAME-nm" \
		--flash "$T_DIR/flash-nm" --pubkey "$T_DIR/key.pub"
	sign_fail "rt-update --pubkey: no module: named, with dlerror" 2 \
		"--pubkey $T_DIR/key.pub: .*module fwpush-sign.so: $nomod" \
		env FWPUSH_MODULE_DIR="$empty" "$FWPUSH" rt-update --activate --name "$T_NAME" \
		--flash "$T_DIR/flash-rt" --pubkey "$T_DIR/key.pub"
	cp "$odd/fwpush-dpdk.so" "$odd/fwpush-sign.so"
	sign_fail "sign: a module that is not ELF" 2 "module fwpush-sign.so: .*invalid ELF header" \
		env FWPUSH_MODULE_DIR="$odd" "$FWPUSH" sign "$img" --key "$T_DIR/key" \
		--out "$T_DIR/nosig"
	if renamed "$sign_mod" "$wrong/fwpush-sign.so" sign pcie; then
		sign_fail "bmc-sim --pubkey: a module that is another module" 2 \
			"module fwpush-sign.so: $wrong/fwpush-sign.so is the pcie module of fwpush" \
			env FWPUSH_MODULE_DIR="$wrong" "$FWPUSH" bmc-sim --window "shm:$T_NAME-wm" \
			--flash "$T_DIR/flash-wm" --pubkey "$T_DIR/key.pub"
	else
		not_ok "cannot rename $sign_mod"
	fi
	if another "$sign_mod" "$other/fwpush-sign.so"; then
		sign_fail "keygen: a module of another fwpush" 1 \
			"is the sign module of fwpush 9\.[0-9.]*, not the sign module of this fwpush" \
			env FWPUSH_MODULE_DIR="$other" "$FWPUSH" keygen --out "$T_DIR/nokey"
	else
		not_ok "cannot make a sign module of another version from $sign_mod"
	fi
fi

done_testing
