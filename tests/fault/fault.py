#!/usr/bin/env python3
"""Fault-injection campaign against real fwpush processes.

Every run draws one fault from a seeded generator (run i uses seed SEED+i, so any failure is
reproduced with --seed SEED+i --runs 1):

  flip      bodies corrupted after hashing        the push completes; every flip caught and resent
  lose      doorbells never rung                  the push completes; doorbells rung again
  dup       doorbells rung twice                  the push completes; nothing sent twice
  kill-host SIGKILL of the host mid-push          a push --resume completes (from exactly where
                                                  the host died, when that point was chosen)
  kill-bmc  SIGKILL of the BMC mid-push           the host exits 5 (or had finished); the active
                                                  image is the old one or the whole new one; a
                                                  new bmc-sim serves the next push
  stall     the BMC stopped (SIGSTOP)             the host exits 5 within its timeout

After every run, whatever happened: the active image equals the last image known to have been
activated, byte for byte (intact, and never a partial one). Prints the totals; exits 1 if any
invariant was violated.
"""
import argparse
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import time

KINDS = ["flip", "lose", "dup", "kill-host", "kill-bmc", "stall"]
EXIT_REFUSED, EXIT_TIMEOUT = 6, 5


class Rig:
    def __init__(self, fwpush, work):
        self.fwpush = fwpush
        self.work = work
        self.name = f"fwpush-fault-{os.getpid()}"
        self.window = f"shm:{self.name}"
        self.flash = os.path.join(work, "flash.bin")
        self.bmc = None
        self.active = None  # the bytes of the image last known to be active

    def start_bmc(self):
        self.bmc = subprocess.Popen(
            [self.fwpush, "bmc-sim", "--window", self.window, "--flash", self.flash,
             "--slots", "4", "--slot-size", "64K", "--idle-timeout", "2s", "--quiet"])

    def stop_bmc(self, sig=signal.SIGTERM):
        if self.bmc:
            self.bmc.send_signal(sig)
            self.bmc.wait(timeout=10)
            self.bmc = None

    def push(self, image, *args, timeout="2s"):
        p = subprocess.run([self.fwpush, "push", image, "--target", self.window, "--json",
                            "--timeout", timeout, *args],
                           capture_output=True, text=True, timeout=60)
        out = json.loads(p.stdout) if p.returncode == 0 and p.stdout else None
        return p.returncode, out, p.stderr.strip()

    def spawn_push(self, image, *args):
        return subprocess.Popen([self.fwpush, "push", image, "--target", self.window, "-q",
                                 "--timeout", "2s", *args],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)

    def flash_bytes(self):
        try:
            with open(self.flash, "rb") as f:
                return f.read()
        except FileNotFoundError:
            return None

    def cleanup(self):
        try:
            self.stop_bmc(signal.SIGKILL)
        except Exception:
            pass
        for p in (f"/dev/shm/{self.name}",):
            if os.path.exists(p):
                os.unlink(p)


def make_images(work, rng, n=3):
    paths = []
    for i in range(n):
        path = os.path.join(work, f"img{i}.bin")
        size = rng.randrange(200_000, 1_500_000)
        with open(path, "wb") as f:
            f.write(rng.randbytes(size))
        paths.append(path)
    return paths


def read(path):
    with open(path, "rb") as f:
        return f.read()


