/* SPDX-License-Identifier: MIT */
/*
 * The runtime update sequence. Processor 0 is the controller, pinned to the first CPU of the
 * list: it sends the interrupt (a real-time signal) to every other processor, then traps into
 * the same handler itself (fwp_workload_trap: it is running the sequence, so it needs no
 * signal to stop), and runs the pre-OS phase there once every processor has saved its state
 * and parked, like Linux's late-microcode rendezvous. The controller must be one of the
 * processors: on a machine with as many processors as CPUs, an extra spinning thread would
 * turn microseconds into scheduler ticks.
 *
 * The handlers run our own code only: every processor, the controller included, interrupts
 * nothing but its register workload (the controller's traps where a signal would find it).
 * That is why the controller's pre-OS phase may do file I/O from its handler, and why every
 * processor's registers can be proven bit-exact after.
 *
 * Each processor saves, tags and checks its own slot before it parks, so the slot never leaves
 * its CPU's cache: the controller reads only each processor's verdict. Time stamps inside the
 * sequence are TSC reads (fwp_rt_stamp), converted after it; each processor's stamps and flags
 * have a cache line of their own, as do the counters the processors spin on.
 *
 * Each worker takes one warm-up signal before the sequence (WARM_SIGNAL): on the guests
 * measured, a thread's first delivery costs 2-4 us more than its later ones, and the bare round
 * trip the blackout is held against is a warm one (perf-reports/NOTES.md section 18).
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <stdio.h>
#include <unistd.h>

#include "rt/fetch.h"
#include "bmc/flash.h"
#include "fwpush/rt.h"
#include "core/hash.h"
#include "core/opts.h"
#include "core/poll.h"
#include "rt/rt_cpu.h"
#include "rt/rt_state.h"

_Static_assert(FWP_RT_SLOT_TAIL == FP_XSTATE_MAGIC2_SIZE, "a slot has room for MAGIC2");

#define RT_SIGNAL	(SIGRTMIN + 1)
#define WARM_SIGNAL	(SIGRTMIN + 2)
#define NO_CPU		(-1)

struct proc {
	_Alignas(64) int cpu;
	pthread_t thread;
	struct fwp_workload *wl;	/* the registers it holds across the sequence */
	/* TSC stamps */
	uint64_t t_entry, t_saved, t_tagged, t_checked, t_released, t_restored;
	volatile int arrived;
	volatile int state_ok;		/* its own check of its slot, before it parked */
	volatile int restored;
	volatile int warmed;		/* it has taken its warm-up signal */
};

static struct {
	struct fwp_xsave_info xi;
	struct fwp_rt_state st;
	int img_fd;			/* the staged update, checked ours; -1: none */
	char img[128];			/* where rt-update stages this name's update */
	int apply_err;			/* -errno of the flash write that failed */
	struct fwp_flash *flash;
	struct fwp_verifier *verifier;
	const struct fwp_rt_opts *o;
	struct fwp_rt_result *res;
	unsigned n;
	struct proc proc[FWP_RT_MAX_CPUS];
	struct fwp_rt_trap trap;	/* the controller's interrupt */
	void *trap_frame;
	_Alignas(64) volatile int arrivals;
	volatile int bad_states;	/* arrivals whose check failed: read on the same line */
	_Alignas(64) volatile int release;
	volatile int parked;		/* index left unrestored, NO_CPU if none */
	_Alignas(64) volatile int resumed;
	_Alignas(64) volatile int stop;	/* ends the workloads */
	uint64_t t_first;		/* first interrupt sent (TSC) */
	uint64_t t_sent[FWP_RT_MAX_CPUS];	/* the controller's, off the processors' lines */
} rt;

static __thread int rt_self = NO_CPU;

/* The tag covers the general registers and the XSAVE area that follows them. */
static struct fwp_hash128 slot_tag(const struct fwp_rt_slot *s, uint32_t xsave_size)
{
	size_t from = offsetof(struct fwp_rt_slot, gregs);

	return fwp_xxh128((const unsigned char *)s + from, FWP_RT_SLOT_HDR - from + xsave_size);
}

/*
 * Reads the staged update (opened and checked before the blackout, check_staged) into the
 * flash's inactive bank (or just hashes it) in one pass.
 */
static enum fwp_rt_outcome load_update(const struct fwp_rt_desc *d, unsigned char **loaded)
{
	static unsigned char buf[1 << 16];
	unsigned char *dst = NULL;
	struct fwp_hstate hs;
	struct fwp_hash128 got;
	uint64_t off = 0;
	struct stat sb;
	ssize_t n = 1;
	int fd = rt.img_fd;

