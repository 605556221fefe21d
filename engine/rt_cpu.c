/* SPDX-License-Identifier: MIT */
#include <cpuid.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>

#include "rt_cpu.h"

#define FP_XSTATE_MAGIC1	0x46505853u
#define SW_BYTES_OFFSET		464	/* struct _fpx_sw_bytes in the legacy area */
#define XMM_OFFSET		160	/* xmm0-15 in the legacy area */
#define XMM_SIZE		256
#define XSAVE_HDR_OFFSET	512	/* the XSAVE header: XSTATE_BV, XCOMP_BV, reserved */
#define XSAVE_HDR_SIZE		64

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

int fwp_xsave_probe(struct fwp_xsave_info *xi)
{
	unsigned a, b, c, d;

	memset(xi, 0, sizeof(*xi));
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_XSAVE) || !(c & bit_OSXSAVE))
		return -ENOTSUP;
	/* x87, SSE, AVX, AVX-512 (opmask, ZMM_Hi256, Hi16_ZMM): what user code can hold. */
	xi->mask = xgetbv0() & 0xe7;
	__cpuid_count(0xd, 0, a, b, c, d);
	xi->size = b;
	xi->avx = (xi->mask & 0x6) == 0x6;
	xi->avx512 = xi->avx && (xi->mask & 0xe0) == 0xe0;
	if (xi->avx) {
		__cpuid_count(0xd, 2, a, b, c, d);
		xi->ymm_size = a;
		xi->ymm_offset = b;
	}
	return 0;
}

static int frame_xsave(ucontext_t *uc, void **area)
{
	unsigned char *fx = (unsigned char *)uc->uc_mcontext.fpregs;
	uint32_t magic;

	if (!fx)
		return -EPROTO;
	memcpy(&magic, fx + SW_BYTES_OFFSET, sizeof(magic));
	if (magic != FP_XSTATE_MAGIC1)
		return -EPROTO;
	*area = fx;
	return 0;
}

/* The kernel saved the state in the frame and gave the handler a clean FPU: load, then save. */
static void xrstor_then_xsave(const void *from, void *to, uint64_t mask)
{
	__asm__ __volatile__("xrstor64 (%0)\n\txsave64 (%1)"
			     : : "r"(from), "r"(to), "a"((uint32_t)mask), "d"((uint32_t)(mask >> 32))
			     : "memory");
}

void fwp_xsave_cycle(const struct fwp_xsave_info *xi, void *area)
{
	__asm__ __volatile__("xsave64 (%0)\n\txrstor64 (%0)"
			     : : "r"(area), "a"((uint32_t)xi->mask), "d"((uint32_t)(xi->mask >> 32))
			     : "memory");
}

int fwp_state_save(const struct fwp_xsave_info *xi, ucontext_t *uc, uint64_t *gregs,
		   void *area)
{
	void *frame;
	int ret = frame_xsave(uc, &frame);

	if (ret)
		return ret;
	memcpy(gregs, uc->uc_mcontext.gregs, FWP_RT_GREGS * sizeof(uint64_t));
	/* XSAVE writes only XSTATE_BV; XRSTOR faults unless the rest of the header is zero. */
	memset((unsigned char *)area + XSAVE_HDR_OFFSET, 0, XSAVE_HDR_SIZE);
	xrstor_then_xsave(frame, area, xi->mask);
	return 0;
}

int fwp_state_restore(const struct fwp_xsave_info *xi, ucontext_t *uc, const uint64_t *gregs,
		      const void *area)
{
	void *frame;
	int ret = frame_xsave(uc, &frame);

	if (ret)
		return ret;
	xrstor_then_xsave(area, frame, xi->mask);
	memcpy(uc->uc_mcontext.gregs, gregs, FWP_RT_GREGS * sizeof(uint64_t));
	return 0;
}