def run_one(rig, images, rng, kind, stats):
    """One run; returns a list of violated invariants (empty when all hold)."""
    bad = []
    image = rng.choice(images)
    seed = str(rng.randrange(1, 1 << 30))

    if kind in ("flip", "lose", "dup"):
        pct = {"flip": rng.choice([5, 10]), "lose": rng.choice([5, 20]),
               "dup": rng.choice([10, 50])}[kind]
        rc, out, err = rig.push(image, "--inject", f"{kind}:{pct}", "--seed", seed)
        if rc == 0:
            rig.active = read(image)
            n = out["injected"][kind]
            stats["faults"][kind] += n
            if kind == "flip":
                stats["resends"] += out["resends"]
                if n and not 1 <= out["resends"] <= n:
                    bad.append(f"flip: {n} flips but {out['resends']} resends")
            if kind == "lose" and n and out["rerings"] < 1:
                bad.append(f"lose: {n} doorbells lost, none rung again")
            if kind == "dup" and out["resends"]:
                bad.append("dup: a duplicated doorbell made a chunk go twice")
        elif not (kind == "flip" and rc == EXIT_REFUSED and "chunk hash mismatch" in err):
            bad.append(f"{kind}: push failed: exit {rc}: {err}")
        else:
            stats["retries_exhausted"] += 1

    elif kind == "kill-host":
        # A third of the kills land just before a chunk's doorbell, a third just before the
        # FINISH's, a third at a random moment (lose:100 slows the push to the re-ring pace,
        # so a timed kill lands mid-way).
        size = os.path.getsize(image)
        at = rng.choice([rng.randrange(0, size, 64 << 10), size, None])
        if at is None:
            p = rig.spawn_push(image, "--resume", "--inject", "lose:100", "--seed", seed)
            time.sleep(rng.uniform(0.0, 0.08))
            p.kill()
        else:
            p = rig.spawn_push(image, "--resume", "--inject", f"kill:{at}")
        finished = p.wait() == 0
        stats["faults"][kind] += 1
        if finished:
            rig.active = read(image)
        rc, out, err = rig.push(image, "--resume")
        if rc != 0:
            bad.append(f"kill-host: the resumed push failed: exit {rc}: {err}")
        else:
            rig.active = read(image)
            stats["resumed_bytes"] += out["resumed_from"]
            if at is not None and out["resumed_from"] != at:
                bad.append(f"kill-host: killed at {at}, resumed from {out['resumed_from']}")

    elif kind == "kill-bmc":
        p = rig.spawn_push(image, "--inject", "lose:100", "--seed", seed, "--timeout", "1s")
        time.sleep(rng.uniform(0.0, 0.08))
        rig.bmc.kill()
        rig.bmc.wait()
        rig.bmc = None
        rc = p.wait(timeout=30)
        err = p.stderr.read().strip()
        stats["faults"][kind] += 1
        if rc == 0:
            rig.active = read(image)
        elif rc != EXIT_TIMEOUT:
            bad.append(f"kill-bmc: host exited {rc} ({err}), not {EXIT_TIMEOUT}")
        now = rig.flash_bytes()
        if now == read(image):
            # Killed after its atomic switch, before it answered FINISH: the host timed out,
            # and the new image is active, whole and verified. Never a partial one.
            rig.active = now
        elif now != rig.active:
            bad.append("kill-bmc: the active image is neither the old one nor the new one")
        rig.start_bmc()
        rc, out, err = rig.push(image, timeout="5s")
        if rc != 0:
            bad.append(f"kill-bmc: the next push to a new bmc-sim failed: exit {rc}: {err}")
        else:
            rig.active = read(image)

    elif kind == "stall":
        rig.bmc.send_signal(signal.SIGSTOP)
        t0 = time.monotonic()
        rc, out, err = rig.push(image, timeout="300ms")
        took = time.monotonic() - t0
        rig.bmc.send_signal(signal.SIGCONT)
        stats["faults"][kind] += 1
        if rc != EXIT_TIMEOUT:
            bad.append(f"stall: host exited {rc} ({err}), not {EXIT_TIMEOUT}")
        if took > 5:
            bad.append(f"stall: the host took {took:.1f} s to give up on a 0.3 s timeout")

    if rig.flash_bytes() != rig.active:
        bad.append(f"{kind}: the active image is not the last one activated (partial or lost)")
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fwpush", required=True)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="fwpush-fault-")
    rig = Rig(os.path.abspath(args.fwpush), work)
    stats = {"runs": 0, "faults": {k: 0 for k in KINDS}, "resends": 0,
             "retries_exhausted": 0, "resumed_bytes": 0, "violations": 0, "failed_runs": 0}
    try:
        images = make_images(work, random.Random(args.seed))
        rig.start_bmc()
        # Start from a known active image.
        rc, _, err = rig.push(images[0], timeout="5s")
        if rc != 0:
            print(f"setup push failed: exit {rc}: {err}")
            return 1
        rig.active = read(images[0])
        for i in range(args.runs):
            rng = random.Random(args.seed + i)
            kind = rng.choice(KINDS)
            bad = run_one(rig, images, rng, kind, stats)
            stats["runs"] += 1
            stats["failed_runs"] += 1 if bad else 0
            for b in bad:
                stats["violations"] += 1
                print(f"VIOLATION run {i} (reproduce: --seed {args.seed + i} --runs 1): {b}")
    finally:
        rig.cleanup()
        shutil.rmtree(work, ignore_errors=True)

    f = stats["faults"]
    print(f"fault campaign: {stats['runs']} runs, seed {args.seed}")
    print("  faults injected: " + ", ".join(f"{k} {f[k]}" for k in KINDS))
    print(f"  chunks resent {stats['resends']}, retries exhausted {stats['retries_exhausted']}, "
          f"bytes resumed {stats['resumed_bytes']}")
    print(f"  invariant violations: {stats['violations']}")
    print(f"{stats['runs'] - stats['failed_runs']} passed, {stats['failed_runs']} failed")
    return 1 if stats["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
