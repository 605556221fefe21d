/* SPDX-License-Identifier: MIT */
/*
 * Ed25519 keys, signatures and their checks with libcrypto (sign_crypto.h): the module
 * fwpush-sign.so, or linked in by a static build. It knows nothing of fwpush but the ops table.
 */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <unistd.h>

#include "bmc/sign_crypto.h"
#include "transport/module.h"

static EVP_PKEY *pkey(struct fwp_sign_key *k)
{
	return (EVP_PKEY *)k;
}

static int write_pem(const char *path, mode_t mode, EVP_PKEY *k, int private)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
	int ok;

	if (!f) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	ok = private ? PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL)
		     : PEM_write_PUBKEY(f, k);
	return fclose(f) == 0 && ok ? 0 : -EIO;
}

static int ed25519_keygen(const char *priv_path, const char *pub_path)
{
	EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
	int ret;

	if (!k)
		return -ENOMEM;
	ret = write_pem(priv_path, 0600, k, 1);
	if (!ret)
		ret = write_pem(pub_path, 0644, k, 0);
	EVP_PKEY_free(k);
	return ret;
}

static int ed25519_key_read(const char *path, bool private_key, struct fwp_sign_key **out)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k;

	if (!f)
		return -errno;
	k = private_key ? PEM_read_PrivateKey(f, NULL, NULL, NULL)
			: PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!k || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		return -EINVAL;
	}
	*out = (struct fwp_sign_key *)k;
	return 0;
}

static void ed25519_key_free(struct fwp_sign_key *k)
{
	EVP_PKEY_free(pkey(k));
}

static int ed25519_sign(struct fwp_sign_key *k, const void *msg, size_t len,
			uint8_t sig[FWP_SIG_SIZE])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	size_t siglen = FWP_SIG_SIZE;
	int ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestSignInit(ctx, NULL, NULL, NULL, pkey(k)) == 1 &&
	     EVP_DigestSign(ctx, sig, &siglen, msg, len) == 1 && siglen == FWP_SIG_SIZE;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EIO;
}

static int ed25519_verify(struct fwp_sign_key *k, const void *msg, size_t len,
			  const uint8_t sig[FWP_SIG_SIZE])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, pkey(k)) == 1 &&
	     EVP_DigestVerify(ctx, sig, FWP_SIG_SIZE, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EBADMSG;
}

const struct fwp_sign_ops fwp_sign_libcrypto = {
	.keygen = ed25519_keygen,
	.key_read = ed25519_key_read,
	.key_free = ed25519_key_free,
	.sign = ed25519_sign,
	.verify = ed25519_verify,
};

#ifdef FWP_MODULE
FWP_MODULE_EXPORT("sign", fwp_sign_libcrypto);
#endif