	if (fd < 0 || fstat(fd, &sb) || (uint64_t)sb.st_size != d->size)
		return FWP_RT_NOTHING_STAGED;
	if (rt.flash) {
		rt.apply_err = fwp_flash_begin(rt.flash, d->size, &dst);
		if (rt.apply_err)
			return FWP_RT_APPLY_FAILED;
	}
	fwp_hash()->reset(&hs);
	while (off < d->size && n > 0) {
		unsigned char *to = dst ? dst + off : buf;
		size_t want = dst ? d->size - off : sizeof(buf);

		n = pread(fd, to, want, off);
		if (n > 0) {
			fwp_hash()->update(&hs, to, n);
			off += n;
		}
	}
	*loaded = dst;
	got = fwp_hash()->digest(&hs);
	return off == d->size && fwp_hash128_eq(&got, &d->hash) ? FWP_RT_APPLIED
								: FWP_RT_BAD_UPDATE;
}

static int wait_arrivals(void)
{
	uint64_t deadline = fwp_rt_stamp() +
			    (uint64_t)((rt.o->timeout_ms ?: 1000) * 1e6 / fwp_rt_stamp_ns());
	unsigned i, arrived;

	while ((arrived = (unsigned)__atomic_load_n(&rt.arrivals, __ATOMIC_ACQUIRE)) < rt.n &&
	       fwp_rt_stamp() <= deadline)
		fwp_cpu_relax();
	if (arrived == rt.n)
		return 0;	/* all of them: no line of theirs to read */
	/* Scan, don't trust the counter read before the deadline: a late arrival still counts. */
	for (i = 0; i < rt.n && rt.proc[i].arrived; i++)
		;
	if (i == rt.n)
		return 0;
	rt.res->failed_cpu = rt.proc[i].cpu;
	return -ETIMEDOUT;
}

/*
 * Every saved state must be intact before anything is applied or restored: each processor
 * checked its own before it parked (on_ipi) and counted a failure beside its arrival; only then
 * are the verdicts read, to name the processor.
 */
static int check_states(void)
{
	unsigned i;

	if (!__atomic_load_n(&rt.bad_states, __ATOMIC_ACQUIRE))
		return 0;
	for (i = 0; i < rt.n; i++) {
		bool ok = rt.proc[i].state_ok;

		if (!ok) {
			rt.res->failed_cpu = rt.proc[i].cpu;
			rt.parked = i;
			return -EBADMSG;
		}
	}
	return 0;
}

/* The pre-OS phase: nothing but this runs while every processor is parked. */
static enum fwp_rt_outcome pre_os(void)
{
	struct fwp_rt_hdr *h = rt.st.hdr;
	unsigned char *loaded = NULL;
	enum fwp_rt_outcome out;
	uint64_t t;

	if (wait_arrivals())
		return FWP_RT_TIMEOUT;
	if (check_states())
		return FWP_RT_BAD_STATE;
	if (!(h->mailbox & FWP_RT_MB_WARM_START))
		return FWP_RT_NO_WARM_START;
	if (!(h->mailbox & FWP_RT_MB_STAGED) || !fwp_rt_desc_ok(&h->desc))
		return FWP_RT_NOTHING_STAGED;
	if (rt.o->inject == FWP_RT_INJECT_CORRUPT_UPDATE) {
		int fd = open(rt.img, O_RDWR | O_NOFOLLOW | O_CLOEXEC);
		unsigned char c = 0;

		if (fd >= 0 && pread(fd, &c, 1, h->desc.size / 2) == 1) {
			c ^= 0x01;
			if (pwrite(fd, &c, 1, h->desc.size / 2) != 1)
				c = 0;
		}
		if (fd >= 0)
			close(fd);
	}
	t = fwp_now_ns();
	out = load_update(&h->desc, &loaded);
	if (out == FWP_RT_APPLIED && rt.verifier && loaded &&
	    (!h->desc.has_signature ||
	     fwp_verify(rt.verifier, loaded, h->desc.size, h->desc.signature)))
		out = FWP_RT_BAD_SIGNATURE;
	if (out == FWP_RT_APPLIED && rt.flash)
		rt.apply_err = fwp_flash_commit(rt.flash);
	if (out == FWP_RT_APPLIED && (!rt.flash || rt.apply_err))
		out = rt.flash ? FWP_RT_APPLY_FAILED : FWP_RT_NOTHING_STAGED;
	rt.res->apply_ns = fwp_now_ns() - t;
	return out;
}

/*
 * The tests' corruption of a saved state at rest, between its tag and its check: an XSAVE
 * byte, or bit 0 of the first saved general register (r8: the tag must cover them all).
 */
static void inject_corruption(struct fwp_rt_slot *s, unsigned char *xsave)
{
	if (rt.o->inject == FWP_RT_INJECT_CORRUPT_STATE)
		xsave[200] ^= 0x40;
	if (rt.o->inject == FWP_RT_INJECT_CORRUPT_REGS)
		s->gregs[0] ^= 0x01;
}

