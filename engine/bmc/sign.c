/* SPDX-License-Identifier: MIT */
/*
 * Ed25519 signatures (fwpush/sign.h). The libcrypto code is sign_crypto.c: the module
 * fwpush-sign.so, loaded the first time a key is used (keygen, sign, a verifier), so that no
 * other process maps libcrypto and pays for its relocations; a static build links it in. A
 * module that does not load is -ELIBACC, and fwp_module_error() names it and says why.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bmc/sign_crypto.h"
#include "fwpush/sign.h"
#include "transport/module.h"

struct fwp_verifier {
	const struct fwp_sign_ops *ops;
	struct fwp_sign_key *key;
};

static int crypto(const struct fwp_sign_ops **ops)
{
#if defined(FWP_SIGN_LINKED)
	*ops = &fwp_sign_libcrypto;
	return 0;
#elif defined(FWP_SIGN_MODULE)
	const void *loaded;
	int ret = fwp_module_load("sign", FWP_SIGN_MODULE, sizeof(**ops), &loaded);

	if (!ret)
		*ops = loaded;
	return ret;
#else
#error "engine/bmc/meson.build defines FWP_SIGN_LINKED or FWP_SIGN_MODULE"
#endif
}

int fwp_keygen(const char *priv_path, const char *pub_path)
{
	const struct fwp_sign_ops *ops;
	int ret = crypto(&ops);

	return ret ? ret : ops->keygen(priv_path, pub_path);
}

/* Ed25519 signs the message itself, not a digest: the image is mapped, not read into memory. */
int fwp_sign_file(const char *key_path, const char *image_path, uint8_t sig[FWP_SIG_SIZE])
{
	const struct fwp_sign_ops *ops;
	struct fwp_sign_key *k = NULL;
	void *map = MAP_FAILED;
	struct stat st;
	int fd = -1, ret;

	ret = crypto(&ops);
	if (ret)
		return ret;
	ret = ops->key_read(key_path, true, &k);
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
	ret = map == MAP_FAILED ? -errno : ops->sign(k, map, st.st_size, sig);
out:
	if (map != MAP_FAILED)
		munmap(map, st.st_size);
	if (fd >= 0)
		close(fd);
	ops->key_free(k);
	return ret;
}

int fwp_verifier_open(const char *pub_path, struct fwp_verifier **out)
{
	struct fwp_verifier *v;
	int ret;

	v = calloc(1, sizeof(*v));
	if (!v)
		return -ENOMEM;
	ret = crypto(&v->ops);
	if (!ret)
		ret = v->ops->key_read(pub_path, false, &v->key);
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
	return v->ops->verify(v->key, msg, len, sig);
}

void fwp_verifier_close(struct fwp_verifier *v)
{
	if (!v)
		return;
	v->ops->key_free(v->key);
	free(v);
}
