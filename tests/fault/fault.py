#!/usr/bin/env python3
"""Fault-injection campaign against real fwpush processes.

Every run draws one fault from a seeded generator (run i uses seed SEED+i, so any failure is
reproduced with --seed SEED+i --runs 1):

  flip      bodies corrupted after hashing        the push completes; every flip caught and resent
  lose      doorbells never rung                  the push completes; doorbells rung again
  dup       doorbells rung twice                  the push completes; nothing sent twice
  kill-host SIGKILL of the host mid-push          a push --resume completes (from where the host
                                                  died, when that point was chosen, less at most
                                                  the chunks it had in flight: see below)
  kill-bmc  SIGKILL of the BMC mid-push           the host exits 5 (or had finished); the active
                                                  image is the old one or the whole new one; a
                                                  new bmc-sim serves the next push
  stall     the BMC stopped (SIGSTOP)             the host exits 5 within its timeout
  disk-full the flash's small tmpfs filled        the push goes in, or the host exits 6 with
            (bytes or inodes; before the push or  status 9 (never a timeout); the BMC lives on;
            while it runs)                        a refused image leaves no blocks behind and
                                                  the record, PATH and image as they were; with
                                                  the room back, the next push goes in
  concurrent-writer  a second bmc-sim, or         the intruder is refused: exit 4 and one line
            rt-update --activate of a staged      naming the flash; the push goes in, unharmed
            update, on the same flash mid-push
  stray-writer  another writer of the window      protocol v2 (PROTOCOL.md 5.1, 6.2): the push
            (its memory, not the API): stale,     goes in (a stale or far doorbell is answered
            far and zero doorbells mid-push; or,  BAD_SEQ or ignored, the host rings its own
            between pushes, a whole valid START   again); a far START does not move last_seq, a
            beyond JUMP or within it              near one opens a session the next push ends;
                                                  no write ever wedges the BMC

The flash lives on a small tmpfs the campaign mounts (root only); where it cannot mount one,
disk-full runs are counted as skipped, with the reason, and the flash lives in a directory.

After every run, whatever happened: the active image equals the last image known to have been
activated, byte for byte (intact, and never a partial one). Prints the totals; exits 1 if any
invariant was violated.
"""
import argparse
import json
import mmap
import os
import struct
import random
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

try:
    import xxhash  # python3-xxhash (tools/deps.sh --test): to write a START the BMC accepts
except ImportError:
    # Debian's python3-xxhash is in /usr/bin/python3's path only (not a pyenv's, say).
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    xxhash = None

KINDS = ["flip", "lose", "dup", "kill-host", "kill-bmc", "stall", "disk-full",
         "concurrent-writer", "stray-writer"]
JUMP = 65536
EXIT_TARGET, EXIT_REFUSED, EXIT_TIMEOUT = 4, 6, 5
SLOTS, CHUNK = 4, 64 << 10  # the BMC's window: slots, and the slot size (the chunk size)
SMALL_FS = "size=6M,nr_inodes=32"  # the largest image is 1.5 MB: both banks fit, with room