static void on_ipi(int sig, siginfo_t *si, void *ctx)
{
	int i = rt_self;
	struct proc *p;
	struct fwp_rt_slot *s;
	struct fwp_hash128 tag;

	(void)sig;
	(void)si;
	if (i == NO_CPU)
		return;
	p = &rt.proc[i];
	s = fwp_rt_slot(&rt.st, i);
	p->t_entry = fwp_rt_stamp();
	if (fwp_state_save(&rt.xi, ctx, s->gregs, fwp_rt_slot_xsave(&rt.st, i)))
		return;		/* no XSAVE frame: this processor cannot take part */
	s->cpu = p->cpu;
	p->t_saved = fwp_rt_stamp();
	s->tag = slot_tag(s, rt.xi.size);
	p->t_tagged = fwp_rt_stamp();
	if (i == rt.o->inject_cpu)
		inject_corruption(s, fwp_rt_slot_xsave(&rt.st, i));
	/* The check, here while the slot is in this CPU's cache: the controller reads the verdict. */
	tag = slot_tag(s, rt.xi.size);
	p->state_ok = fwp_hash128_eq(&tag, &s->tag);
	p->t_checked = fwp_rt_stamp();
	p->arrived = 1;
	if (!p->state_ok)
		__atomic_add_fetch(&rt.bad_states, 1, __ATOMIC_RELAXED);
	__atomic_add_fetch(&rt.arrivals, 1, __ATOMIC_RELEASE);
	/*
	 * From here the live registers and the frame are garbage: only the slot can save us.
	 * After the arrival, so the clobber overlaps the rendezvous rather than lengthening it.
	 */
	fwp_state_clobber(&rt.xi, ctx);
	if (i == 0) {
		rt.res->outcome = pre_os();
		__atomic_store_n(&rt.release, 1, __ATOMIC_RELEASE);
	}
	while (!__atomic_load_n(&rt.release, __ATOMIC_ACQUIRE))
		fwp_cpu_relax();
	p->t_released = fwp_rt_stamp();
	if (rt.parked == 0 && i == 0)
		abort();	/* the controller's own state is bad: a machine check, not a return */
	while (rt.parked == i)
		fwp_cpu_relax();	/* never restore a state that failed its check */
	fwp_state_restore(&rt.xi, ctx, s->gregs, fwp_rt_slot_xsave(&rt.st, i));
	p->t_restored = fwp_rt_stamp();
	p->restored = 1;
	__atomic_add_fetch(&rt.resumed, 1, __ATOMIC_RELEASE);
}