void fwp_state_clobber(const struct fwp_xsave_info *xi, ucontext_t *uc)
{
	static const int gp[] = { REG_RBX, REG_R12, REG_R13, REG_R14, REG_R15 };
	unsigned char *fx = (unsigned char *)uc->uc_mcontext.fpregs;
	size_t i;

	for (i = 0; i < sizeof(gp) / sizeof(gp[0]); i++)
		uc->uc_mcontext.gregs[gp[i]] = 0xdeaddeaddeaddeadll;
	if (fx) {
		memset(fx + XMM_OFFSET, 0xa5, XMM_SIZE);
		if (xi->ymm_offset)
			memset(fx + xi->ymm_offset, 0xa5, xi->ymm_size);
	}
	/* And the live registers: what the handler leaves behind must not matter. */
	if (xi->avx)
		__asm__ __volatile__("vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\t"
				     "vmovdqa %%ymm0, %%ymm1\n\tvmovdqa %%ymm0, %%ymm2\n\t"
				     "vmovdqa %%ymm0, %%ymm3\n\tvmovdqa %%ymm0, %%ymm8\n\t"
				     "vmovdqa %%ymm0, %%ymm15"
				     : : : "xmm0", "xmm1", "xmm2", "xmm3", "xmm8", "xmm15");
	else
		__asm__ __volatile__("pcmpeqd %%xmm0, %%xmm0\n\tmovdqa %%xmm0, %%xmm1\n\t"
				     "movdqa %%xmm0, %%xmm15" : : : "xmm0", "xmm1", "xmm15");
}

size_t fwp_workload_init(struct fwp_workload *w, const struct fwp_xsave_info *xi, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	size_t i, vec_bytes = xi->avx512 ? 32 * 64 : xi->avx ? 16 * 32 : 16 * 16;

	memset(w, 0, sizeof(*w));
	for (i = 0; i < 5; i++)
		w->gp_in[i] = x = x * 6364136223846793005ull + 1442695040888963407ull;
	for (i = 0; i < sizeof(w->vec_in); i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		w->vec_in[i / 64][i % 64] = x >> 56;
	}
	return vec_bytes;
}

/*
 * The workloads: load rbx, r12-r15 and every vector register from gp_in/vec_in, say so, spin
 * until told to stop, then store them all to gp_out/vec_out. Vector i sits at byte 64 * i.
 */