class Rig:
    def __init__(self, fwpush, work):
        self.fwpush = fwpush
        self.work = work
        self.name = f"fwpush-fault-{os.getpid()}"
        self.window = f"shm:{self.name}"
        self.bmc = None
        self.active = None  # the bytes of the image last known to be active
        self.small = os.path.join(work, "small")
        os.mkdir(self.small)
        p = subprocess.run(["mount", "-t", "tmpfs", "-o", SMALL_FS, "fwpush-fault", self.small],
                           capture_output=True, text=True)
        self.mounted = p.returncode == 0
        self.no_mount = None if self.mounted else (
            f"cannot mount a tmpfs ({(p.stderr or p.stdout).strip()}): needs root")
        self.flash = os.path.join(self.small, "flash.bin")
        self.rt_name = self.name
        self.rt_staged = False

    def start_bmc(self):
        self.bmc = subprocess.Popen(
            [self.fwpush, "bmc-sim", "--window", self.window, "--flash", self.flash,
             "--slots", str(SLOTS), "--slot-size", str(CHUNK), "--idle-timeout", "2s",
             "--quiet"])

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

    def inactive_bank(self):
        return self.flash + (".b" if os.readlink(self.flash).endswith(".a") else ".a")

    def inactive_blocks(self):
        """The inactive bank's blocks; 0 before its first image (after one push it has none)."""
        try:
            return os.stat(self.inactive_bank()).st_blocks
        except FileNotFoundError:
            return 0

    def fill(self, inodes):
        """Fills the small tmpfs (its bytes, or its inodes) with ballast until it is full."""
        i = 0
        while True:
            path = os.path.join(self.small, f"ballast{i}")
            try:
                with open(path, "wb") as f:
                    while not inodes:
                        f.write(bytes(64 << 10))
            except OSError:
                return
            i += 1

    def leave_room(self, room):
        """Fills the small tmpfs to leave about room bytes free."""
        st = os.statvfs(self.small)
        fill = st.f_bavail * st.f_frsize - room
        if fill > 0:
            with open(os.path.join(self.small, "ballast"), "wb") as f:
                try:
                    f.write(bytes(fill))
                except OSError:
                    pass  # full already: no room left at all

    def unfill(self):
        for n in os.listdir(self.small):
            if n.startswith("ballast"):
                os.unlink(os.path.join(self.small, n))

    def stage_rt(self, image):
        if not self.rt_staged:
            subprocess.run([self.fwpush, "rt-update", "--stage", image, "--name", self.rt_name,
                            "-q"], check=True, timeout=60)
            self.rt_staged = True

    def cleanup(self):
        try:
            self.stop_bmc(signal.SIGKILL)
        except Exception:
            pass
        for p in (f"/dev/shm/{self.name}", f"/dev/shm/{self.name}-2",
                  f"/dev/shm/fwpush-rt-{self.rt_name}.img",
                  f"/dev/shm/fwpush-rt-{self.rt_name}.state"):
            if os.path.exists(p):
                os.unlink(p)
        if self.mounted:
            subprocess.run(["umount", "-l", self.small])


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


class Window:
    """The window's memory as any writer of it sees it (PROTOCOL.md 1.1, 2.2, 3.1)."""

    def __init__(self, name):
        with open("/dev/shm/" + name, "r+b") as f:
            self.m = mmap.mmap(f.fileno(), 0)
        self.slots, self.slot_size = struct.unpack_from("<II", self.m, 12)
        self.body_offset, = struct.unpack_from("<I", self.m, 24)
        self.epoch, = struct.unpack_from("<I", self.m, 48)

    def last_seq(self):
        return struct.unpack_from("<I", self.m, 56)[0]

    def ring(self, slot, seq):
        struct.pack_into("<I", self.m, 64 + 64 * slot, seq)

    def answered(self, slot):
        return struct.unpack_from("<IH", self.m, 64 + 64 * self.slots + 64 * slot)

    def start(self, slot, seq, image_size, chunk):
        """A whole, valid START_UPGRADE (3.2) in slot, rung with seq."""
        body = struct.pack("<QIIII16sQ", image_size, chunk, 0, 0, 0, bytes(16), 0)
        h = xxhash.xxh3_128_intdigest(body)
        hdr = struct.pack("<IHHIIQII QQQ", 0x4d505746, 2, 1, seq, self.epoch, 0, len(body), 0,
                          h & (2**64 - 1), h >> 64, 0)
        hdr += struct.pack("<Q", xxhash.xxh3_64_intdigest(hdr))
        at = self.body_offset + self.slot_size * slot
        self.m[at:at + len(body)] = body
        at = 64 + 128 * self.slots + 64 * slot
        self.m[at:at + 64] = hdr
        self.ring(slot, seq)

    def close(self):
        self.m.close()


