/* SPDX-License-Identifier: MIT */
#include <cpuid.h>
#include <errno.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <x86intrin.h>

#include "rt/rt_cpu.h"

#define SW_BYTES_OFFSET		464	/* struct _fpx_sw_bytes in the legacy area */
#define SW_XSTATE_SIZE		(SW_BYTES_OFFSET + 16)	/* its xstate_size: the frame's XSAVE image */
#define XMM_OFFSET		160	/* xmm0-15 in the legacy area */
#define XMM_SIZE		256
#define XSAVE_HDR_OFFSET	512	/* the XSAVE header: XSTATE_BV, XCOMP_BV, reserved */
/* What a workload holds: SSE, AVX, opmask, ZMM_Hi256, Hi16_ZMM (x87 it leaves alone). */
#define HELD_COMPONENTS		0xe6ull

static uint64_t xgetbv0(void)
{
	uint32_t lo, hi;

	__asm__ __volatile__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
	return (uint64_t)hi << 32 | lo;
}

int fwp_xsave_probe(struct fwp_xsave_info *xi)
{
	unsigned a, b, c, d, i;

	memset(xi, 0, sizeof(*xi));
	if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_XSAVE) || !(c & bit_OSXSAVE))
		return -ENOTSUP;
	/* x87, SSE, AVX, AVX-512 (opmask, ZMM_Hi256, Hi16_ZMM): what user code can hold. */
	xi->mask = xgetbv0() & 0xe7;
	__cpuid_count(0xd, 0, a, b, c, d);
	xi->size = b;
	for (i = 2; i < FWP_XSTATE_COMPONENTS; i++) {
		if (!(xi->mask >> i & 1))
			continue;
		__cpuid_count(0xd, i, a, b, c, d);
		xi->comp_size[i] = a;
		xi->comp_offset[i] = b;
	}
	xi->avx = (xi->mask & 0x6) == 0x6;
	xi->avx512 = xi->avx && (xi->mask & 0xe0) == 0xe0;
	if (xi->avx512 && __get_cpuid_count(7, 0, &a, &b, &c, &d))
		xi->avx512bw = b & bit_AVX512BW;
	return 0;
}

/*
 * The frame's XSAVE image and its size (the kernel's xstate_size); FP_XSTATE_MAGIC2 follows it,
 * which sigreturn looks for before it restores more than the legacy x87/SSE state. -EPROTO: no
 * XSAVE image, or one larger than CPUID says XCR0's features take.
 */
static int frame_xsave(const struct fwp_xsave_info *xi, ucontext_t *uc, void **area,
		       size_t *size)
{
	unsigned char *fx = (unsigned char *)uc->uc_mcontext.fpregs;
	uint32_t magic, xstate_size;

	if (!fx)
		return -EPROTO;
	memcpy(&magic, fx + SW_BYTES_OFFSET, sizeof(magic));
	if (magic != FP_XSTATE_MAGIC1)
		return -EPROTO;
	memcpy(&xstate_size, fx + SW_XSTATE_SIZE, sizeof(xstate_size));
	if (xstate_size > xi->size)
		return -EPROTO;
	*area = fx;
	*size = xstate_size;
	return 0;
}

/*
 * The copies into the slot: rep movsb, no vector registers. A CPU that has been
 * spinning may have its wide vector units powered down, and the first wide instructions after
 * the interrupt would run at a fraction of their speed.
 */
static void copy_bytes(void *dst, const void *src, size_t n)
{
	__asm__ __volatile__("rep movsb" : "+D"(dst), "+S"(src), "+c"(n) : : "memory");
}

int fwp_state_save(const struct fwp_xsave_info *xi, ucontext_t *uc, uint64_t *gregs,
		   void *area)
{
	void *frame;
	size_t size;
	int ret = frame_xsave(xi, uc, &frame, &size);

	if (ret)
		return ret;
	copy_bytes(gregs, uc->uc_mcontext.gregs, FWP_RT_GREGS * sizeof(uint64_t));
	copy_bytes(area, frame, size + FP_XSTATE_MAGIC2_SIZE);
	return 0;
}

