/* SPDX-License-Identifier: MIT */
#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fwpush/sign.h"

struct fwp_verifier {
	EVP_PKEY *key;
};

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

int fwp_keygen(const char *priv_path, const char *pub_path)
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

static int read_key(const char *path, int private, EVP_PKEY **out)
{
	FILE *f = fopen(path, "re");
	EVP_PKEY *k;

	if (!f)
		return -errno;
	k = private ? PEM_read_PrivateKey(f, NULL, NULL, NULL) : PEM_read_PUBKEY(f, NULL, NULL, NULL);
	fclose(f);
	if (!k || EVP_PKEY_get_id(k) != EVP_PKEY_ED25519) {
		EVP_PKEY_free(k);
		return -EINVAL;
	}
	*out = k;
	return 0;
}

/* Ed25519 signs the message itself, not a digest: the image is mapped, not read into memory. */
int fwp_sign_file(const char *key_path, const char *image_path, uint8_t sig[FWP_SIG_SIZE])
{
	size_t siglen = FWP_SIG_SIZE;
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *k = NULL;
	void *map = MAP_FAILED;
	struct stat st;
	int fd, ret;

	ret = read_key(key_path, 1, &k);
	if (ret)
		return ret;
	fd = open(image_path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st)) {
		ret = -errno;
		goto out;
	}
	if (st.st_size == 0) {
		ret = -ENODATA;
		goto out;
	}
	map = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	ctx = EVP_MD_CTX_new();
	ret = map == MAP_FAILED ? -errno : !ctx ? -ENOMEM : 0;
	if (!ret && (EVP_DigestSignInit(ctx, NULL, NULL, NULL, k) != 1 ||
		     EVP_DigestSign(ctx, sig, &siglen, map, st.st_size) != 1 ||
		     siglen != FWP_SIG_SIZE))
		ret = -EIO;
out:
	EVP_MD_CTX_free(ctx);
	if (map != MAP_FAILED)
		munmap(map, st.st_size);
	if (fd >= 0)
		close(fd);
	EVP_PKEY_free(k);
	return ret;
}

int fwp_verifier_open(const char *pub_path, struct fwp_verifier **out)
{
	struct fwp_verifier *v = calloc(1, sizeof(*v));
	int ret;

	if (!v)
		return -ENOMEM;
	ret = read_key(pub_path, 0, &v->key);
	if (ret) {
		free(v);
		return ret;
	}
	*out = v;
	return 0;
}

int fwp_verify(struct fwp_verifier *v, const void *msg, size_t len,
	       const uint8_t sig[FWP_SIG_SIZE])
{
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	int ok;

	if (!ctx)
		return -ENOMEM;
	ok = EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, v->key) == 1 &&
	     EVP_DigestVerify(ctx, sig, FWP_SIG_SIZE, msg, len) == 1;
	EVP_MD_CTX_free(ctx);
	return ok ? 0 : -EBADMSG;
}

void fwp_verifier_close(struct fwp_verifier *v)
{
	if (!v)
		return;
	EVP_PKEY_free(v->key);
	free(v);
}