static int pin(int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/*
 * Takes processor i's slot into its CPU's cache, owned (prefetch for write), and runs the tag's
 * hash over it once, just before the sequence: the save and the tag in the blackout then write
 * lines this CPU holds and run code it has just run, instead of fetching either.
 */
static void warm_slot(unsigned i)
{
	const unsigned char *p = (const unsigned char *)fwp_rt_slot(&rt.st, i);
	struct fwp_hash128 tag;
	size_t off;

	for (off = 0; off < FWP_RT_SLOT_HDR + rt.xi.size + FWP_RT_SLOT_TAIL; off += 64)
		__builtin_prefetch(p + off, 1, 3);
	tag = slot_tag(fwp_rt_slot(&rt.st, i), rt.xi.size);
	__asm__ __volatile__("" : : "r"(&tag) : "memory");	/* computed, not kept */
}

/*
 * A worker's warm-up signal, just before the sequence: its delivery warms the kernel's path for
 * this thread and the frame's lines, and its slot is warmed here rather than when the workload
 * starts (after 100 us or more of spinning on this shared guest, those lines are gone).
 */
static void on_warm(int sig)
{
	(void)sig;
	if (rt_self == NO_CPU)
		return;
	warm_slot(rt_self);
	__atomic_store_n(&rt.proc[rt_self].warmed, 1, __ATOMIC_RELEASE);
}

static void *worker(void *arg)
{
	struct proc *p = arg;
	sigset_t block;

	rt_self = (int)(p - rt.proc);
	if (pin(p->cpu))
		return NULL;
	if (rt.o->inject == FWP_RT_INJECT_BLOCK && rt_self == rt.o->inject_cpu) {
		sigemptyset(&block);
		sigaddset(&block, RT_SIGNAL);
		pthread_sigmask(SIG_BLOCK, &block, NULL);	/* this processor never arrives */
	}
	fwp_workload_run(p->wl, &rt.xi);
	return NULL;
}

static int cpu_list(const struct fwp_rt_opts *o, int *cpus, unsigned *n)
{
	cpu_set_t allowed;
	unsigned i;
	int c;

	if (sched_getaffinity(0, sizeof(allowed), &allowed))
		return -errno;
	*n = 0;
	if (o->cpus) {
		if (o->ncpus == 0 || o->ncpus > FWP_RT_MAX_CPUS)
			return -EINVAL;
		for (i = 0; i < o->ncpus; i++) {
			if (o->cpus[i] < 0 || o->cpus[i] >= CPU_SETSIZE ||
			    !CPU_ISSET(o->cpus[i], &allowed))
				return -EINVAL;
			CPU_CLR(o->cpus[i], &allowed);	/* one processor per CPU: no repeats */
			cpus[(*n)++] = o->cpus[i];
		}
		return 0;
	}
	for (c = 0; c < CPU_SETSIZE && *n < FWP_RT_MAX_CPUS; c++) {
		if (CPU_ISSET(c, &allowed))
			cpus[(*n)++] = c;
	}
	return 0;
}

/*
 * Every processor's workload; a thread for each but the controller, which runs its own (and
 * traps). Each worker takes its warm-up signal in its workload, where the interrupt will find it
 * (a processor whose RT_SIGNAL is blocked takes this one too).
 */
static int start_workers(void)
{
	unsigned i;
	int ret;

	rt.trap_frame = aligned_alloc(64, (rt.xi.size + FP_XSTATE_MAGIC2_SIZE + 63) & ~(size_t)63);
	if (!rt.trap_frame)
		return -ENOMEM;
	fwp_rt_trap_init(&rt.trap, &rt.xi, rt.trap_frame, on_ipi, RT_SIGNAL);
	for (i = 0; i < rt.n; i++) {
		struct proc *p = &rt.proc[i];

		p->wl = aligned_alloc(64, sizeof(*p->wl));
		if (!p->wl)
			return -ENOMEM;
		fwp_workload_init(p->wl, &rt.xi, p->cpu + 1);
		p->wl->stop = &rt.stop;
		if (i == 0)
			continue;
		ret = pthread_create(&p->thread, NULL, worker, p);
		if (ret) {
			free(p->wl);
			p->wl = NULL;
			return -ret;
		}
	}
	for (i = 1; i < rt.n; i++) {
		while (!rt.proc[i].wl->in_loop)
			sched_yield();
		pthread_kill(rt.proc[i].thread, WARM_SIGNAL);
	}
	/* The interrupt follows the last warm-up at once: a delivery slows with the time between. */
	warm_slot(0);
	for (i = 1; i < rt.n; i++) {
		while (!__atomic_load_n(&rt.proc[i].warmed, __ATOMIC_ACQUIRE))
			fwp_cpu_relax();
	}
	return 0;
}

/*
 * Ends the workloads and compares each restored processor's registers with what it loaded:
 * the controller's (its workload has returned by now) and every worker's. A processor that
 * was never restored is not checked, and says so.
 */
static void stop_workers(void)
{
	unsigned i;

	__atomic_store_n(&rt.stop, 1, __ATOMIC_RELEASE);
	for (i = 0; i < rt.n; i++) {
		struct proc *p = &rt.proc[i];
		struct fwp_rt_core *c;

		if (!p->wl)
			continue;
		if ((int)i == rt.parked) {
			pthread_detach(p->thread);	/* parked for good: the caller ends us */
			continue;
		}
		if (i)
			pthread_join(p->thread, NULL);
		c = &rt.res->core[i];
		c->regs_checked = p->restored;
		c->regs_ok = c->regs_checked && !fwp_workload_check(p->wl);
		free(p->wl);
		p->wl = NULL;
	}
}

static void interrupt_all(void)
{
	uint64_t deadline;
	unsigned i, expect = 0;

	rt.t_first = fwp_rt_stamp();
	for (i = 1; i < rt.n; i++) {
		rt.t_sent[i] = fwp_rt_stamp();
		pthread_kill(rt.proc[i].thread, RT_SIGNAL);
	}
	rt.t_sent[0] = fwp_rt_stamp();
	/* Runs on_ipi here, as processor 0, with its workload's registers live. */
	fwp_workload_trap(rt.proc[0].wl, &rt.xi, &rt.trap);
	for (i = 0; i < rt.n; i++)
		expect += rt.proc[i].arrived && (int)i != rt.parked;
	/* Each of them was released: only a CPU lost for longer than the rendezvous timeout stops us. */
	deadline = fwp_now_ns() + (rt.o->timeout_ms ?: 1000) * 1000000ull;
	while ((unsigned)__atomic_load_n(&rt.resumed, __ATOMIC_ACQUIRE) < expect &&
	       fwp_now_ns() < deadline)
		fwp_cpu_relax();
}

/* The stamps into nanoseconds, after the sequence. */
static void collect(void)
{
	struct fwp_rt_result *r = rt.res;
	double ns = fwp_rt_stamp_ns();
	uint64_t last = 0;
	unsigned i;

	r->ncores = rt.n;
	r->xsave_size = rt.xi.size;
	for (i = 0; i < rt.n; i++) {
		struct proc *p = &rt.proc[i];
		struct fwp_rt_core *c = &r->core[i];

		c->cpu = p->cpu;
		c->arrived = p->arrived;
		c->restored = p->restored;
		if (!p->arrived)
			continue;
		c->ipi_ns = (uint64_t)((p->t_entry - rt.t_sent[i]) * ns);
		c->save_ns = (uint64_t)((p->t_saved - p->t_entry) * ns);
		c->tag_ns = (uint64_t)((p->t_tagged - p->t_saved) * ns);
		c->check_ns = (uint64_t)((p->t_checked - p->t_tagged) * ns);
		c->wait_ns = (uint64_t)((p->t_released - p->t_checked) * ns);
		c->restore_ns = p->restored ? (uint64_t)((p->t_restored - p->t_released) * ns) : 0;
		if (p->restored && p->t_restored > last)
			last = p->t_restored;
	}
	r->blackout_ns = last > rt.t_first ? (uint64_t)((last - rt.t_first) * ns) : 0;
}

/* The mailbox after the pre-OS phase, for the OS to read: applied updates are consumed. */
static void record(void)
{
	struct fwp_rt_hdr *h = rt.st.hdr;

	h->last_outcome = rt.res->outcome;
	h->mailbox &= ~FWP_RT_MB_WARM_START;
	if (rt.res->outcome == FWP_RT_APPLIED)
		h->mailbox &= ~FWP_RT_MB_STAGED;
	msync(h, FWP_RT_HDR_SIZE, MS_SYNC);
}

/*
 * What the descriptor points at, checked before any processor is stopped. Its check value is
 * no MAC (whoever can write the state area can reseal it): it may name the one file rt-update
 * stages for this name and nothing else, and that file must be ours (fwp_rt_file_check). The
 * file stays open for the pre-OS phase, so what is loaded is what was checked.
 */
static int check_staged(const char *name, char *why, size_t len)
{
	const struct fwp_rt_hdr *h = rt.st.hdr;
	char state[128], shown[128];	/* the start of it: enough to see where */
	int fd;

	if (!(h->mailbox & FWP_RT_MB_STAGED) || !fwp_rt_desc_ok(&h->desc))
		return 0;	/* the pre-OS phase finds nothing staged */
	fwp_rt_paths(name, NULL, state, sizeof(state));
	if (strcmp(h->desc.path, rt.img)) {
		fwp_rt_printable(shown, sizeof(shown), h->desc.path);	/* anything at all */
		snprintf(why, len, "state area %s: its descriptor points at %s, not at %s where "
			 "rt-update stages the update of %s; refusing it", state, shown, rt.img,
			 name);
		return -EPERM;
	}
	fd = fwp_rt_open_private("staged update", rt.img, O_RDONLY, false, why, len);
	if (fd == -ENOENT)
		return 0;	/* gone: nothing staged */
	if (fd < 0)
		return fd;
	rt.img_fd = fd;
	return 0;
}

static int setup(const struct fwp_rt_opts *o, struct fwp_rt_result *res, int *cpus)
{
	struct sigaction sa = { .sa_sigaction = on_ipi, .sa_flags = SA_SIGINFO };
	struct sigaction warm = { .sa_handler = on_warm };
	const char *name = o->name ? o->name : FWP_RT_DEFAULT_NAME;
	char *why = res->detail;
	size_t len = sizeof(res->detail);
	unsigned i;
	int ret;

	rt.o = o;
	rt.res = res;
	rt.parked = NO_CPU;
	fwp_rt_stamp_ns();	/* calibrated here, never inside the sequence */
	rt.st.fd = -1;		/* not open yet: the cleanup must not close stdin */
	ret = fwp_xsave_probe(&rt.xi);
	if (ret)
		return ret;
	ret = cpu_list(o, cpus, &rt.n);
	if (ret)
		return ret;
	/* Faults go to a worker: the controller cannot stay away from its own rendezvous. */
	if (o->inject != FWP_RT_INJECT_NONE && o->inject != FWP_RT_INJECT_CORRUPT_UPDATE &&
	    (o->inject_cpu < 1 || o->inject_cpu >= (int)rt.n))
		return -ERANGE;
	for (i = 0; i < rt.n; i++)
		rt.proc[i].cpu = cpus[i];
	ret = fwp_rt_paths(name, rt.img, NULL, sizeof(rt.img));
	if (ret)
		return ret;
	/* Ours from here to the end: no other rt-update stages into it or activates from it. */
	ret = fwp_rt_state_open(name, rt.xi.size, &rt.st, why, len);
	if (ret)
		return ret;
	ret = check_staged(name, why, len);
	if (ret)
		return ret;
	if (o->flash_path) {
		ret = fwp_flash_open(o->flash_path, NULL, &rt.flash);
		if (ret == -EBUSY)
			snprintf(why, len, "flash %s: in use by another process (an rt-update or "
				 "bmc-sim writing it); nothing done, try again when it has finished",
				 o->flash_path);
		else if (ret)
			snprintf(why, len, "flash %s: cannot open: %s", o->flash_path,
				 strerror(-ret));
		if (ret)
			return ret;
	}
	if (o->pubkey_path) {
		ret = fwp_verifier_open(o->pubkey_path, &rt.verifier);
		if (ret) {
			snprintf(why, len, "--pubkey %s: %s", o->pubkey_path, ret == -EINVAL ?
				 "not an Ed25519 public key" : strerror(-ret));
			return ret;
		}
	}
	sigaction(RT_SIGNAL, &sa, NULL);
	sigaddset(&warm.sa_mask, RT_SIGNAL);	/* the interrupt waits for its return */
	sigaction(WARM_SIGNAL, &warm, NULL);
	rt_self = 0;
	ret = pin(cpus[0]);
	if (ret) {
		snprintf(why, len, "cpu %d: cannot run the controller there: %s", cpus[0],
			 strerror(-ret));
		return ret;
	}
	/* Requested only once nothing can stop the sequence: a refusal leaves no request. */
	if (!o->no_warm_start)
		rt.st.hdr->mailbox |= FWP_RT_MB_WARM_START;
	return 0;
}

int fwp_rt_activate(const struct fwp_rt_opts *opts, struct fwp_rt_result *res)
{
	struct fwp_rt_opts o;
	int cpus[FWP_RT_MAX_CPUS];
	cpu_set_t saved;
	int ret;

	memset(res, 0, sizeof(*res));
	ret = fwp_opts_copy(&o, sizeof(o), opts);
	if (ret)
		return ret;
	memset(&rt, 0, sizeof(rt));
	rt.img_fd = -1;
	res->failed_cpu = NO_CPU;
	sched_getaffinity(0, sizeof(saved), &saved);
	ret = setup(&o, res, cpus);
	if (!ret)
		ret = start_workers();
	if (!ret) {
		interrupt_all();
		collect();
		record();
		if (res->outcome == FWP_RT_APPLY_FAILED)
			snprintf(res->detail, sizeof(res->detail), "flash %s: writing the update "
				 "failed: %s", o.flash_path, strerror(-rt.apply_err));
	}
	stop_workers();
	signal(RT_SIGNAL, SIG_DFL);
	signal(WARM_SIGNAL, SIG_DFL);
	free(rt.trap_frame);
	rt_self = NO_CPU;
	fwp_flash_close(rt.flash);
	fwp_verifier_close(rt.verifier);
	if (rt.img_fd >= 0)
		close(rt.img_fd);
	fwp_rt_state_close(&rt.st);
	sched_setaffinity(0, sizeof(saved), &saved);
	return ret;
}

bool fwp_rt_name_ok(const char *name)
{
	return name && !fwp_rt_paths(name, NULL, NULL, 0);
}

/* A file we are about to put in place of path: what is there now must be ours, or nothing. */
static int replaceable(const char *what, const char *path, char *why, size_t len)
{
	struct stat sb;

	if (!lstat(path, &sb))
		return fwp_rt_file_check(what, path, &sb, why, len);
	if (errno == ENOENT)
		return 0;
	snprintf(why, len, "%s %s: %s", what, path, strerror(errno));
	return -errno;
}

/*
 * Receives the update in a directory of our own (mkdtemp: 0700, nothing can be planted in it,
 * not even the fetch's .part file), then renames it into place: rename never follows a link
 * at the target, so whatever is there is replaced, never written through. What was there
 * before the transfer must have been ours (a planted file is refused, for its owner to see).
 * Under the state area's lock, so no other rt-update stages or activates this name meanwhile.
 */
static int stage_locked(struct fwp_rt_state *st, const char *name, const char *img,
			const char *source, const struct fwp_hash128 *expect,
			const uint8_t *signature, struct fwp_hash128 *hash, uint64_t *size,
			char *detail, size_t detail_len)
{
	struct fwp_rt_hdr *h = st->hdr, before;
	char dir[128], got[160], part[168];
	int ret;

	ret = replaceable("staged update", img, detail, detail_len);
	if (ret)
		return ret;
	snprintf(dir, sizeof(dir), FWP_RT_PREFIX "%s.stage.XXXXXX", name);
	if (!mkdtemp(dir)) {
		ret = -errno;
		snprintf(detail, detail_len, "staging directory %s: %s", dir, strerror(errno));
		return ret;
	}
	snprintf(got, sizeof(got), "%s/update", dir);
	snprintf(part, sizeof(part), "%s.part", got);
	ret = fwp_fetch(source, got, hash, size, detail, detail_len);
	/* -EBUSY and -EPERM say "a storage location": a source's are its transfer's. */
	if (ret == -EBUSY || ret == -EPERM)
		ret = -EIO;
	if (!ret && expect && !fwp_hash128_eq(expect, hash)) {
		snprintf(detail, detail_len, "XXH3-128 differs from the expected hash");
		ret = -EBADMSG;
	}
	if (!ret && chmod(got, 0600)) {
		ret = -errno;
		snprintf(detail, detail_len, "staged update %s: %s", got, strerror(errno));
	}
	if (!ret) {
		/* Nothing staged while the file changes under the descriptor. */
		before = *h;
		h->mailbox &= ~FWP_RT_MB_STAGED;
		memset(&h->desc, 0, sizeof(h->desc));
		msync(h, FWP_RT_HDR_SIZE, MS_SYNC);
		if (rename(got, img)) {
			ret = -errno;
			snprintf(detail, detail_len, "staged update %s: %s", img, strerror(errno));
			h->desc = before.desc;
			h->mailbox = before.mailbox;
		}
	}
	unlink(got);
	unlink(part);
	rmdir(dir);
	if (ret)
		return ret;
	snprintf(h->desc.path, sizeof(h->desc.path), "%s", img);
	h->desc.size = *size;
	h->desc.hash = *hash;
	if (signature) {
		memcpy(h->desc.signature, signature, FWP_SIG_SIZE);
		h->desc.has_signature = 1;
	}
	fwp_rt_desc_seal(&h->desc);
	h->mailbox |= FWP_RT_MB_STAGED;
	if (msync(h, FWP_RT_HDR_SIZE, MS_SYNC)) {
		ret = -errno;
		fwp_rt_paths(name, NULL, dir, sizeof(dir));
		snprintf(detail, detail_len, "state area %s: %s", dir, strerror(-ret));
	}
	return ret;
}

int fwp_rt_stage(const char *name, const char *source, const struct fwp_hash128 *expect,
		 const uint8_t *signature, struct fwp_hash128 *hash, uint64_t *size,
		 char *detail, size_t detail_len)
{
	struct fwp_xsave_info xi = { .size = FWP_PAGE };
	struct fwp_rt_state st;
	char img[128], scratch[256];
	int ret;

	if (!detail) {
		detail = scratch;
		detail_len = sizeof(scratch);
	}
	detail[0] = 0;
	name = name ? name : FWP_RT_DEFAULT_NAME;
	ret = fwp_rt_paths(name, img, NULL, sizeof(img));
	if (ret)
		return ret;
	fwp_xsave_probe(&xi);
	/* Ours before a byte moves: a stage never interleaves with another stage or activation. */
	ret = fwp_rt_state_open(name, xi.size, &st, detail, detail_len);
	if (ret)
		return ret;
	ret = stage_locked(&st, name, img, source, expect, signature, hash, size, detail,
			   detail_len);
	fwp_rt_state_close(&st);
	return ret;
}

int fwp_rt_hold(const char *name, char *detail, size_t detail_len)
{
	char scratch[256];

	if (!detail) {
		detail = scratch;
		detail_len = sizeof(scratch);
	}
	detail[0] = 0;
	return fwp_rt_state_hold(name ? name : FWP_RT_DEFAULT_NAME, detail, detail_len);
}

void fwp_rt_release(void)
{
	fwp_rt_state_release();
}

int fwp_rt_remove(const char *name)
{
	char img[128], state[128], why[256];
	int fd, ret = fwp_rt_paths(name ? name : FWP_RT_DEFAULT_NAME, img, state, sizeof(img));

	if (ret)
		return ret;
	/* Not from under a stage or an activation that holds it. */
	fd = fwp_rt_open_private("state area", state, O_RDWR, false, why, sizeof(why));
	if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB)) {
		close(fd);
		return -EBUSY;
	}
	/* unlink never follows a link: whatever is there goes, ours or planted. */
	unlink(img);
	ret = unlink(state) && errno != ENOENT ? -errno : 0;
	if (fd >= 0)
		close(fd);
	return ret;
}