int fwp_state_restore(const struct fwp_xsave_info *xi, ucontext_t *uc, const uint64_t *gregs,
		      void *area)
{
	void *frame;
	size_t size;
	int ret = frame_xsave(xi, uc, &frame, &size);	/* sigreturn will take XSAVE state */

	if (ret)
		return ret;
	uc->uc_mcontext.fpregs = area;
	copy_bytes(uc->uc_mcontext.gregs, gregs, FWP_RT_GREGS * sizeof(uint64_t));
	return 0;
}

#define CLOB_XSAVE	"memory", "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", \
			"xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", \
			"xmm15"

__attribute__((noinline))
void fwp_xsave_floor(const struct fwp_xsave_info *xi, const void *frame, void *area,
		     unsigned reps, uint64_t *xsave_ticks, uint64_t *xrstor_ticks)
{
	uint32_t lo = (uint32_t)xi->mask, hi = (uint32_t)(xi->mask >> 32);
	uint64_t t0, t1, t2;
	unsigned i;

	__asm__ __volatile__("xrstor64 (%0)" : : "r"(frame), "a"(lo), "d"(hi) : CLOB_XSAVE);
	t0 = fwp_rt_stamp();
	for (i = 0; i < reps; i++)
		__asm__ __volatile__("xsave64 (%0)" : : "r"(area), "a"(lo), "d"(hi) : "memory");
	t1 = fwp_rt_stamp();
	for (i = 0; i < reps; i++)
		__asm__ __volatile__("xrstor64 (%0)" : : "r"(area), "a"(lo), "d"(hi) : CLOB_XSAVE);
	t2 = fwp_rt_stamp();
	*xsave_ticks = t1 - t0;
	*xrstor_ticks = t2 - t1;
}

uint64_t fwp_rt_stamp(void)
{
	return __rdtsc();
}

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double fwp_rt_stamp_ns(void)
{
	static double ns_per_tick;
	uint64_t t0, c0, t1, c1;

	if (ns_per_tick > 0)
		return ns_per_tick;
	t0 = mono_ns();
	c0 = fwp_rt_stamp();
	do
		t1 = mono_ns();
	while (t1 - t0 < 2000000);
	c1 = fwp_rt_stamp();
	ns_per_tick = c1 > c0 ? (double)(t1 - t0) / (double)(c1 - c0) : 1.0;
	return ns_per_tick;
}

/*
 * Every component a workload holds, in a standard-format XSAVE image, set to byte and marked
 * present in XSTATE_BV: XRSTOR then loads these bytes rather than the init state (zeros).
 */
static void fill_held(const struct fwp_xsave_info *xi, unsigned char *fx, int byte)
{
	uint64_t bv;
	unsigned i;

	memset(fx + XMM_OFFSET, byte, XMM_SIZE);
	for (i = 2; i < FWP_XSTATE_COMPONENTS; i++) {
		if (xi->mask & HELD_COMPONENTS & 1ull << i)
			memset(fx + xi->comp_offset[i], byte, xi->comp_size[i]);
	}
	memcpy(&bv, fx + XSAVE_HDR_OFFSET, sizeof(bv));
	bv |= xi->mask & HELD_COMPONENTS;
	memcpy(fx + XSAVE_HDR_OFFSET, &bv, sizeof(bv));
}

void fwp_xsave_frame(const struct fwp_xsave_info *xi, void *frame)
{
	unsigned char *fx = frame;
	uint32_t magic = FP_XSTATE_MAGIC1;

	memset(fx, 0, xi->size);
	__asm__ __volatile__("xsave64 (%0)"
			     : : "r"(fx), "a"((uint32_t)xi->mask), "d"((uint32_t)(xi->mask >> 32))
			     : "memory");
	fill_held(xi, fx, 0x5a);
	memcpy(fx + SW_BYTES_OFFSET, &magic, sizeof(magic));
}

#define ZMOV(n)	"vmovdqa64 %%zmm0, %%zmm" #n "\n\t"
#define KSET(n)	"kxnorw %%k0, %%k0, %%k" #n "\n\t"
#define CLOB_X16	"xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6", "xmm7", "xmm8", \
			"xmm9", "xmm10", "xmm11", "xmm12", "xmm13", "xmm14", "xmm15"