__attribute__((target("avx512f")))
static void run_avx512(struct fwp_workload *w)
{
	__asm__ __volatile__(
		"movq 0(%[gin]), %%rbx\n\tmovq 8(%[gin]), %%r12\n\t"
		"movq 16(%[gin]), %%r13\n\tmovq 24(%[gin]), %%r14\n\t"
		"movq 32(%[gin]), %%r15\n\t"
		"vmovdqu64 0(%[vin]), %%zmm0\n\t"
		"vmovdqu64 64(%[vin]), %%zmm1\n\t"
		"vmovdqu64 128(%[vin]), %%zmm2\n\t"
		"vmovdqu64 192(%[vin]), %%zmm3\n\t"
		"vmovdqu64 256(%[vin]), %%zmm4\n\t"
		"vmovdqu64 320(%[vin]), %%zmm5\n\t"
		"vmovdqu64 384(%[vin]), %%zmm6\n\t"
		"vmovdqu64 448(%[vin]), %%zmm7\n\t"
		"vmovdqu64 512(%[vin]), %%zmm8\n\t"
		"vmovdqu64 576(%[vin]), %%zmm9\n\t"
		"vmovdqu64 640(%[vin]), %%zmm10\n\t"
		"vmovdqu64 704(%[vin]), %%zmm11\n\t"
		"vmovdqu64 768(%[vin]), %%zmm12\n\t"
		"vmovdqu64 832(%[vin]), %%zmm13\n\t"
		"vmovdqu64 896(%[vin]), %%zmm14\n\t"
		"vmovdqu64 960(%[vin]), %%zmm15\n\t"
		"vmovdqu64 1024(%[vin]), %%zmm16\n\t"
		"vmovdqu64 1088(%[vin]), %%zmm17\n\t"
		"vmovdqu64 1152(%[vin]), %%zmm18\n\t"
		"vmovdqu64 1216(%[vin]), %%zmm19\n\t"
		"vmovdqu64 1280(%[vin]), %%zmm20\n\t"
		"vmovdqu64 1344(%[vin]), %%zmm21\n\t"
		"vmovdqu64 1408(%[vin]), %%zmm22\n\t"
		"vmovdqu64 1472(%[vin]), %%zmm23\n\t"
		"vmovdqu64 1536(%[vin]), %%zmm24\n\t"
		"vmovdqu64 1600(%[vin]), %%zmm25\n\t"
		"vmovdqu64 1664(%[vin]), %%zmm26\n\t"
		"vmovdqu64 1728(%[vin]), %%zmm27\n\t"
		"vmovdqu64 1792(%[vin]), %%zmm28\n\t"
		"vmovdqu64 1856(%[vin]), %%zmm29\n\t"
		"vmovdqu64 1920(%[vin]), %%zmm30\n\t"
		"vmovdqu64 1984(%[vin]), %%zmm31\n\t"
		"movl $1, (%[inloop])\n\t"
		"1: pause\n\tcmpl $0, (%[stop])\n\tje 1b\n\t"
		"movq %%rbx, 0(%[gout])\n\tmovq %%r12, 8(%[gout])\n\t"
		"movq %%r13, 16(%[gout])\n\tmovq %%r14, 24(%[gout])\n\t"
		"movq %%r15, 32(%[gout])\n\t"
		"vmovdqu64 %%zmm0, 0(%[vout])\n\t"
		"vmovdqu64 %%zmm1, 64(%[vout])\n\t"
		"vmovdqu64 %%zmm2, 128(%[vout])\n\t"
		"vmovdqu64 %%zmm3, 192(%[vout])\n\t"
		"vmovdqu64 %%zmm4, 256(%[vout])\n\t"
		"vmovdqu64 %%zmm5, 320(%[vout])\n\t"
		"vmovdqu64 %%zmm6, 384(%[vout])\n\t"
		"vmovdqu64 %%zmm7, 448(%[vout])\n\t"
		"vmovdqu64 %%zmm8, 512(%[vout])\n\t"
		"vmovdqu64 %%zmm9, 576(%[vout])\n\t"
		"vmovdqu64 %%zmm10, 640(%[vout])\n\t"
		"vmovdqu64 %%zmm11, 704(%[vout])\n\t"
		"vmovdqu64 %%zmm12, 768(%[vout])\n\t"
		"vmovdqu64 %%zmm13, 832(%[vout])\n\t"
		"vmovdqu64 %%zmm14, 896(%[vout])\n\t"
		"vmovdqu64 %%zmm15, 960(%[vout])\n\t"
		"vmovdqu64 %%zmm16, 1024(%[vout])\n\t"
		"vmovdqu64 %%zmm17, 1088(%[vout])\n\t"
		"vmovdqu64 %%zmm18, 1152(%[vout])\n\t"
		"vmovdqu64 %%zmm19, 1216(%[vout])\n\t"
		"vmovdqu64 %%zmm20, 1280(%[vout])\n\t"
		"vmovdqu64 %%zmm21, 1344(%[vout])\n\t"
		"vmovdqu64 %%zmm22, 1408(%[vout])\n\t"
		"vmovdqu64 %%zmm23, 1472(%[vout])\n\t"
		"vmovdqu64 %%zmm24, 1536(%[vout])\n\t"
		"vmovdqu64 %%zmm25, 1600(%[vout])\n\t"
		"vmovdqu64 %%zmm26, 1664(%[vout])\n\t"
		"vmovdqu64 %%zmm27, 1728(%[vout])\n\t"
		"vmovdqu64 %%zmm28, 1792(%[vout])\n\t"
		"vmovdqu64 %%zmm29, 1856(%[vout])\n\t"
		"vmovdqu64 %%zmm30, 1920(%[vout])\n\t"
		"vmovdqu64 %%zmm31, 1984(%[vout])\n\t"
		: : [gin] "r"(w->gp_in), [gout] "r"(w->gp_out), [vin] "r"(w->vec_in),
		  [vout] "r"(w->vec_out), [inloop] "r"(&w->in_loop), [stop] "r"(w->stop)
		: "rbx", "r12", "r13", "r14", "r15", "memory", "cc",
		  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15", "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", "xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", "xmm31");
}

__attribute__((target("avx")))
static void run_avx(struct fwp_workload *w)
{
	__asm__ __volatile__(
		"movq 0(%[gin]), %%rbx\n\tmovq 8(%[gin]), %%r12\n\t"
		"movq 16(%[gin]), %%r13\n\tmovq 24(%[gin]), %%r14\n\t"
		"movq 32(%[gin]), %%r15\n\t"
		"vmovdqu 0(%[vin]), %%ymm0\n\t"
		"vmovdqu 64(%[vin]), %%ymm1\n\t"
		"vmovdqu 128(%[vin]), %%ymm2\n\t"
		"vmovdqu 192(%[vin]), %%ymm3\n\t"
		"vmovdqu 256(%[vin]), %%ymm4\n\t"
		"vmovdqu 320(%[vin]), %%ymm5\n\t"
		"vmovdqu 384(%[vin]), %%ymm6\n\t"
		"vmovdqu 448(%[vin]), %%ymm7\n\t"
		"vmovdqu 512(%[vin]), %%ymm8\n\t"
		"vmovdqu 576(%[vin]), %%ymm9\n\t"
		"vmovdqu 640(%[vin]), %%ymm10\n\t"
		"vmovdqu 704(%[vin]), %%ymm11\n\t"
		"vmovdqu 768(%[vin]), %%ymm12\n\t"
		"vmovdqu 832(%[vin]), %%ymm13\n\t"
		"vmovdqu 896(%[vin]), %%ymm14\n\t"
		"vmovdqu 960(%[vin]), %%ymm15\n\t"
		"movl $1, (%[inloop])\n\t"
		"1: pause\n\tcmpl $0, (%[stop])\n\tje 1b\n\t"
		"movq %%rbx, 0(%[gout])\n\tmovq %%r12, 8(%[gout])\n\t"
		"movq %%r13, 16(%[gout])\n\tmovq %%r14, 24(%[gout])\n\t"
		"movq %%r15, 32(%[gout])\n\t"
		"vmovdqu %%ymm0, 0(%[vout])\n\t"
		"vmovdqu %%ymm1, 64(%[vout])\n\t"
		"vmovdqu %%ymm2, 128(%[vout])\n\t"
		"vmovdqu %%ymm3, 192(%[vout])\n\t"
		"vmovdqu %%ymm4, 256(%[vout])\n\t"
		"vmovdqu %%ymm5, 320(%[vout])\n\t"
		"vmovdqu %%ymm6, 384(%[vout])\n\t"
		"vmovdqu %%ymm7, 448(%[vout])\n\t"
		"vmovdqu %%ymm8, 512(%[vout])\n\t"
		"vmovdqu %%ymm9, 576(%[vout])\n\t"
		"vmovdqu %%ymm10, 640(%[vout])\n\t"
		"vmovdqu %%ymm11, 704(%[vout])\n\t"
		"vmovdqu %%ymm12, 768(%[vout])\n\t"
		"vmovdqu %%ymm13, 832(%[vout])\n\t"
		"vmovdqu %%ymm14, 896(%[vout])\n\t"
		"vmovdqu %%ymm15, 960(%[vout])\n\t"
		: : [gin] "r"(w->gp_in), [gout] "r"(w->gp_out), [vin] "r"(w->vec_in),
		  [vout] "r"(w->vec_out), [inloop] "r"(&w->in_loop), [stop] "r"(w->stop)
		: "rbx", "r12", "r13", "r14", "r15", "memory", "cc",
		  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

static void run_sse(struct fwp_workload *w)
{
	__asm__ __volatile__(
		"movq 0(%[gin]), %%rbx\n\tmovq 8(%[gin]), %%r12\n\t"
		"movq 16(%[gin]), %%r13\n\tmovq 24(%[gin]), %%r14\n\t"
		"movq 32(%[gin]), %%r15\n\t"
		"movdqu 0(%[vin]), %%xmm0\n\t"
		"movdqu 64(%[vin]), %%xmm1\n\t"
		"movdqu 128(%[vin]), %%xmm2\n\t"
		"movdqu 192(%[vin]), %%xmm3\n\t"
		"movdqu 256(%[vin]), %%xmm4\n\t"
		"movdqu 320(%[vin]), %%xmm5\n\t"
		"movdqu 384(%[vin]), %%xmm6\n\t"
		"movdqu 448(%[vin]), %%xmm7\n\t"
		"movdqu 512(%[vin]), %%xmm8\n\t"
		"movdqu 576(%[vin]), %%xmm9\n\t"
		"movdqu 640(%[vin]), %%xmm10\n\t"
		"movdqu 704(%[vin]), %%xmm11\n\t"
		"movdqu 768(%[vin]), %%xmm12\n\t"
		"movdqu 832(%[vin]), %%xmm13\n\t"
		"movdqu 896(%[vin]), %%xmm14\n\t"
		"movdqu 960(%[vin]), %%xmm15\n\t"
		"movl $1, (%[inloop])\n\t"
		"1: pause\n\tcmpl $0, (%[stop])\n\tje 1b\n\t"
		"movq %%rbx, 0(%[gout])\n\tmovq %%r12, 8(%[gout])\n\t"
		"movq %%r13, 16(%[gout])\n\tmovq %%r14, 24(%[gout])\n\t"
		"movq %%r15, 32(%[gout])\n\t"
		"movdqu %%xmm0, 0(%[vout])\n\t"
		"movdqu %%xmm1, 64(%[vout])\n\t"
		"movdqu %%xmm2, 128(%[vout])\n\t"
		"movdqu %%xmm3, 192(%[vout])\n\t"
		"movdqu %%xmm4, 256(%[vout])\n\t"
		"movdqu %%xmm5, 320(%[vout])\n\t"
		"movdqu %%xmm6, 384(%[vout])\n\t"
		"movdqu %%xmm7, 448(%[vout])\n\t"
		"movdqu %%xmm8, 512(%[vout])\n\t"
		"movdqu %%xmm9, 576(%[vout])\n\t"
		"movdqu %%xmm10, 640(%[vout])\n\t"
		"movdqu %%xmm11, 704(%[vout])\n\t"
		"movdqu %%xmm12, 768(%[vout])\n\t"
		"movdqu %%xmm13, 832(%[vout])\n\t"
		"movdqu %%xmm14, 896(%[vout])\n\t"
		"movdqu %%xmm15, 960(%[vout])\n\t"
		: : [gin] "r"(w->gp_in), [gout] "r"(w->gp_out), [vin] "r"(w->vec_in),
		  [vout] "r"(w->vec_out), [inloop] "r"(&w->in_loop), [stop] "r"(w->stop)
		: "rbx", "r12", "r13", "r14", "r15", "memory", "cc",
		  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15");
}

void fwp_workload_run(struct fwp_workload *w, const struct fwp_xsave_info *xi)
{
	if (xi->avx512)
		run_avx512(w);
	else if (xi->avx)
		run_avx(w);
	else
		run_sse(w);
}

int fwp_workload_check(const struct fwp_workload *w, size_t vec_bytes)
{
	size_t width = vec_bytes >= 32 * 64 ? 64 : vec_bytes >= 16 * 32 ? 32 : 16;
	size_t n = vec_bytes / width, i;

	if (memcmp(w->gp_in, w->gp_out, sizeof(w->gp_in)))
		return -1;
	for (i = 0; i < n; i++) {
		if (memcmp(w->vec_in[i], w->vec_out[i], width))
			return -1;
	}
	return 0;
}