const char *fwp_rt_outcome_str(enum fwp_rt_outcome o)
{
	switch (o) {
	case FWP_RT_APPLIED:		return "update applied";
	case FWP_RT_NO_WARM_START:	return "no warm start requested: nothing applied";
	case FWP_RT_NOTHING_STAGED:	return "no update staged: nothing applied";
	case FWP_RT_BAD_UPDATE:		return "staged update failed its integrity check: "
					       "nothing applied";
	case FWP_RT_BAD_STATE:		return "a processor's saved state failed its integrity "
					       "check: nothing applied";
	case FWP_RT_TIMEOUT:		return "a processor did not reach the rendezvous: "
					       "nothing applied";
	case FWP_RT_APPLY_FAILED:	return "writing the update to flash failed";
	case FWP_RT_BAD_SIGNATURE:	return "staged update is unsigned or its signature does "
					       "not verify: nothing applied";
	}
	return "unknown outcome";
}

static volatile int bare_flag;

static void on_bare(int sig)
{
	(void)sig;
	__atomic_store_n(&bare_flag, 1, __ATOMIC_RELEASE);
}

static void *spinner(void *arg)
{
	pin(*(int *)arg);
	while (!__atomic_load_n(&rt.stop, __ATOMIC_ACQUIRE))
		fwp_cpu_relax();
	return NULL;
}