#define CLOB_X32	CLOB_X16, "xmm16", "xmm17", "xmm18", "xmm19", "xmm20", "xmm21", "xmm22", \
			"xmm23", "xmm24", "xmm25", "xmm26", "xmm27", "xmm28", "xmm29", "xmm30", \
			"xmm31"
#define CLOB_K		"k0", "k1", "k2", "k3", "k4", "k5", "k6", "k7"

__attribute__((target("avx512f")))
static void clobber_live_avx512(void)
{
	__asm__ __volatile__("vpternlogd $0xff, %%zmm0, %%zmm0, %%zmm0\n\t"
			     ZMOV(1) ZMOV(2) ZMOV(3) ZMOV(4) ZMOV(5) ZMOV(6) ZMOV(7) ZMOV(8)
			     ZMOV(9) ZMOV(10) ZMOV(11) ZMOV(12) ZMOV(13) ZMOV(14) ZMOV(15)
			     ZMOV(16) ZMOV(17) ZMOV(18) ZMOV(19) ZMOV(20) ZMOV(21) ZMOV(22)
			     ZMOV(23) ZMOV(24) ZMOV(25) ZMOV(26) ZMOV(27) ZMOV(28) ZMOV(29)
			     ZMOV(30) ZMOV(31)
			     KSET(0) KSET(1) KSET(2) KSET(3) KSET(4) KSET(5) KSET(6) KSET(7)
			     : : : CLOB_X32, CLOB_K);
}

#define YMOV(n)	"vmovdqa %%ymm0, %%ymm" #n "\n\t"
__attribute__((target("avx")))
static void clobber_live_avx(void)
{
	__asm__ __volatile__("vpcmpeqd %%ymm0, %%ymm0, %%ymm0\n\t"
			     YMOV(1) YMOV(2) YMOV(3) YMOV(4) YMOV(5) YMOV(6) YMOV(7) YMOV(8)
			     YMOV(9) YMOV(10) YMOV(11) YMOV(12) YMOV(13) YMOV(14) YMOV(15)
			     : : : CLOB_X16);
}

#define XMOV(n)	"movdqa %%xmm0, %%xmm" #n "\n\t"
static void clobber_live_sse(void)
{
	__asm__ __volatile__("pcmpeqd %%xmm0, %%xmm0\n\t"
			     XMOV(1) XMOV(2) XMOV(3) XMOV(4) XMOV(5) XMOV(6) XMOV(7) XMOV(8)
			     XMOV(9) XMOV(10) XMOV(11) XMOV(12) XMOV(13) XMOV(14) XMOV(15)
			     : : : CLOB_X16);
}

void fwp_state_clobber(const struct fwp_xsave_info *xi, ucontext_t *uc)
{
	static const int gp[] = { REG_RBX, REG_R12, REG_R13, REG_R14, REG_R15 };
	unsigned char *fx = (unsigned char *)uc->uc_mcontext.fpregs;
	void *frame;
	size_t i, size;

	for (i = 0; i < sizeof(gp) / sizeof(gp[0]); i++)
		uc->uc_mcontext.gregs[gp[i]] = 0xdeaddeaddeaddeadll;
	if (!frame_xsave(xi, uc, &frame, &size))
		fill_held(xi, frame, 0xa5);
	else if (fx)
		memset(fx + XMM_OFFSET, 0xa5, XMM_SIZE);	/* a legacy (FXSAVE) frame */
	/* And the live registers: what the handler leaves behind must not matter. */
	if (xi->avx512)
		clobber_live_avx512();
	else if (xi->avx)
		clobber_live_avx();
	else
		clobber_live_sse();
}

size_t fwp_workload_init(struct fwp_workload *w, const struct fwp_xsave_info *xi, uint64_t seed)
{
	uint64_t x = seed * 0x9e3779b97f4a7c15ull + 1;
	size_t i;

	memset(w, 0, sizeof(*w));
	w->nvec = xi->avx512 ? 32 : 16;
	w->width = xi->avx512 ? 64 : xi->avx ? 32 : 16;
	for (i = 0; i < 5; i++)
		w->gp_in[i] = x = x * 6364136223846793005ull + 1442695040888963407ull;
	for (i = 0; i < sizeof(w->vec_in); i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		w->vec_in[i / 64][i % 64] = x >> 56;
	}
	for (i = 0; xi->avx512 && i < 8; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		w->k_in[i] = xi->avx512bw ? x : x & 0xffff;
		if ((w->k_in[i] & 0xffff) == 0xa5a5)	/* never the clobber's pattern */
			w->k_in[i] ^= 1;
	}
	return (size_t)w->nvec * w->width;
}

