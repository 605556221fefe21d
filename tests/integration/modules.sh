#!/usr/bin/env bash
# The loadable modules (engine/transport/module.h): fwpush itself links neither DPDK nor libcurl;
# a dpdk: target loads fwpush-dpdk.so and a URL fwpush-curl.so. A module that is missing, is
# not an ELF object, is another module, or comes from another fwpush gives one line naming it
# with the loader's reason: exit 4 for a dpdk: target, exit 3 for a URL. A plain push and
# --version never look for one. FWPUSH_MODULES lists the built modules (colon-separated).
# Exits 77 (SKIP) on a static build, which links everything in and loads nothing, or without
# readelf.
. "$(dirname "$0")/lib.sh"

command -v readelf >/dev/null || { echo "SKIP: no readelf (binutils)"; exit 77; }
if ! readelf -d "$FWPUSH" | grep -q NEEDED; then
	echo "SKIP: $FWPUSH is linked statically: it loads no modules"
	exit 77
fi
curl_mod= dpdk_mod=
IFS=: read -r -a mods <<<"${FWPUSH_MODULES:-}"
for m in "${mods[@]}"; do
	case "$m" in
	*/fwpush-curl.so) curl_mod=$m ;;
	*/fwpush-dpdk.so) dpdk_mod=$m ;;
	esac
done

needed=$(readelf -d "$FWPUSH" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')
check "fwpush links neither libcurl nor DPDK (NEEDED: $needed)" \
	bash -c '! grep -qE "libcurl|librte_" <<<"$1"' _ "$needed"

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

done_testing