enum { FLOOR_REPS = 8 };	/* operations per timed batch of the floor */

/*
 * The floor under a processor's save + check + restore, bare on one core: an XSAVE of the state
 * a workload holds (every component it holds non-init, loaded from a frame such as the kernel
 * builds), an XRSTOR of it, and one XXH3-128 of the bytes the tag covers, in a slot laid out as
 * in the state area. Each sample times FLOOR_REPS of each operation between TSC stamps: no
 * clock read per operation. The XSAVE and the XRSTOR are what the kernel itself pays for a
 * signal's frame, on delivery and at sigreturn: kernel[] gets those two alone.
 */
static int bare_floor(const struct fwp_xsave_info *xi, unsigned runs, uint64_t *raw,
		      uint64_t *kernel)
{
	size_t area = (xi->size + 63) & ~(size_t)63;
	struct fwp_rt_slot *s = aligned_alloc(64, FWP_RT_SLOT_HDR + area);
	void *frame = aligned_alloc(64, area);
	double ns = fwp_rt_stamp_ns();
	struct fwp_hash128 tag;
	unsigned i, j;

	if (!s || !frame) {
		free(s);
		free(frame);
		return -ENOMEM;
	}
	memset(s, 0, FWP_RT_SLOT_HDR + area);	/* XRSTOR needs the header's reserved bytes 0 */
	fwp_xsave_frame(xi, frame);
	for (i = 0; i < runs; i++) {
		uint64_t xsave, xrstor, t0, t1;

		fwp_xsave_floor(xi, frame, (unsigned char *)s + FWP_RT_SLOT_HDR, FLOOR_REPS,
				&xsave, &xrstor);
		t0 = fwp_rt_stamp();
		for (j = 0; j < FLOOR_REPS; j++) {
			tag = slot_tag(s, xi->size);
			__asm__ __volatile__("" : : "r"(&tag) : "memory");	/* keep each */
		}
		t1 = fwp_rt_stamp();
		kernel[i] = (uint64_t)((xsave + xrstor) * ns / FLOOR_REPS);
		raw[i] = (uint64_t)((xsave + xrstor + (t1 - t0)) * ns / FLOOR_REPS);
	}
	free(s);
	free(frame);
	return 0;
}