/*
 * The workloads: load rbx, r12-r15, every vector register (vector i from byte 64 * i) and,
 * with AVX-512, k0-k7; then wait: the trap when t is set, else spin until *w->stop. Then
 * store them all.
 */
#define W_GP_LOAD	"movq %c[gin]+0(%[w]), %%rbx\n\tmovq %c[gin]+8(%[w]), %%r12\n\t" \
			"movq %c[gin]+16(%[w]), %%r13\n\tmovq %c[gin]+24(%[w]), %%r14\n\t" \
			"movq %c[gin]+32(%[w]), %%r15\n\t"
#define W_GP_STORE	"movq %%rbx, %c[gout]+0(%[w])\n\tmovq %%r12, %c[gout]+8(%[w])\n\t" \
			"movq %%r13, %c[gout]+16(%[w])\n\tmovq %%r14, %c[gout]+24(%[w])\n\t" \
			"movq %%r15, %c[gout]+32(%[w])\n\t"
/* Indices into gregs (the kernel's struct sigcontext order), for the trap's asm. */
#define GI_R8	"0"
#define GI_R9	"1"
#define GI_R10	"2"
#define GI_R11	"3"
#define GI_R12	"4"
#define GI_R13	"5"
#define GI_R14	"6"
#define GI_R15	"7"
#define GI_RDI	"8"
#define GI_RSI	"9"
#define GI_RBP	"10"
#define GI_RBX	"11"
#define GI_RDX	"12"
#define GI_RAX	"13"
#define GI_RCX	"14"
#define GI_RSP	"15"
#define GI_RIP	"16"
_Static_assert(REG_R8 == 0 && REG_R15 == 7 && REG_RDI == 8 && REG_RBX == 11 && REG_RCX == 14 &&
	       REG_RSP == 15 && REG_RIP == 16, "gregs order");
#define G(r)		"%c[gregs]+8*" GI_##r "(%%rdi)"
#define W_SAVE_GP	"movq %%r8, " G(R8) "\n\tmovq %%r9, " G(R9) "\n\t"		\
			"movq %%r10, " G(R10) "\n\tmovq %%r11, " G(R11) "\n\t"		\
			"movq %%r12, " G(R12) "\n\tmovq %%r13, " G(R13) "\n\t"		\
			"movq %%r14, " G(R14) "\n\tmovq %%r15, " G(R15) "\n\t"		\
			"movq %%rdi, " G(RDI) "\n\tmovq %%rsi, " G(RSI) "\n\t"		\
			"movq %%rbp, " G(RBP) "\n\tmovq %%rbx, " G(RBX) "\n\t"		\
			"movq %%rdx, " G(RDX) "\n\tmovq %%rax, " G(RAX) "\n\t"		\
			"movq %%rcx, " G(RCX) "\n\tmovq %%rsp, " G(RSP) "\n\t"		\
			"leaq 3f(%%rip), %%rax\n\tmovq %%rax, " G(RIP) "\n\t"
#define W_LOAD_GP	"movq " G(R8) ", %%r8\n\tmovq " G(R9) ", %%r9\n\t"		\
			"movq " G(R10) ", %%r10\n\tmovq " G(R11) ", %%r11\n\t"		\
			"movq " G(R12) ", %%r12\n\tmovq " G(R13) ", %%r13\n\t"		\
			"movq " G(R14) ", %%r14\n\tmovq " G(R15) ", %%r15\n\t"		\
			"movq " G(RSI) ", %%rsi\n\tmovq " G(RBP) ", %%rbp\n\t"		\
			"movq " G(RBX) ", %%rbx\n\tmovq " G(RDX) ", %%rdx\n\t"		\
			"movq " G(RAX) ", %%rax\n\tmovq " G(RCX) ", %%rcx\n\t"		\
			"movq " G(RDI) ", %%rdi\n\t"
