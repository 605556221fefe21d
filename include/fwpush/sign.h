/* SPDX-License-Identifier: MIT */
/* Ed25519 signatures of whole images (OpenSSL's libcrypto): detached, 64 bytes. */
#ifndef FWPUSH_SIGN_H
#define FWPUSH_SIGN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif
/* What this header declares is libfwpush's ABI: exported from libfwpush.so. */
#pragma GCC visibility push(default)

#define FWP_SIG_SIZE	64

/* Writes a new key pair: priv_path (PKCS#8 PEM, mode 0600) and pub_path (PEM). */
int fwp_keygen(const char *priv_path, const char *pub_path);

/* Signs the file at image_path. -ENOENT/-EACCES: unreadable; -EINVAL: not an Ed25519 key. */
int fwp_sign_file(const char *key_path, const char *image_path, uint8_t sig[FWP_SIG_SIZE]);

struct fwp_verifier;

/* Loads a public key (PEM). -EINVAL: not an Ed25519 public key. */
int fwp_verifier_open(const char *pub_path, struct fwp_verifier **out);
/* 0 if sig signs msg, -EBADMSG if not. */
int fwp_verify(struct fwp_verifier *v, const void *msg, size_t len,
	       const uint8_t sig[FWP_SIG_SIZE]);
void fwp_verifier_close(struct fwp_verifier *v);

#pragma GCC visibility pop

#ifdef __cplusplus
}
#endif
#endif