int fwp_rt_bare(const int *cpus, unsigned ncpus, unsigned runs, struct fwp_rt_bare *out)
{
	struct sigaction sa = { .sa_handler = on_bare }, old;
	struct fwp_xsave_info xi;
	double ns = fwp_rt_stamp_ns();
	uint64_t t0;
	pthread_t th;
	unsigned i;
	int target = ncpus > 1 ? cpus[1] : cpus[0], ret;

	ret = fwp_xsave_probe(&xi);
	if (ret || !runs)
		return ret ? ret : -EINVAL;
	pin(cpus[0]);
	ret = bare_floor(&xi, runs, out->xsave_xrstor_hash_ns, out->kernel_xsave_xrstor_ns);
	if (ret)
		return ret;

	rt.stop = 0;
	sigaction(RT_SIGNAL, &sa, &old);
	ret = -pthread_create(&th, NULL, spinner, &target);
	for (i = 0; !ret && i < runs; i++) {
		__atomic_store_n(&bare_flag, 0, __ATOMIC_RELEASE);
		t0 = fwp_rt_stamp();	/* stamped as the sequence is */
		pthread_kill(th, RT_SIGNAL);
		while (!__atomic_load_n(&bare_flag, __ATOMIC_ACQUIRE))
			fwp_cpu_relax();
		out->signal_rtt_ns[i] = (uint64_t)((fwp_rt_stamp() - t0) * ns);
	}
	if (!ret) {
		__atomic_store_n(&rt.stop, 1, __ATOMIC_RELEASE);
		pthread_join(th, NULL);
	}
	sigaction(RT_SIGNAL, &old, NULL);
	return ret;
}