#define W_MASK		"movl %c[tmask](%%rdi), %%eax\n\tmovl %c[tmask]+4(%%rdi), %%edx\n\t"\
			"movq %c[tframe](%%rdi), %%rsi\n\t"
/*
 * The trap (rdi: struct fwp_rt_trap): what the kernel does for a signal, in userspace. Every
 * general register into the context, the live extended state XSAVEd into its frame, the
 * handler called on this stack below the red zone, then the frame XRSTORed and every general
 * register loaded back from the context (rsp kept in rbx across the call).
 */
#define W_TRAP		W_SAVE_GP W_MASK						\
			"xsave64 (%%rsi)\n\t"						\
			"movq %%rdi, %%r12\n\tmovq %%rsp, %%rbx\n\t"			\
			"subq $128, %%rsp\n\tandq $-16, %%rsp\n\t"			\
			"movl %c[tsig](%%rdi), %%edi\n\txorl %%esi, %%esi\n\t"		\
			"movq %%r12, %%rdx\n\t"						\
			"call *%c[tfn](%%r12)\n\t"					\
			"movq %%rbx, %%rsp\n\tmovq %%r12, %%rdi\n\t" W_MASK		\
			"xrstor64 (%%rsi)\n\t"						\
			W_LOAD_GP
#define W_WAIT		"testq %%rdi, %%rdi\n\tjz 2f\n\t" W_TRAP "jmp 3f\n"		\
			"2:\tmovl $1, %c[inloop](%[w])\n\tmovq %c[stop](%[w]), %%rcx\n"	\
			"1:\tpause\n\tcmpl $0, (%%rcx)\n\tje 1b\n"			\
			"3:\t"
#define VL(insn, reg, n)	insn " %c[vin]+" #n "*64(%[w]), %%" reg #n "\n\t"
#define VS(insn, reg, n)	insn " %%" reg #n ", %c[vout]+" #n "*64(%[w])\n\t"
#define V16(m, insn, reg)	m(insn, reg, 0) m(insn, reg, 1) m(insn, reg, 2) m(insn, reg, 3) \
				m(insn, reg, 4) m(insn, reg, 5) m(insn, reg, 6) m(insn, reg, 7) \
				m(insn, reg, 8) m(insn, reg, 9) m(insn, reg, 10) m(insn, reg, 11) \
				m(insn, reg, 12) m(insn, reg, 13) m(insn, reg, 14) m(insn, reg, 15)
#define V32(m, insn, reg)	V16(m, insn, reg) \
				m(insn, reg, 16) m(insn, reg, 17) m(insn, reg, 18) m(insn, reg, 19) \
				m(insn, reg, 20) m(insn, reg, 21) m(insn, reg, 22) m(insn, reg, 23) \
				m(insn, reg, 24) m(insn, reg, 25) m(insn, reg, 26) m(insn, reg, 27) \
				m(insn, reg, 28) m(insn, reg, 29) m(insn, reg, 30) m(insn, reg, 31)
#define KL(insn, n)	insn " %c[kin]+" #n "*8(%[w]), %%k" #n "\n\t"
#define KS(insn, n)	insn " %%k" #n ", %c[kout]+" #n "*8(%[w])\n\t"
#define K8(m, insn)	m(insn, 0) m(insn, 1) m(insn, 2) m(insn, 3) m(insn, 4) m(insn, 5) \
			m(insn, 6) m(insn, 7)
#define W_IN		"D"(t), [w] "r"(w),							\
			[gin] "i"(offsetof(struct fwp_workload, gp_in)),		\
			[gout] "i"(offsetof(struct fwp_workload, gp_out)),		\
			[kin] "i"(offsetof(struct fwp_workload, k_in)),			\
			[kout] "i"(offsetof(struct fwp_workload, k_out)),		\
			[vin] "i"(offsetof(struct fwp_workload, vec_in)),		\
			[vout] "i"(offsetof(struct fwp_workload, vec_out)),		\
			[inloop] "i"(offsetof(struct fwp_workload, in_loop)),		\
			[stop] "i"(offsetof(struct fwp_workload, stop)),		\
			[tmask] "i"(offsetof(struct fwp_rt_trap, mask)),		\
			[tframe] "i"(offsetof(struct fwp_rt_trap, uc.uc_mcontext.fpregs)), \
			[tfn] "i"(offsetof(struct fwp_rt_trap, fn)),			\
			[tsig] "i"(offsetof(struct fwp_rt_trap, sig)),			\
			[gregs] "i"(offsetof(struct fwp_rt_trap, uc.uc_mcontext.gregs))
