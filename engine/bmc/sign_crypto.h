/* SPDX-License-Identifier: MIT */
/*
 * Ed25519 through OpenSSL's libcrypto, the only code of fwpush that calls it: the module
 * fwpush-sign.so (transport/module.h), which sign.c loads the first time a key is used, so that
 * no other process (--version, a push, even one with --signature) maps libcrypto; a static
 * build links sign_crypto.c in instead. sign.c keeps what needs no libcrypto: the public API,
 * mapping the image, the module lookup.
 */
#ifndef FWP_SIGN_CRYPTO_H
#define FWP_SIGN_CRYPTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fwpush/sign.h"

/* A key, private or public (an EVP_PKEY inside the module). */
struct fwp_sign_key;

struct fwp_sign_ops {
	/* Writes a new key pair: priv_path (PKCS#8 PEM, mode 0600) and pub_path (PEM). */
	int (*keygen)(const char *priv_path, const char *pub_path);
	/* Reads a PEM key. -errno: unreadable; -EINVAL: not an Ed25519 key of that kind. */
	int (*key_read)(const char *path, bool private_key, struct fwp_sign_key **key);
	void (*key_free)(struct fwp_sign_key *key);
	/* Signs msg itself (Ed25519 takes no digest). -EIO, -ENOMEM. */
	int (*sign)(struct fwp_sign_key *key, const void *msg, size_t len,
		    uint8_t sig[FWP_SIG_SIZE]);
	/* 0 if sig signs msg under the public key, -EBADMSG if not; -ENOMEM. */
	int (*verify)(struct fwp_sign_key *key, const void *msg, size_t len,
		      const uint8_t sig[FWP_SIG_SIZE]);
};

extern const struct fwp_sign_ops fwp_sign_libcrypto;

#endif