def stray_doorbells(win, rng, stop, count):
    """Stale, far and zero values into random host doorbells: never the next number."""
    while not stop.is_set():
        last = win.last_seq()
        value = rng.choice([0, (last - rng.randrange(1, 100)) % 2**32,
                            (last + JUMP + rng.randrange(1, 1 << 30)) % 2**32])
        win.ring(rng.randrange(win.slots), value)
        count[0] += 1
        time.sleep(rng.uniform(0.0005, 0.005))


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
        at = rng.choice([rng.randrange(0, size, CHUNK), size, None])
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
            # The dead host's messages still pending when the next host's START arrives are
            # stale by design (PROTOCOL.md 6.2, 6.3: the new host does not wait for them and
            # may overwrite their slots), so a slow BMC may hold up to SLOTS - 1 chunks less
            # than were rung; never more than the host sent, and whole chunks only.
            lost = at - out["resumed_from"] if at is not None else 0
            if at is not None and (lost < 0 or lost > (SLOTS - 1) * CHUNK or lost % CHUNK):
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

    elif kind == "disk-full":
        if not rig.mounted:
            stats["skipped"] += 1
            return bad
        how = rng.choice(["room", "room", "fill-during", "inodes"])
        before = (os.readlink(rig.flash), read(rig.flash + ".meta"))
        if how == "room":
            # About as much room as the image needs, give or take: it fits, or it does not.
            # (The inactive bank's blocks are reused: the image needs only what they lack.)
            need = os.path.getsize(image) - rig.inactive_blocks() * 512
            rig.leave_room(rng.randrange(0, 2 * max(need, 0) + (64 << 10)))
            rc, out, err = rig.push(image)
        elif how == "inodes":
            rig.fill(inodes=True)
            rc, out, err = rig.push(image)
        else:
            p = rig.spawn_push(image, "--inject", "lose:100", "--seed", seed)
            time.sleep(rng.uniform(0.0, 0.08))
            rig.fill(inodes=False)
            rc = p.wait(timeout=30)
            err = p.stderr.read().strip()
        stats["faults"][kind] += 1
        stats["disk_full"][how] = stats["disk_full"].get(how, 0) + 1
        if rc == 0:
            rig.active = read(image)
        elif rc == EXIT_REFUSED and "flash write failed (status 9)" in err:
            stats["storage_errors"] += 1
            stats["disk_full"][how + " refused"] = stats["disk_full"].get(how + " refused", 0) + 1
            if (os.readlink(rig.flash), read(rig.flash + ".meta")) != before:
                bad.append(f"disk-full ({how}): refused, yet PATH or the record changed")
            if os.stat(rig.inactive_bank()).st_blocks:
                bad.append(f"disk-full ({how}): the refused image's bank still holds blocks")
        else:
            bad.append(f"disk-full ({how}): host exited {rc} ({err}), not 0 or 6 (status 9)")
        if rig.bmc.poll() is not None:
            bad.append(f"disk-full ({how}): bmc-sim died (exit {rig.bmc.returncode})")
            rig.bmc = None
            rig.start_bmc()
        rig.unfill()
        rc, out, err = rig.push(image, timeout="5s")
        if rc != 0:
            bad.append(f"disk-full ({how}): with the room back, the next push failed: exit {rc}: "
                       f"{err}")
        else:
            rig.active = read(image)

    elif kind == "concurrent-writer":
        who = rng.choice(["bmc-sim", "rt-update"])
        if who == "rt-update":
            rig.stage_rt(rng.choice([i for i in images if i != image]))
        p = rig.spawn_push(image, "--inject", "lose:100", "--seed", seed)
        time.sleep(rng.uniform(0.0, 0.08))
        if who == "bmc-sim":
            cmd = [rig.fwpush, "bmc-sim", "--window", f"{rig.window}-2", "--flash", rig.flash,
                   "--quiet"]
        else:
            cmd = [rig.fwpush, "rt-update", "--activate", "--flash", rig.flash, "--name",
                   rig.rt_name, "--timeout", "5s"]
        q = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        try:
            qrc = q.wait(timeout=5)
        except subprocess.TimeoutExpired:
            q.kill()
            qrc = q.wait()
        qerr = q.stderr.read().strip()
        stats["faults"][kind] += 1
        line = f"flash {rig.flash}: in use by another process"
        if not (qrc == EXIT_TARGET and line in qerr and "\n" not in qerr):
            bad.append(f"concurrent-writer: the second writer ({who}) exited {qrc} ({qerr}), "
                       f"not {EXIT_TARGET} with one line '{line}...'")
        if who == "rt-update" and qrc == 0:
            rig.rt_staged = False
        rc = p.wait(timeout=30)
        err = p.stderr.read().strip()
        if rc != 0:
            bad.append(f"concurrent-writer ({who}): the push under way failed: exit {rc}: {err}")
        else:
            rig.active = read(image)

    elif kind == "stray-writer":
        bad += stray_writer(rig, image, rng, seed, stats)

    if rig.flash_bytes() != rig.active:
        bad.append(f"{kind}: the active image is not the last one activated (partial or lost)")
    return bad