#define W_CLOB		"rax", "rbx", "r12", "r13", "r14", "r15", "rcx", "r11", "memory", "cc"

__attribute__((target("avx512f,avx512bw")))
static void run_avx512bw(struct fwp_workload *w, struct fwp_rt_trap *t)
{
	__asm__ __volatile__(W_GP_LOAD V32(VL, "vmovdqu64", "zmm") K8(KL, "kmovq") W_WAIT
			     W_GP_STORE V32(VS, "vmovdqu64", "zmm") K8(KS, "kmovq")
			     : : W_IN : W_CLOB, CLOB_X32, CLOB_K);
}

__attribute__((target("avx512f")))
static void run_avx512f(struct fwp_workload *w, struct fwp_rt_trap *t)
{
	__asm__ __volatile__(W_GP_LOAD V32(VL, "vmovdqu64", "zmm") K8(KL, "kmovw") W_WAIT
			     W_GP_STORE V32(VS, "vmovdqu64", "zmm") K8(KS, "kmovw")
			     : : W_IN : W_CLOB, CLOB_X32, CLOB_K);
}

__attribute__((target("avx")))
static void run_avx(struct fwp_workload *w, struct fwp_rt_trap *t)
{
	__asm__ __volatile__(W_GP_LOAD V16(VL, "vmovdqu", "ymm") W_WAIT
			     W_GP_STORE V16(VS, "vmovdqu", "ymm")
			     : : W_IN : W_CLOB, CLOB_X16);
}

static void run_sse(struct fwp_workload *w, struct fwp_rt_trap *t)
{
	__asm__ __volatile__(W_GP_LOAD V16(VL, "movdqu", "xmm") W_WAIT
			     W_GP_STORE V16(VS, "movdqu", "xmm")
			     : : W_IN : W_CLOB, CLOB_X16);
}

static void run(struct fwp_workload *w, const struct fwp_xsave_info *xi, struct fwp_rt_trap *t)
{
	if (xi->avx512 && xi->avx512bw)
		run_avx512bw(w, t);
	else if (xi->avx512)
		run_avx512f(w, t);
	else if (xi->avx)
		run_avx(w, t);
	else
		run_sse(w, t);
}

void fwp_workload_run(struct fwp_workload *w, const struct fwp_xsave_info *xi)
{
	run(w, xi, NULL);
}

void fwp_rt_trap_init(struct fwp_rt_trap *t, const struct fwp_xsave_info *xi, void *frame,
		      void (*fn)(int, siginfo_t *, void *), int sig)
{
	unsigned char *fx = frame;
	uint32_t magic = FP_XSTATE_MAGIC1, size = xi->size, magic2 = FP_XSTATE_MAGIC2;

	memset(t, 0, sizeof(*t));
	memset(fx, 0, xi->size);	/* XRSTOR wants the header's XCOMP_BV and reserved bytes 0 */
	memcpy(fx + SW_BYTES_OFFSET, &magic, sizeof(magic));
	memcpy(fx + SW_XSTATE_SIZE, &size, sizeof(size));
	memcpy(fx + size, &magic2, sizeof(magic2));
	t->uc.uc_mcontext.fpregs = frame;
	t->fn = fn;
	t->sig = sig;
	t->mask = xi->mask;
}

void fwp_workload_trap(struct fwp_workload *w, const struct fwp_xsave_info *xi,
		       struct fwp_rt_trap *t)
{
	run(w, xi, t);
}

int fwp_workload_check(const struct fwp_workload *w)
{
	unsigned i;

	if (memcmp(w->gp_in, w->gp_out, sizeof(w->gp_in)) ||
	    memcmp(w->k_in, w->k_out, sizeof(w->k_in)))
		return -1;
	for (i = 0; i < w->nvec; i++) {
		if (memcmp(w->vec_in[i], w->vec_out[i], w->width))
			return -1;
	}
	return 0;
}