def stray_writer(rig, image, rng, seed, stats):
    bad = []
    win = Window(rig.name)
    try:
        if rng.random() < 0.5 and not xxhash:
            stats["skipped_starts"] += 1
            rc, out, err = rig.push(image)
        elif rng.random() < 0.5:
            # Between pushes: a whole valid START beyond JUMP (BAD_SEQ, last_seq stays) or
            # within it (a session opened by someone else; the next push ends it).
            last, slot = win.last_seq(), rng.randrange(win.slots)
            far = rng.random() < 0.5
            seq = (last + (JUMP + rng.randrange(1, 1 << 30) if far else rng.randrange(1, JUMP))
                   ) % 2**32 or 1
            win.start(slot, seq, 4096, 4096)
            for _ in range(200):
                if win.answered(slot)[0] == seq:
                    break
                time.sleep(0.005)
            status = win.answered(slot)
            want = (seq, 7) if far else (seq, 0)
            if status != want:
                bad.append(f"stray-writer: a {'far' if far else 'near'} START at {seq} (last_seq "
                           f"{last}) answered {status}, not {want}")
            if far and win.last_seq() != last:
                bad.append(f"stray-writer: a far START moved last_seq {last} -> {win.last_seq()}")
            stats["faults"]["stray-writer"] += 1
            rc, out, err = rig.push(image)
        else:
            stop, count = threading.Event(), [0]
            t = threading.Thread(target=stray_doorbells, args=(win, rng, stop, count))
            p = rig.spawn_push(image, "--inject", "lose:20", "--seed", seed)
            t.start()
            rc = p.wait(timeout=30)
            stop.set()
            t.join()
            err = p.stderr.read().strip()
            stats["faults"]["stray-writer"] += count[0]
        if rc != 0:
            bad.append(f"stray-writer: the push failed: exit {rc}: {err}")
        else:
            rig.active = read(image)
    finally:
        win.close()
    return bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fwpush", required=True)
    ap.add_argument("--runs", type=int, default=200)
    ap.add_argument("--seed", type=int, default=1)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="fwpush-fault-")
    rig = Rig(os.path.abspath(args.fwpush), work)
    if not rig.mounted:
        print(f"disk-full runs skipped: {rig.no_mount}")
    stats = {"runs": 0, "faults": {k: 0 for k in KINDS}, "resends": 0,
             "retries_exhausted": 0, "resumed_bytes": 0, "violations": 0, "failed_runs": 0,
             "storage_errors": 0, "skipped": 0, "skipped_starts": 0, "disk_full": {}}
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
          f"bytes resumed {stats['resumed_bytes']}, storage errors {stats['storage_errors']}")
    if stats["disk_full"]:
        print("  disk-full runs: " + ", ".join(f"{k} {v}" for k, v in
                                               sorted(stats["disk_full"].items())))
    if stats["skipped"]:
        print(f"  disk-full runs skipped: {stats['skipped']} ({rig.no_mount})")
    if stats["skipped_starts"]:
        print(f"  stray-writer START runs skipped: {stats['skipped_starts']} (python3-xxhash "
              "missing: tools/deps.sh --test)")
    print(f"  invariant violations: {stats['violations']}")
    print(f"{stats['runs'] - stats['failed_runs']} passed, {stats['failed_runs']} failed")
    return 1 if stats["violations"] else 0


if __name__ == "__main__":
    sys.exit(main())
