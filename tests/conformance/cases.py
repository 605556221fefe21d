"""The conformance checks, in groups; each group is one meson test (see meson.build).

Python host -> fwpush bmc-sim, fwpush push -> Python BMC, and Python host <-> Python BMC. Every
check prints one line, "ok - what" or "FAIL - what: detail". Section numbers are docs/PROTOCOL.md's.
"""

import os
import re
import shutil
import signal
import struct
import subprocess
import tempfile
import threading
import time

from fwpeer import (ABORT, ABORTED, AUTH_FAILED, AUTH_REQUIRED, BAD_EPOCH, BAD_HASH, BAD_HEADER,
                    BAD_LENGTH, BAD_SEQ, BAD_STATE, BAD_VERSION, BANK_ACTIVE, BANK_INACTIVE,
                    CAP_BLOCK_HASHES, CAP_RUNNING, CTRL, DATA, FINISH, HASHES, HASHES_BODY, KEEP,
                    KEEP_BODY, FLAG_HAS_HASH, FLAG_RESUME, FLAG_RUNNING, IDLE_TIMEOUT, JUMP,
                    MASK32, OFF_EPOCH, OK, OUT_OF_RANGE, START, STORAGE_ERROR, TOO_LARGE,
                    VERIFY_FAILED, WINDOW_MAGIC, ZERO16, Bmc, BmcFaults, Hash128Stream, Host,
                    HostError, Layout, add_seq, h128, hexhash, nxt, ofd_trylock, start_body,
                    status_name)

FWPUSH = os.environ.get("FWPUSH", "fwpush")
SLOT = 65536                     # bmc-sim --slot-size for the host tests
CAP = 1 << 20                    # bmc-sim --flash-size
C = 4096                         # chunk size of hand-made sessions


# ================================================================= harness
class Run:
    """One group's checks, its temporary files, windows and processes, all removed at the end."""

    def __init__(self, group):
        self.group = group
        self.fails = 0
        self.count = 0
        self.tmp = tempfile.mkdtemp(prefix="fwconf-%s-" % group)
        self.names = []
        self.procs = []
        self.bmcs = []
        self.mounts = []

    def check(self, cond, what, detail="", show=False):
        """One line per check; show: print the detail (a measured value) on success too."""
        self.count += 1
        if cond:
            print("ok - " + what + (" (%s)" % detail if show and detail else ""), flush=True)
        else:
            self.fails += 1
            print("FAIL - %s%s" % (what, ": " + detail if detail else ""), flush=True)
        return cond

    def skip(self, what, why):
        print("ok - %s # SKIP %s" % (what, why), flush=True)

    def name(self, tag):
        n = "fwconf-%d-%s-%d" % (os.getpid(), tag, len(self.names))
        self.names.append(n)
        return n

    def path(self, leaf):
        return os.path.join(self.tmp, leaf)

    def image(self, leaf, data):
        p = self.path(leaf)
        with open(p, "wb") as f:
            f.write(data)
        return p

    def cleanup(self):
        for b in self.bmcs:
            try:
                b.stop()
            except Exception:
                pass
        for p in self.procs:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                try:
                    p.wait(3)
                except subprocess.TimeoutExpired:
                    p.kill()
                    p.wait()
        for n in self.names:
            try:
                os.unlink("/dev/shm/" + n)
            except OSError:
                pass
        for m in self.mounts:
            subprocess.call(["umount", "-l", m], stderr=subprocess.DEVNULL)
        shutil.rmtree(self.tmp, ignore_errors=True)


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


# ------------------------------------------------------------------ fwpush's processes
def bmc_sim(r, tag, *extra, slots=4, slot_size=SLOT, flash_size=CAP, flash=None):
    """Starts `fwpush bmc-sim` on a new shm name; returns (name, flash path, Host on it)."""
    if os.environ.get("CONF_SIM") == "py":
        return _py_sim(r, tag, extra, slots, slot_size, flash_size, flash)
    name = r.name(tag)
    flash = flash or r.path(name + ".flash")
    err = open(r.path(name + ".log"), "wb")
    p = subprocess.Popen([FWPUSH, "bmc-sim", "--window", "shm:" + name, "--flash", flash,
                          "--slots", str(slots), "--slot-size", str(slot_size),
                          "--flash-size", str(flash_size)] + list(extra),
                         stdout=err, stderr=err)
    r.procs.append(p)
    h = Host(name, timeout=5)
    return name, flash, h


def _py_sim(r, tag, extra, slots, slot_size, flash_size, flash):
    """CONF_SIM=py: the Python BMC stands in for bmc-sim (to check the checks themselves)."""
    idle = 60.0
    if "--idle-timeout" in extra:
        idle = float(extra[extra.index("--idle-timeout") + 1].rstrip("ms")) / 1000
    name = r.name(tag)
    erase = re.search(r"erase=(\d+)K", " ".join(extra))
    b = Bmc(name, flash or r.path(name + ".flash"), slots=slots, slot_size=slot_size,
            flash_capacity=flash_size, idle_timeout=idle,
            block_size=int(erase.group(1)) << 10 if erase else 65536)
    b.create().start()
    r.bmcs.append(b)
    return name, b.flash_path, Host(name)


def fwpush_push(r, image, name, *extra, timeout="5s"):
    """Runs `fwpush push` (name: one shm name, or a list: a fan-out to all of them); returns
    (exit code, stderr text, seconds)."""
    t0 = time.monotonic()
    targets = [a for n in ([name] if isinstance(name, str) else name)
               for a in ("--target", "shm:" + n)]
    p = subprocess.run([FWPUSH, "push", image] + targets + ["--timeout", timeout,
                        "-q"] + list(extra), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=120)
    return p.returncode, p.stderr.decode(errors="replace").strip(), time.monotonic() - t0


def py_bmc(r, tag, slots=4, slot_size=SLOT, idle_timeout=60.0, block_size=65536, running=True,
           **faults):
    """The Python BMC; running=False: no caps bit 2 (fwpush's plain sessions, 15)."""
    name = r.name(tag)
    b = Bmc(name, r.path(name + ".flash"), slots=slots, slot_size=slot_size,
            flash_capacity=16 << 20, idle_timeout=idle_timeout, faults=BmcFaults(**faults),
            block_size=block_size, running=running)
    b.create().start()
    r.bmcs.append(b)
    return b


# ------------------------------------------------------------------ one message, one check
def expect(r, h, what, typ, body=b"", want=OK, slot=0, seq=None, want_type=None,
           want_offset=0, want_hash=ZERO16, handled=True, **kw):
    """Sends one message (header fields in kw), checks the whole answer per 5.6 and last_seq.

    handled: the message uses up its number (L becomes its seq); else L must not move (BAD_SEQ).
    """
    L0 = h.last_seq()
    seq = nxt(L0) if seq is None else seq
    rung = kw.get("ring", seq)
    a = h.call(slot, typ, seq, body, timeout=3, **kw)
    want_type = typ if want_type is None else want_type
    if a is None:
        r.check(False, what, "no answer to seq %#x within 3 s (want %s)" % (rung,
                                                                           status_name(want)))
        return None
    bad = []
    if a.status != want:
        bad.append("status %s, want %s" % (status_name(a.status), status_name(want)))
    if a.type not in (want_type if isinstance(want_type, tuple) else (want_type,)):
        bad.append("type %d, want %s" % (a.type, want_type))
    if a.epoch != h.epoch:
        bad.append("epoch %#x, window's %#x" % (a.epoch, h.epoch))
    if a.offset != want_offset:
        bad.append("offset %d, want %d" % (a.offset, want_offset))
    if a.hash != want_hash:
        bad.append("hash %s, want %s" % (hexhash(a.hash), hexhash(want_hash)))
    L = h.last_seq()
    if handled and L != rung:
        bad.append("last_seq %#x, want %#x (the message uses up its number)" % (L, rung))
    if not handled and L != L0:
        bad.append("last_seq moved %#x -> %#x" % (L0, L))
    r.check(not bad, what, "; ".join(bad))
    return a


def quiet(h, typ, body=b"", slot=0, seq=None, **kw):
    """A message whose answer a setup step needs, not checked on its own line."""
    seq = nxt(h.last_seq()) if seq is None else seq
    a = h.call(slot, typ, seq, body, timeout=3, **kw)
    if a is None or a.status != OK:
        raise HostError("setup %s seq %#x: %r" % (typ, seq, a))
    return a


def open_session(h, size, chunk=C, flags=0, image_hash=ZERO16):
    return quiet(h, START, start_body(size, chunk, 0, flags, image_hash))


def R(image, e):
    """15.1: the running digest through byte e, hashed in one piece (the Python host streams)."""
    return h128(image[:e])


def send_chunks(h, image, start, end, chunk=C, running=False):
    """DATA for start..end; running: each carries R through it (15.2), not its own hash."""
    for off in range(start, end, chunk):
        piece = image[off:off + chunk]
        quiet(h, DATA, piece, offset=off,
              body_hash=R(image, off + len(piece)) if running else h128(piece))


def still_heartbeat(h, stop):
    """The longest time the heartbeat was seen unchanged, until stop is set.

    Measured from the first to the last sample that saw one value, so a sampler that was not
    scheduled for a while (a loaded machine) never makes a BMC look late: what it reports, the
    BMC really left still."""
    worst = 0.0
    value, first = h.heartbeat(), time.monotonic()
    while not stop.is_set():
        hb, now = h.heartbeat(), time.monotonic()
        if hb == value:
            worst = max(worst, now - first)
        else:
            value, first = hb, now
        time.sleep(0.002)
    return worst


def no_answer_for(h, slot, seq, seconds):
    """True when the slot's answer does not become seq within `seconds` (a held message)."""
    return h.wait(slot, seq, timeout=seconds) is None


# ================================================================= groups: host -> bmc-sim
def g_format(r):
    """1.1, 1.2, 7, 10: the window bmc-sim publishes, its lock and its heartbeat."""
    name, r.flash, h = bmc_sim(r, "fmt", slots=3, slot_size=2 * 4096)
    c = CTRL.unpack(h.win.read(0, 64))
    lay = Layout(3, 8192)
    size = os.stat("/dev/shm/" + name).st_size
    r.check(size & (size - 1) == 0 and size >= lay.window_size,
            "10: the shm file is sized to a power of two >= window_size", "size %d" % size)
    r.check(c[0] == WINDOW_MAGIC and c[1] == 2 and c[2] == 64,
            "1.1: magic, version 2, ctrl_size 64", repr(c[:3]))
    r.check((c[3], c[4], c[5], c[6], c[8]) == (3, 8192, lay.stride, lay.body_offset,
                                               lay.window_size),
            "1.1: slot_count, slot_size, slot_stride, body_offset, window_size as the table",
            repr(c[3:9]))
    r.check(c[7] & ~7 == 0, "1.1: reserved caps bits (all but 0, 1 and 2) are 0",
            "caps %#x" % c[7])
    r.check(c[9] == CAP, "1.1: flash_capacity is --flash-size", "%d" % c[9])
    r.check(c[10] != 0, "1.2: a published window has a nonzero epoch")
    r.check(c[12] == 0, "1.2: last_seq is 0 after formatting", "%#x" % c[12])
    lines = h.win.read(64, 192 * 3)
    r.check(lines == bytes(len(lines)), "1.2: doorbell, answer and header lines zeroed")
    r.check(h.bmc_locked(), "10: bmc-sim holds the byte-0 lock while it serves")
    # 7: the heartbeat changes at least every 100 ms while idle
    stop = threading.Event()
    threading.Timer(1.0, stop.set).start()
    worst = still_heartbeat(h, stop)
    r.check(worst <= 0.115, "7: idle heartbeat changes at least every 100 ms",
            "longest gap %.0f ms" % (worst * 1000), show=True)
    a = expect(r, h, "5.7: an ABORT with no session is answered OK", ABORT)
    r.check(a is not None and h.last_seq() == a.seq, "5.1: last_seq equals the answered seq")
    _scribble(r, h)
    # 1.2 SHOULD: a BMC that stops serving stores 0 into epoch; reported, not failed
    if not r.procs:
        return
    p = r.procs[-1]
    p.send_signal(signal.SIGTERM)
    p.wait(5)
    print("note - 1.2 (SHOULD): epoch after bmc-sim stopped: %#x (file %s)" % (
        h.cur_epoch(), "gone" if not os.path.exists("/dev/shm/" + name) else "still there"))
    h.close()


def _scribble(r, h):
    """1.1: the BMC addresses the window from its private layout; 5.1: L is never taken back."""
    L = h.last_seq()
    saved = h.win.read(12, 36)
    # slot_count 64, slot_size 64 MiB, stride, body_offset 0, caps, window_size, capacity
    h.win.write(12, struct.pack("<IIIIIQQ", 64, 1 << 26, 1 << 26, 0, 0, 1 << 40, 1 << 40))
    h.win.st32(56, add_seq(L, 1000))                      # a false last_seq
    h.send(1, ABORT, add_seq(L, 1001))
    r.check(no_answer_for(h, 1, add_seq(L, 1001), 0.3),
            "5.1: the BMC does not take L back from a scribbled last_seq (L+1001 held)")
    img = os.urandom(3 * C + 3)
    try:
        h.push(img, chunk=C, slots=3, first=nxt(L))
        r.check(read(r.flash) == img, "1.1: with the control block scribbled over, the BMC "
                "still serves from its private layout (push OK, flash equal)")
    except HostError as e:
        r.check(False, "1.1: the BMC serves despite a scribbled control block", str(e))
    h.win.write(12, saved)


def g_busy(r):
    """7: the heartbeat beats while the BMC works on a long step (a NOR part programming)."""
    _n, flash, h = bmc_sim(r, "busy", "--flash-model", "nor:scale=0.3")
    gaps, stop = [], threading.Event()
    t = threading.Thread(target=lambda: gaps.append(still_heartbeat(h, stop)))
    img = os.urandom(512 << 10)
    t0 = time.monotonic()
    t.start()
    try:
        h.push(img, chunk=SLOT)
        ok = read(flash) == img
    except HostError as e:
        ok = str(e)
    stop.set()
    t.join()
    r.check(ok is True, "a push into a paced NOR flash model", str(ok))
    r.check(max(gaps) <= 0.115, "7: heartbeat changes at least every 100 ms during a %.2f s "
            "push into slow flash" % (time.monotonic() - t0),
            "longest gap %.0f ms" % (max(gaps) * 1000), show=True)
    # 10: a FIFO at the name is no window: bmc-sim refuses it rather than hang
    name = r.name("fifo")
    os.mkfifo("/dev/shm/" + name)
    try:
        p = subprocess.run([FWPUSH, "bmc-sim", "--window", "shm:" + name, "--flash",
                            r.path("ff.flash")], stderr=subprocess.PIPE, timeout=5)
        r.check(p.returncode != 0, "10: bmc-sim refuses a FIFO at the window's name",
                p.stderr.decode().strip(), show=True)
    except subprocess.TimeoutExpired:
        r.check(False, "10: bmc-sim refuses a FIFO at the window's name", "still running")
    h.close()


def g_header(r):
    """3.1: H1..H11 with their statuses, the answer's type, and the order of the rules."""
    _name, _flash, h = bmc_sim(r, "hdr")
    quiet(h, START, start_body(3 * C, C), seq=0x100)      # fresh BMC: any START number
    # each message below is E = next(last_seq): handled whatever its header holds (5.1)
    expect(r, h, "H1: wrong magic -> BAD_HEADER, type 0", ABORT, want=BAD_HEADER,
           want_type=0, magic=0x4D505747)
    expect(r, h, "H2: wrong check -> BAD_HEADER, type 0", ABORT, want=BAD_HEADER,
           want_type=0, check=0x1234)
    expect(r, h, "H3/11: version 1 message -> BAD_VERSION, type 0", ABORT, want=BAD_VERSION,
           want_type=0, version=1)
    expect(r, h, "H3: version 3 -> BAD_VERSION", ABORT, want=BAD_VERSION, want_type=0,
           version=3)
    E = nxt(h.last_seq())
    expect(r, h, "H4: header seq differs from the doorbell -> BAD_HEADER, answered at the "
           "doorbell's seq", ABORT, want=BAD_HEADER, seq=nxt(E), ring=E)
    expect(r, h, "H5: another epoch -> BAD_EPOCH", ABORT, want=BAD_EPOCH,
           epoch=h.epoch ^ 0x5A5A0000)
    expect(r, h, "H6: type 7 -> BAD_HEADER, type 0", 7, want=BAD_HEADER, want_type=0)
    expect(r, h, "H6: type 0 -> BAD_HEADER, type 0", 0, want=BAD_HEADER, want_type=0)
    expect(r, h, "H7: flags 1 -> BAD_HEADER", ABORT, want=BAD_HEADER, flags=1)
    expect(r, h, "H7: reserved nonzero -> BAD_HEADER", ABORT, want=BAD_HEADER,
           reserved=b"\0\0\0\0\0\0\0\1")
    expect(r, h, "H8: length > slot_size -> BAD_LENGTH", DATA, want=BAD_LENGTH,
           length=SLOT + 4096, body_hash=b"\1" * 16)
    expect(r, h, "H9: offset + length overflows -> OUT_OF_RANGE", DATA, b"x" * 16,
           want=OUT_OF_RANGE, offset=(1 << 64) - 8)
    expect(r, h, "H10: START with offset 4096 -> OUT_OF_RANGE", START, start_body(C, C),
           want=OUT_OF_RANGE, offset=4096)
    expect(r, h, "H10: ABORT with offset 1 -> OUT_OF_RANGE", ABORT, want=OUT_OF_RANGE,
           offset=1)
    expect(r, h, "H11: length 0 with a nonzero body_hash -> BAD_HEADER", ABORT,
           want=BAD_HEADER, body_hash=b"\1" + bytes(15))
    # order: the first rule broken is answered
    expect(r, h, "order H1 before H3: bad magic and version 1 -> BAD_HEADER", ABORT,
           want=BAD_HEADER, want_type=0, magic=0, version=1)
    expect(r, h, "order H3 before H5: version 1 and another epoch -> BAD_VERSION", ABORT,
           want=BAD_VERSION, want_type=0, version=1, epoch=h.epoch ^ 1)
    # type 0 or 9: the spec leaves it open (findings: 5.6 vs 2.2); the status is what counts
    a = expect(r, h, "order H5 before H6: another epoch and type 9 -> BAD_EPOCH", 9,
               want=BAD_EPOCH, want_type=(0, 9), epoch=h.epoch ^ 1)
    print("note - the answer's type for H5 broken with type 9: %s" % (a.type if a else None))
    expect(r, h, "order H8 before H10: START too long with offset 8 -> BAD_LENGTH", START,
           want=BAD_LENGTH, length=SLOT + 1, offset=8, body_hash=b"\2" * 16)
    # the session the START opened is still there: a bad header does not touch it
    expect(r, h, "a bad header leaves the session alone (DATA at 0 then OK)", DATA, b"d" * C,
           offset=0, want_offset=C, want_hash=h128(b"d" * C))
    expect(r, h, "5.6: a failed header's answer holds the open session's bytes", ABORT,
           want=BAD_HEADER, want_type=0, want_offset=C, magic=1)
    h.close()


def g_start(r):
    """3.2: S1..S8 and what a START does to the open session."""
    _name, _flash, h = bmc_sim(r, "start")
    sb = start_body
    expect(r, h, "S1: START body of 40 bytes -> BAD_LENGTH", START, sb(C, C)[:40],
           want=BAD_LENGTH, seq=0x5000)
    expect(r, h, "S1: START body of 56 bytes -> BAD_LENGTH", START, sb(C, C) + bytes(8),
           want=BAD_LENGTH)
    expect(r, h, "S2: START body_hash wrong -> BAD_HASH", START, sb(C, C), want=BAD_HASH,
           body_hash=h128(b"other"))
    expect(r, h, "S3: START reserved (offset 20) nonzero -> BAD_HEADER", START,
           sb(C, C, res1=1), want=BAD_HEADER)
    expect(r, h, "S3: START reserved (offset 40) nonzero -> BAD_HEADER", START,
           sb(C, C, res2=b"\0" * 7 + b"\1"), want=BAD_HEADER)
    expect(r, h, "S3: START flag bit 3 (unknown) -> BAD_HEADER", START, sb(C, C, flags=8),
           want=BAD_HEADER)
    expect(r, h, "S3: START flag bit 2 (RUNNING) -> OK with caps bit 2, else BAD_HEADER",
           START, sb(C, C, flags=FLAG_RUNNING),
           want=OK if h.caps & CAP_RUNNING else BAD_HEADER)
    expect(r, h, "S4: RESUME without HAS_HASH -> BAD_HEADER", START,
           sb(C, C, flags=FLAG_RESUME), want=BAD_HEADER)
    expect(r, h, "S5: image_size 0 -> BAD_LENGTH", START, sb(0, C), want=BAD_LENGTH)
    expect(r, h, "S6: image_size flash_capacity + 1 -> TOO_LARGE", START, sb(CAP + 1, C),
           want=TOO_LARGE)
    expect(r, h, "S7: chunk_size 0 -> BAD_LENGTH", START, sb(C, 0), want=BAD_LENGTH)
    expect(r, h, "S7: chunk_size slot_size + 1 -> BAD_LENGTH", START, sb(C, SLOT + 1),
           want=BAD_LENGTH)
    expect(r, h, "order S1 before S2: 40 bytes, wrong hash -> BAD_LENGTH", START,
           sb(C, C)[:40], want=BAD_LENGTH, body_hash=b"\3" * 16)
    expect(r, h, "order S6 before S7: too large and chunk 0 -> TOO_LARGE", START,
           sb(CAP + 1, 0), want=TOO_LARGE)
    expect(r, h, "START at flash_capacity with chunk slot_size -> OK, offset 0, hash 0",
           START, sb(CAP, SLOT))
    # a START that fails ends the open session; DATA then finds none (5.4: BAD_STATE)
    img = os.urandom(3 * C)
    open_session(h, len(img))
    send_chunks(h, img, 0, C)
    expect(r, h, "3.2: a failing START (S5) ends the open session", START, sb(0, C),
           want=BAD_LENGTH)
    expect(r, h, "5.4: DATA after the session was ended by a failed START -> BAD_STATE",
           DATA, img[C:2 * C], offset=C, want=BAD_STATE)
    # a valid START ends the open one and opens a new one holding 0 bytes
    open_session(h, len(img))
    send_chunks(h, img, 0, C)
    expect(r, h, "3.2: a new START opens a session holding 0 bytes", START, sb(len(img), C))
    expect(r, h, "3.2: DATA at the old session's offset -> OUT_OF_RANGE (new holds 0)", DATA,
           img[C:2 * C], offset=C, want=OUT_OF_RANGE)
    h.close()
    g_start_storage(r)


def g_start_storage(r):
    """S8: bmc-sim's flash on a tiny tmpfs; the START of a larger image -> STORAGE_ERROR."""
    mnt = r.path("tiny")
    os.mkdir(mnt)
    if subprocess.call(["mount", "-t", "tmpfs", "-o", "size=128k", "tmpfs", mnt],
                       stderr=subprocess.DEVNULL) != 0:
        r.skip("S8: storage that cannot take the image -> STORAGE_ERROR",
               "cannot mount a tmpfs here")
        return
    r.mounts.append(mnt)
    _name, flash, h = bmc_sim(r, "s8", flash=os.path.join(mnt, "flash"), flash_size=16 << 20)
    expect(r, h, "S8: START of 8 MiB onto a 128 KiB filesystem -> STORAGE_ERROR", START,
           start_body(8 << 20, SLOT), want=STORAGE_ERROR, seq=77)
    expect(r, h, "5.5: the BMC still answers after STORAGE_ERROR (ABORT OK)", ABORT)
    r.check(read(flash) is None, "5.5: no active image appeared after STORAGE_ERROR")
    h.close()


def g_data(r):
    """3.3: D1..D4, 5.3 and the answers' offset and hash (5.6)."""
    _name, _flash, h = bmc_sim(r, "data")
    img = os.urandom(3 * C + 100)
    expect(r, h, "D1: DATA with no session since formatting -> BAD_STATE, offset 0", DATA,
           img[:C], seq=1, want=BAD_STATE)
    open_session(h, len(img))
    expect(r, h, "D2: DATA at offset 4096 when 0 held -> OUT_OF_RANGE, offset 0", DATA,
           img[C:2 * C], offset=C, want=OUT_OF_RANGE)
    expect(r, h, "D3: DATA of 2048 bytes, chunk 4096 -> BAD_LENGTH", DATA, img[:2048],
           want=BAD_LENGTH)
    bad = bytearray(img[:C])
    bad[7] ^= 0x40
    expect(r, h, "D4: DATA whose body hash is not body_hash -> BAD_HASH; 5.6: held unchanged, "
           "hash of the body as received", DATA, bytes(bad), want=BAD_HASH,
           body_hash=h128(img[:C]), want_hash=h128(bytes(bad)))
    expect(r, h, "DATA OK: offset the end of the chunk, hash of the body", DATA, img[:C],
           want_offset=C, want_hash=h128(img[:C]))
    expect(r, h, "5.6: a message answered otherwise (ABORT A1) holds the session's bytes",
           ABORT, b"x" * 16, want=BAD_LENGTH, want_offset=C)
    # 5.3: a BAD_HASH, then the DATA already sent after it: OUT_OF_RANGE
    E = nxt(h.last_seq())
    h.send(1, DATA, E, img[C:2 * C], offset=C, body_hash=h128(b"wrong"))
    h.send(2, DATA, nxt(E), img[2 * C:3 * C], offset=2 * C)
    a1, a2 = h.wait(1, E, 3), h.wait(2, nxt(E), 3)
    r.check(a1 is not None and a1.status == BAD_HASH and a1.offset == C,
            "5.3: the corrupted chunk -> BAD_HASH, offset 4096", repr(a1))
    r.check(a2 is not None and a2.status == OUT_OF_RANGE and a2.offset == C,
            "5.3: the chunk pipelined after it -> OUT_OF_RANGE, offset 4096", repr(a2))
    expect(r, h, "5.3: the chunk sent again with a new seq -> OK", DATA, img[C:2 * C],
           offset=C, want_offset=2 * C, want_hash=h128(img[C:2 * C]))
    send_chunks(h, img, 2 * C, 3 * C)
    expect(r, h, "D3: the last chunk longer than what is left -> BAD_LENGTH", DATA,
           img[3 * C:] + bytes(C - 100), offset=3 * C, want=BAD_LENGTH, want_offset=3 * C)
    expect(r, h, "D3: the last chunk of what is left (100 bytes) -> OK", DATA, img[3 * C:],
           offset=3 * C, want_offset=len(img), want_hash=h128(img[3 * C:]))
    expect(r, h, "D2: DATA when the whole image is held -> OUT_OF_RANGE", DATA, b"",
           offset=len(img), want=OUT_OF_RANGE, want_offset=len(img))
    expect(r, h, "D2: DATA at offset 0 again -> OUT_OF_RANGE", DATA, img[:C],
           want=OUT_OF_RANGE, want_offset=len(img))
    expect(r, h, "the FINISH after all that -> OK, offset image_size, hash of the image",
           FINISH, h128(img), want_offset=len(img), want_hash=h128(img))
    h.close()


def g_finish(r):
    """3.4: F1..F5; the flash equals the image after OK and is unchanged after failures."""
    _name, flash, h = bmc_sim(r, "fin")
    expect(r, h, "F1: FINISH with no session since formatting -> BAD_STATE", FINISH,
           h128(b"x"), seq=1, want=BAD_STATE)
    good = os.urandom(3 * C + 1)
    try:
        h.push(good, chunk=C)
        r.check(read(flash) == good, "5.5: after an OK FINISH the flash equals the image "
                "byte for byte (12289 bytes)", "differs")
    except HostError as e:
        r.check(False, "a Python-host push to bmc-sim", str(e))
    img = os.urandom(2 * C)
    open_session(h, len(img))
    send_chunks(h, img, 0, C)
    expect(r, h, "F4: FINISH before every byte is held -> BAD_STATE, offset held", FINISH,
           h128(img), want=BAD_STATE, want_offset=C)
    expect(r, h, "F4 leaves the session open: the next DATA -> OK", DATA, img[C:], offset=C,
           want_offset=2 * C, want_hash=h128(img[C:]))
    expect(r, h, "F2: FINISH of 32 bytes -> BAD_LENGTH", FINISH, h128(img) * 2,
           want=BAD_LENGTH, want_offset=2 * C)
    expect(r, h, "F3: FINISH whose body hash is not body_hash -> BAD_HASH", FINISH, h128(img),
           body_hash=h128(b"no"), want=BAD_HASH, want_offset=2 * C)
    expect(r, h, "F5: FINISH naming another image hash -> VERIFY_FAILED, offset image_size, "
           "hash of the image held", FINISH, h128(b"another"), want=VERIFY_FAILED,
           want_offset=2 * C, want_hash=h128(img))
    expect(r, h, "F5 ends the session: DATA -> BAD_STATE", DATA, img[:C], want=BAD_STATE)
    r.check(read(flash) == good, "5.5: the active image is unchanged after VERIFY_FAILED")
    # F5 against START's image_hash
    open_session(h, len(img), flags=FLAG_HAS_HASH, image_hash=h128(b"not this image"))
    send_chunks(h, img, 0, len(img))
    expect(r, h, "F5: image held differs from START's image_hash -> VERIFY_FAILED", FINISH,
           h128(img), want=VERIFY_FAILED, want_offset=len(img), want_hash=h128(img))
    r.check(read(flash) == good, "5.5: the active image is unchanged after that")
    # 80 bytes to a BMC without a key: F2 allows it, F7/F8 apply only with a key
    open_session(h, len(img))
    send_chunks(h, img, 0, len(img))
    expect(r, h, "F2: an 80-byte FINISH to a BMC without a key -> OK", FINISH,
           h128(img) + bytes(64), want_offset=len(img), want_hash=h128(img))
    r.check(read(flash) == img, "the flash equals the second image byte for byte")
    for size in (1, C, 5 * C + 17):
        data = os.urandom(size)
        try:
            h.push(data, chunk=C, slots=4)
            r.check(read(flash) == data, "a %d-byte push: flash equals the image" % size)
        except HostError as e:
            r.check(False, "a %d-byte push" % size, str(e))
    h.close()


def g_sign(r):
    """F7/F8: bmc-sim --pubkey with fwpush keygen and fwpush sign."""
    key = r.path("key")
    if subprocess.call([FWPUSH, "keygen", "--out", key], stdout=subprocess.DEVNULL) != 0:
        r.check(False, "fwpush keygen")
        return
    a_img, b_img = os.urandom(2 * C + 5), os.urandom(C + 9)
    sigs = {}
    for leaf, data in (("a.bin", a_img), ("b.bin", b_img)):
        p = r.image(leaf, data)
        subprocess.check_call([FWPUSH, "sign", p, "--key", key], stdout=subprocess.DEVNULL)
        sigs[leaf] = read(p + ".sig")
    _name, flash, h = bmc_sim(r, "sign", "--pubkey", key + ".pub")
    try:
        h.push(a_img, chunk=C, signature=sigs["a.bin"])
        r.check(read(flash) == a_img, "F8: a signed image -> OK, flash equals it")
    except HostError as e:
        r.check(False, "F8: a signed image -> OK", str(e))

    def whole(img):
        open_session(h, len(img))
        send_chunks(h, img, 0, len(img))

    whole(b_img)
    expect(r, h, "F7: a 16-byte FINISH to a BMC with a key -> AUTH_REQUIRED", FINISH,
           h128(b_img), want=AUTH_REQUIRED, want_offset=len(b_img), want_hash=h128(b_img))
    whole(b_img)
    expect(r, h, "F8: another image's signature -> AUTH_FAILED", FINISH,
           h128(b_img) + sigs["a.bin"], want=AUTH_FAILED, want_offset=len(b_img),
           want_hash=h128(b_img))
    whole(b_img)
    expect(r, h, "order F5 before F7: unsigned, wrong hash -> VERIFY_FAILED", FINISH,
           h128(b"x"), want=VERIFY_FAILED, want_offset=len(b_img), want_hash=h128(b_img))
    r.check(read(flash) == a_img, "5.5: active image unchanged after AUTH_* and VERIFY_FAILED")
    h.close()


def g_abort(r):
    """3.5: A1 and ABORT's semantics; 5.4: ABORTED answers."""
    _name, flash, h = bmc_sim(r, "abort")
    expect(r, h, "ABORT with no session open -> OK, offset 0", ABORT, seq=1)
    img = os.urandom(2 * C)
    open_session(h, len(img))
    send_chunks(h, img, 0, C)
    expect(r, h, "A1: ABORT with a 16-byte body -> BAD_LENGTH (offset: bytes held)", ABORT,
           b"z" * 16, want=BAD_LENGTH, want_offset=C)
    expect(r, h, "A1 leaves the session open: DATA -> OK", DATA, img[C:], offset=C,
           want_offset=2 * C, want_hash=h128(img[C:]))
    expect(r, h, "ABORT -> OK, offset 0, hash 0", ABORT)
    expect(r, h, "5.4: DATA after an ABORT -> ABORTED, offset 0", DATA, img[:C],
           want=ABORTED)
    expect(r, h, "5.4: FINISH after an ABORT -> ABORTED", FINISH, h128(img), want=ABORTED)
    r.check(read(flash) is None, "an aborted session activated nothing")
    expect(r, h, "a new START after ABORT -> OK", START, start_body(len(img), C))
    h.close()


def g_seq(r):
    """5.1: fresh BMCs, stale, held, START within and beyond JUMP."""
    _n, _f, h = bmc_sim(r, "seqa", slots=4)
    expect(r, h, "5.1: a fresh BMC handles a START at any number (0xABCDEF01)", START,
           start_body(2 * C, C), seq=0xABCDEF01)
    _n2, _f2, h2 = bmc_sim(r, "seqb", slots=4)
    h2.send(1, DATA, 1234, b"d" * C)
    r.check(no_answer_for(h2, 1, 1234, 0.3), "5.1: a fresh BMC holds a DATA at 1234 (not E=1)")
    expect(r, h2, "5.1: then a START at 1240 is handled", START, start_body(C, C), seq=1240)
    a = h2.wait(1, 1234, 2)
    r.check(a is not None and a.status == BAD_SEQ and a.type == DATA and h2.last_seq() == 1240,
            "5.1: the held DATA 1234 is then stale: BAD_SEQ, type 2, last_seq stays 1240",
            repr(a))
    h2.close()
    # stale doorbells
    L = h.last_seq()
    expect(r, h, "5.1: a stale seq (L-3) with a good header -> BAD_SEQ, type from header, "
           "last_seq unchanged", ABORT, slot=2, seq=(L - 3) & MASK32, want=BAD_SEQ,
           handled=False)
    expect(r, h, "5.1: a stale seq with a garbage header -> BAD_SEQ, type 0", ABORT, slot=3,
           seq=(L - 9) & MASK32, magic=0, want=BAD_SEQ, want_type=0, handled=False)
    expect(r, h, "5.1: d = L (already handled, re-rung in another slot) -> BAD_SEQ", ABORT,
           slot=1, seq=L, want=BAD_SEQ, handled=False)
    # held messages answered in turn
    img = os.urandom(2 * C)
    E = nxt(h.last_seq())
    h.send(2, DATA, nxt(E), img[C:], offset=C)
    held = no_answer_for(h, 2, nxt(E), 0.3)
    r.check(held, "5.1: DATA at E+1 is held (no answer) while E is missing")
    h.send(1, DATA, E, img[:C], offset=0)
    a1, a2 = h.wait(1, E, 3), h.wait(2, nxt(E), 3)
    r.check(a1 is not None and a2 is not None and a1.status == OK and a2.status == OK
            and a2.offset == 2 * C and h.last_seq() == nxt(E),
            "5.1: once E comes, E and the held E+1 are answered in turn (OK, OK)",
            "%r %r" % (a1, a2))
    # 5.1 case 3: the answer to E (slot 1) replaced by a stray doorbell's BAD_SEQ, then E
    # rung again by its host: the same answer again, not BAD_SEQ, not handled twice
    lay = h.layout
    h.win.st32(lay.doorbell(1), (E - 50) & MASK32)
    stray = h.wait(1, (E - 50) & MASK32, 2)
    h.win.st32(lay.doorbell(1), E)
    again = h.wait(1, E, 2)
    r.check(stray is not None and stray.status == BAD_SEQ and again is not None and
            again.status == OK and again.offset == a1.offset and again.hash == a1.hash and
            h.last_seq() == nxt(E),
            "5.1: a handled message rung again after a stray write: its answer replayed",
            "%r then %r" % (stray, again))
    # START resync within JUMP, and beyond
    L = h.last_seq()
    expect(r, h, "5.1: START at L + JUMP (the bound) is handled", START, start_body(C, C),
           seq=add_seq(L, JUMP))
    L = h.last_seq()
    expect(r, h, "5.1: START at L + JUMP + 1 -> BAD_SEQ, last_seq unchanged", START,
           start_body(C, C), seq=add_seq(L, JUMP + 1), want=BAD_SEQ, handled=False)
    expect(r, h, "5.1: DATA far after L -> BAD_SEQ", DATA, b"q" * C, seq=add_seq(L, 1 << 20),
           want=BAD_SEQ, handled=False)
    expect(r, h, "5.1: a START after L + JUMP with a bad header -> BAD_SEQ, type 0", START,
           start_body(C, C), seq=add_seq(L, 1 << 24), check=5, want=BAD_SEQ, want_type=0,
           handled=False)
    # a non-START within JUMP is held until a later START makes it stale
    h.send(2, ABORT, add_seq(L, 5))
    r.check(no_answer_for(h, 2, add_seq(L, 5), 0.3),
            "5.1: an ABORT at L+5 (not E, not a START) is held")
    expect(r, h, "5.1: a START at L+6 is handled", START, start_body(C, C), slot=1,
           seq=add_seq(L, 6))
    a = h.wait(2, add_seq(L, 5), 2)
    r.check(a is not None and a.status == BAD_SEQ and a.type == ABORT,
            "5.1: the held ABORT at L+5 is then stale -> BAD_SEQ", repr(a))
    # a START within JUMP whose header fails H4 is not a resync: held (the doorbell alone)
    L = h.last_seq()
    h.send(3, START, add_seq(L, 10), start_body(C, C), ring=add_seq(L, 9))
    r.check(no_answer_for(h, 3, add_seq(L, 9), 0.3) and h.last_seq() == L,
            "5.1: a START within JUMP whose header seq is not its doorbell's is held")
    h.close()


def g_wrap(r):
    """2.1: a whole push across 0xFFFFFFFF -> 1, and serial comparison across the wrap."""
    _n, flash, h = bmc_sim(r, "wrap")
    img = os.urandom(7 * C + 3)
    try:
        h.push(img, chunk=C, slots=4, first=0xFFFFFFFB)
        want = add_seq(0xFFFFFFFB, 9)            # START, 8 DATA, FINISH: 10 numbers
        r.check(h.last_seq() == want == 5, "2.1: a push from 0xFFFFFFFB ends at seq 5 "
                "(0 skipped)", "last_seq %#x" % h.last_seq())
        r.check(read(flash) == img, "2.1: the push across the wrap stored the image")
    except HostError as e:
        r.check(False, "2.1: a push across 0xFFFFFFFF -> 1", str(e))
    expect(r, h, "2.1: after the wrap, 0xFFFFFFFE is stale -> BAD_SEQ", ABORT, slot=1,
           seq=0xFFFFFFFE, want=BAD_SEQ, handled=False)
    _n, _f, h2 = bmc_sim(r, "wrap2")
    quiet(h2, START, start_body(C, C), seq=0xFFFFFFF0)
    expect(r, h2, "2.1: a START at 0xFFFFFFFF is within JUMP after 0xFFFFFFF0", START,
           start_body(C, C), seq=0xFFFFFFFF)
    expect(r, h2, "2.1: E after 0xFFFFFFFF is 1: an ABORT at 1 is handled", ABORT, seq=1)
    expect(r, h2, "2.1: a START at 0x10 is within JUMP after 1", START, start_body(C, C),
           seq=0x10)
    expect(r, h2, "2.1: a START at 0xFFFFFFF8 is before 0x10: stale -> BAD_SEQ", START,
           start_body(C, C), seq=0xFFFFFFF8, want=BAD_SEQ, handled=False)
    h.close()
    h2.close()


def _torn_store(h, slot, seq, high_first, mid_check):
    """The forbidden torn doorbell: one half, mid_check(), then the other half."""
    off = h.layout.doorbell(slot) // 2
    lo, hi = seq & 0xFFFF, seq >> 16
    first, second = ((off + 1, hi), (off, lo)) if high_first else ((off, lo), (off + 1, hi))
    h.win.w16[first[0]] = first[1]
    res = mid_check()
    h.win.w16[second[0]] = second[1]
    return res


def g_torn(r):
    """9: a doorbell written in two 16-bit halves with a pause does no harm."""
    _n, flash, h = bmc_sim(r, "torn")
    quiet(h, START, start_body(C, C), seq=0xFFF0)               # slot 0's doorbell: 0xFFF0
    # high half first: 0x0001FFF0 shows for 50 ms, within JUMP, a START header whose seq
    # is 0x00010005: H4 fails, so it must be held, not taken as a resync
    S = 0x00010005
    h.win.write(h.layout.body(0), start_body(C, C))
    h.win.write(h.layout.header(0), h.header(START, S, start_body(C, C)))

    def mid():
        time.sleep(0.05)
        return h.last_seq(), h.answer_seq(0)

    L_mid, a_mid = _torn_store(h, 0, S, True, mid)
    a = h.wait(0, S, 3)
    r.check(L_mid == 0xFFF0 and a_mid == 0xFFF0, "9: the torn intermediate 0x0001FFF0 "
            "(a START within JUMP failing H4) was not handled",
            "mid: last_seq %#x answer %#x" % (L_mid, a_mid))
    r.check(a is not None and a.status == OK and h.last_seq() == S,
            "9: the whole doorbell (high half first) is then handled OK", repr(a))
    # low half first across a 16-bit carry: 0x00010000 shows (stale), then 0x00020000 (E)
    quiet(h, START, start_body(C, C), slot=1, seq=0x1FFFE)
    quiet(h, ABORT, slot=0, seq=0x1FFFF)
    h.win.write(h.layout.header(1), h.header(ABORT, 0x20000))
    L_mid, _a = _torn_store(h, 1, 0x20000, False, mid)
    a = h.wait(1, 0x20000, 3)
    r.check(L_mid == 0x1FFFF, "9: the stale intermediate 0x00010000 did not move last_seq",
            "%#x" % L_mid)
    r.check(a is not None and a.status == OK and a.type == ABORT and h.last_seq() == 0x20000,
            "9: the whole doorbell (low half first) is then handled OK", repr(a))
    # a whole push with every DATA doorbell torn, across a 16-bit carry
    img = os.urandom(6 * C)
    try:
        h.push(img, chunk=C, slots=3, first=0x2FFFC, torn=True)
        r.check(read(flash) == img, "9: a push with torn DATA doorbells stored the image")
    except HostError as e:
        r.check(False, "9: a push with torn DATA doorbells", str(e))
    h.close()


def g_idle(r):
    """5.4: a session dropped for idleness; IDLE_TIMEOUT answers."""
    _n, flash, h = bmc_sim(r, "idle", "--idle-timeout", "300ms")
    img = os.urandom(2 * C)
    quiet(h, START, start_body(len(img), C), seq=0x42)
    send_chunks(h, img, 0, C)
    time.sleep(0.8)
    expect(r, h, "5.4: DATA after the idle timeout -> IDLE_TIMEOUT, offset 0", DATA,
           img[C:], offset=C, want=IDLE_TIMEOUT)
    expect(r, h, "5.4: FINISH after the idle timeout -> IDLE_TIMEOUT", FINISH, h128(img),
           want=IDLE_TIMEOUT)
    r.check(read(flash) is None, "5.4: the dropped session activated nothing")
    expect(r, h, "5.4: the BMC serves a new START after dropping a session", START,
           start_body(len(img), C))
    h.close()


def g_resume(r):
    """3.2: RESUME continues a session with HAS_HASH; answers bytes held or image_size."""
    _n, flash, h = bmc_sim(r, "resume")
    img = os.urandom(3 * C + 100)
    ih = h128(img)
    rs = start_body(len(img), C, 0, FLAG_HAS_HASH | FLAG_RESUME, ih)
    quiet(h, START, start_body(len(img), C, 0, FLAG_HAS_HASH, ih), seq=0x900)
    send_chunks(h, img, 0, 2 * C)
    expect(r, h, "3.2: RESUME of the open session -> OK, offset = bytes held (8192)", START,
           rs, want_offset=2 * C)
    send_chunks(h, img, 2 * C, len(img))
    expect(r, h, "3.2: RESUME when every byte is held -> OK, offset image_size", START, rs,
           want_offset=len(img))
    expect(r, h, "after the resumes, FINISH -> OK", FINISH, ih, want_offset=len(img),
           want_hash=ih)
    r.check(read(flash) == img, "the resumed push stored the image")
    expect(r, h, "3.2: RESUME with no session open -> a new session, offset 0", START, rs)
    send_chunks(h, img, 0, C)
    expect(r, h, "3.2: RESUME with another chunk_size -> a new session, offset 0", START,
           start_body(len(img), 2 * C, 0, FLAG_HAS_HASH | FLAG_RESUME, ih))
    expect(r, h, "3.2: ... and the old session is gone (DATA at 4096 -> OUT_OF_RANGE)", DATA,
           img[C:2 * C], offset=C, want=OUT_OF_RANGE)
    quiet(h, START, start_body(len(img), C), seq=None)              # no HAS_HASH
    send_chunks(h, img, 0, C)
    expect(r, h, "3.2: RESUME of a session started without HAS_HASH -> new, offset 0", START,
           rs)
    quiet(h, START, start_body(len(img), C, 0, FLAG_HAS_HASH, ih))
    send_chunks(h, img, 0, C)
    expect(r, h, "3.2: RESUME with another component -> new session, offset 0", START,
           start_body(len(img), C, 1, FLAG_HAS_HASH | FLAG_RESUME, ih))
    h.close()


# ================================================================= groups: fwpush push -> Python BMC
def _push_ok(r, what, b, data, *extra):
    p = r.image("img-%d.bin" % len(data), data)
    rc, err, secs = fwpush_push(r, p, b.name, *extra)
    r.check(rc == 0 and read(b.flash_path) == data, what,
            "exit %d (%s), flash %s" % (rc, err, "equal" if read(b.flash_path) == data
                                        else "differs"))
    return rc, secs


def g_push_sizes(r):
    """fwpush push into the Python BMC: whole pushes, flash equal byte for byte."""
    b = py_bmc(r, "psz")
    for size in (1, 4095, SLOT, 3 * SLOT + 7, 300001):
        _push_ok(r, "fwpush push of %d bytes: exit 0, flash equal" % size, b,
                 os.urandom(size))
    _push_ok(r, "fwpush push --chunk-size 4K --slots 2 of 40000 bytes", b, os.urandom(40000),
             "--chunk-size", "4K", "--slots", "2")
    starts = [s for (s, t, st) in b.log if t == START and st == OK]
    r.check(len(starts) == 6, "6.2: every push started with a START the BMC handled",
            repr(starts))


def g_push_wrap(r):
    """6.2 and 2.1: a BMC whose last_seq is near 0xFFFFFFFF; fwpush pushes across the wrap."""
    b = py_bmc(r, "pwrap", start_last_seq=0xFFFFFFF8)
    _push_ok(r, "fwpush push across the wrap: exit 0, flash equal", b, os.urandom(12 * C + 5),
             "--chunk-size", "4K")
    seqs = [s for (s, t, st) in b.log]
    r.check(seqs and seqs[0] == 0xFFFFFFF9, "6.2: fwpush's START is next(last_seq) "
            "= 0xFFFFFFF9", "first %s" % (hex(seqs[0]) if seqs else None))
    r.check(0 not in seqs and 1 in seqs and all(st == OK for (_s, _t, st) in b.log),
            "2.1: 0 skipped, 1 follows 0xFFFFFFFF, every message OK", repr(b.log[:14]))


def g_push_reformat(r):
    """1.2: a BMC that re-formats the window mid-push: fwpush fails at once, exit 4."""
    b = py_bmc(r, "pref", reformat_before_data=3)
    p = r.image("img.bin", os.urandom(20 * C))
    rc, err, secs = fwpush_push(r, p, b.name, "--chunk-size", "4K", timeout="10s")
    r.check(rc == 4, "1.2: fwpush exits 4 when the window is re-formatted mid-push",
            "exit %d: %s" % (rc, err))
    r.check(secs < 1.0, "1.2: ... at once (< 1 s with --timeout 10s)", "%.2f s" % secs,
            show=True)
    r.check("the BMC re-formatted the window" in err and len(err.splitlines()) == 1,
            "1.2: ... with one line saying the BMC re-formatted the window", repr(err),
            show=True)
    r.check(read(b.flash_path) is None, "nothing was activated")


def g_push_v1(r):
    """11: a version-1 control block: fwpush exits 4 naming both versions."""
    b = py_bmc(r, "pv1", version=1)
    p = r.image("img.bin", os.urandom(C))
    rc, err, secs = fwpush_push(r, p, b.name, timeout="2s")
    r.check(rc == 4, "11: a version-1 window: fwpush exits 4", "exit %d: %s" % (rc, err))
    r.check(re.search(r"\b1\b", err) is not None and re.search(r"\b2\b", err) is not None,
            "11: ... its line names both versions (1 and 2)", repr(err), show=True)
    r.check(secs < 1.5, "11: ... without waiting out its timeout", "%.2f s" % secs,
            show=True)
    r.check(not b.log, "11: ... and sends nothing", repr(b.log))


def g_push_torn(r):
    """9: a BMC that writes its answer seq as two 16-bit halves: fwpush still pushes right."""
    b = py_bmc(r, "ptorn", torn_answer_seq=True, start_last_seq=0xFFF8)
    _push_ok(r, "a BMC writing answer seqs torn, across a 16-bit carry: exit 0, flash equal",
             b, os.urandom(16 * C + 1), "--chunk-size", "4K")


def g_push_nolock(r):
    """10, 6.1: a BMC that takes no byte-0 lock is found by its heartbeat."""
    b = py_bmc(r, "pnolock", take_lock=False)
    rc, secs = _push_ok(r, "a BMC without the byte-0 lock: exit 0, flash equal", b,
                        os.urandom(5 * C))
    r.check(secs < 2.0, "10: ... served after a heartbeat, not a timeout", "%.2f s" % secs,
            show=True)


def g_push_nobmc(r):
    """6.1: no lock and no heartbeat: fwpush gives up, not before 1 s (or its shorter timeout)."""
    b = py_bmc(r, "pnobmc", take_lock=False, beat=False, answer=False)
    p = r.image("img.bin", os.urandom(C))
    rc, err, secs = fwpush_push(r, p, b.name, timeout="3s")
    r.check(rc == 5, "6.1: no heartbeat and no lock: exit 5", "exit %d: %s" % (rc, err))
    r.check(secs >= 1.0, "6.1: ... not before 1 s without a heartbeat change (--timeout 3s)",
            "%.2f s: %s" % (secs, err))
    r.check(not b.log, "6.1: ... and nothing was sent into the window", repr(b.log))
    rc, err, secs = fwpush_push(r, p, b.name, timeout="200ms")
    r.check(rc == 5 and secs < 1.0, "6.1: ... a shorter --timeout (200ms) wins",
            "exit %d after %.2f s: %s" % (rc, secs, err))

def g_push_busy(r):
    """10: byte 1 held by another host: fwpush waits up to its timeout, then exit 4."""
    b = py_bmc(r, "pbusy")
    h = Host(b.name)                        # holds byte 1
    p = r.image("img.bin", os.urandom(C))
    rc, err, secs = fwpush_push(r, p, b.name, timeout="500ms")
    r.check(rc == 4 and secs >= 0.45, "10: a second host gets busy: waits, then exit 4",
            "exit %d after %.2f s: %s" % (rc, secs, err), show=True)
    r.check(not b.log, "10: ... and sends nothing into the busy window", repr(b.log))
    h.close()


def g_push_stale(r):
    """6.2: a dead host's pending doorbells: fwpush starts after them and does not wait."""
    L = 1000
    # L+2, L+3: held (not START, not E); beyond JUMP and before L: not within JUMP, ignored
    stale = [(1, L + 2), (2, L + 3), (3, L + JUMP + 5), (4, L - 7), (5, L)]
    b = py_bmc(r, "pstale", slots=6, start_last_seq=L, stale_doorbells=stale)
    rc, secs = _push_ok(r, "pending doorbells of a dead host: exit 0, flash equal", b,
                        os.urandom(9 * C), "--chunk-size", "4K")
    starts = [s for (s, t, st) in b.log if t == START]
    r.check(starts and starts[0] == L + 4, "6.2: START = next(latest doorbell within JUMP) "
            "= %d" % (L + 4), repr(starts))
    r.check(secs < 2.0, "6.2: fwpush did not wait for the dead host's slots", "%.2f s" % secs,
            show=True)


def g_push_lying(r):
    """6.5: an OK answer with a wrong offset, hash or type: fwpush fails, exit 7."""
    names = {START: "START", DATA: "DATA", FINISH: "FINISH"}
    for typ, field in ((DATA, "offset"), (DATA, "hash"), (DATA, "type"), (FINISH, "hash"),
                       (FINISH, "offset"), (START, "offset"), (START, "type")):
        rc, err = _lying_push(r, typ, field)
        r.check(rc == 7, "6.5: an OK to %s with a wrong %s: exit 7" % (names[typ], field),
                "exit %d: %s" % (rc, err))
    rc, err = _lying_push(r, DATA, "epoch")
    r.check(rc == 4 and "re-formatted" in err, "2.2: an answer of another epoch is a "
            "re-formatted window: exit 4", "exit %d: %s" % (rc, err), show=True)
    rc, err = _lying_push(r, DATA, "status")
    r.check(rc not in (0, 5) and rc is not None, "4: an unknown status (99) is a failure",
            "exit %d: %s" % (rc, err), show=True)


def _lying_push(r, typ, field, lie_at=1):
    """A push whose lie_at-th OK to typ lies about field; KEEP: a --delta push of an image that
    differs from the active one in its first chunk only (its 2nd KEEP is at 8192)."""
    b = py_bmc(r, "plie", lie=(typ, field), lie_at=lie_at, block_size=C)
    img = os.urandom(3 * C + 9)
    extra = ("--chunk-size", "4K")
    if typ == KEEP:
        _push_ok(r, "a first push (nothing to lie about yet)", b, img, *extra)
        img = bytes([img[0] ^ 1]) + img[1:]
        extra += ("--delta",)
    p = r.image("img.bin", img)
    rc, err, _secs = fwpush_push(r, p, b.name, *extra, timeout="2s")
    b.stop()
    r.bmcs.remove(b)
    return rc, err


def g_push_window(r):
    """1.1, 1.2, 10: windows a host must refuse, wait for, or take despite unknown caps."""
    img = os.urandom(2 * C + 1)
    b = py_bmc(r, "pdelay", publish_delay=0.5)
    rc, secs = _push_ok(r, "1.2: a window published 0.5 s late (epoch 0 meanwhile): fwpush "
                        "waits, then pushes", b, img)
    for running in (True, False):               # every bit above 2, with and without bit 2
        caps = 0xFFFFFFF8 | CAP_BLOCK_HASHES | (CAP_RUNNING if running else 0)
        b = py_bmc(r, "pcaps", running=running, ctrl_patch={28: ("<I", caps)})
        _push_ok(r, "1.1: unknown caps bits are ignored (caps %#x): push OK" % caps, b, img)
        r.check(all(bool(f & FLAG_RUNNING) == running for f in b.start_flags),
                "15.2: ... and its START has RUNNING only with caps bit 2 (%s)" % (
                    "set" if running else "clear"),
                "START flags %r" % b.start_flags)
    refusals = (("ctrl_size 128", {10: ("<H", 128)}),
                ("a slot_stride the layout does not give", {20: ("<I", 2 * SLOT)}),
                ("a body_offset the layout does not give", {24: ("<I", 8192)}),
                ("a window_size the layout does not give", {32: ("<Q", 1 << 30)}),
                ("bad magic", {0: ("<Q", WINDOW_MAGIC ^ 1)}))
    for what, patch in refusals:
        b = py_bmc(r, "pbad", ctrl_patch=patch)
        p = r.image("img.bin", img)
        rc, err, _s = fwpush_push(r, p, b.name, timeout="1s")
        r.check(rc == 4 and not b.log, "1.1: a window with %s is refused: exit 4, nothing "
                "sent" % what, "exit %d: %s; sent %r" % (rc, err, b.log))
    b = py_bmc(r, "plink")
    link = r.name("link")
    os.symlink("/dev/shm/" + b.name, "/dev/shm/" + link)
    rc, err, _s = fwpush_push(r, r.image("img.bin", img), link, timeout="1s")
    r.check(rc == 4 and not b.log, "10: a symbolic link at the name is refused: exit 4",
            "exit %d: %s" % (rc, err), show=True)


# ================================================================= 14: delta flash
def _blocks(img, block, n):
    """The hash of each of n blocks of img: 0 for a block past its end (14.1)."""
    return [h128(img[i * block:(i + 1) * block]) if i * block < len(img) else ZERO16
            for i in range(n)]


def g_delta(r):
    """14: caps bit 1; HASHES Q1..Q6 and its answer; KEEP K1..K7; a delta push; a lying KEEP."""
    _name, flash, h = bmc_sim(r, "delta", "--flash-model", "nor:erase=4K,scale=0.0001")
    r.check(h.caps & CAP_BLOCK_HASHES, "1.1: bmc-sim sets caps bit 1 (BLOCK_HASHES)",
            "caps %#x" % h.caps)
    ans, head, hs = h.hashes(0, 1, 0, 3, BANK_ACTIVE | BANK_INACTIVE)
    r.check(head is not None and head[:6] == (C, 0, 3, 3, 0, 0) and hs == [ZERO16] * 6,
            "14.2: HASHES before any image, no session: block 4096, 3 blocks of two banks, "
            "sizes 0, hashes 0", "%r %r" % (ans, head))
    v1 = os.urandom(5 * C + 100)
    h.push(v1, chunk=C)
    r.check(read(flash) == v1, "a first push: the flash is v1")
    L = h.last_seq()
    ans, head, hs = h.hashes(1, nxt(L), 0, 10, BANK_ACTIVE)
    r.check(head is not None and head[:5] == (C, 0, 10, 1, len(v1)) and ans.offset == 0 and
            hs == _blocks(v1, C, 10), "14.2: the active bank's hashes: whole blocks, the "
            "short last one, 0 past the image; the body hashes to the answer's hash",
            "%r %r" % (ans, head))
    ans, head, hs = h.hashes(2, nxt(h.last_seq()), 250, 1000, BANK_ACTIVE | BANK_INACTIVE)
    r.check(head is not None and head[2] == 6, "14.2: n stops at the flash's last block "
            "(capacity 1 MiB: 256 blocks)", "%r" % (head,))
    q = HASHES_BODY.pack
    expect(r, h, "Q1: HASHES of 8 bytes -> BAD_LENGTH", HASHES, q(0, 1, 1, 0)[:8],
           want=BAD_LENGTH)
    expect(r, h, "Q2: body hash not body_hash -> BAD_HASH", HASHES, q(0, 1, 1, 0),
           body_hash=h128(b"x"), want=BAD_HASH)
    expect(r, h, "Q3: banks 0 -> BAD_HEADER", HASHES, q(0, 1, 0, 0), want=BAD_HEADER)
    expect(r, h, "Q3: banks 4 -> BAD_HEADER", HASHES, q(0, 1, 4, 0), want=BAD_HEADER)
    expect(r, h, "Q3: reserved -> BAD_HEADER", HASHES, q(0, 1, 1, 1), want=BAD_HEADER)
    expect(r, h, "Q4: count 0 -> BAD_LENGTH", HASHES, q(0, 0, 1, 0), want=BAD_LENGTH)
    expect(r, h, "Q5: first = the flash's blocks -> OUT_OF_RANGE", HASHES, q(256, 1, 1, 0),
           want=OUT_OF_RANGE)
    expect(r, h, "H10: HASHES with an offset -> OUT_OF_RANGE", HASHES, q(0, 1, 1, 0),
           offset=C, want=OUT_OF_RANGE)
    v2 = bytearray(v1)
    v2[2 * C + 5] ^= 0xFF
    v2 = bytes(v2)
    try:
        h.push(v2, chunk=C, delta=True)
        r.check(read(flash) == v2 and h.kept == 5, "14.5: a delta push (block 2 changed, a "
                "short last block): 5 KEEPs, 1 DATA, the flash equals v2 byte for byte",
                "kept %d" % h.kept)
    except HostError as e:
        r.check(False, "14.5: a delta push", str(e))
    k = KEEP_BODY.pack
    expect(r, h, "K1: KEEP with no session -> BAD_STATE", KEEP, k(C, 0), want=BAD_STATE)
    open_session(h, len(v2))
    expect(r, h, "K2: KEEP of 8 bytes -> BAD_LENGTH", KEEP, k(C, 0)[:8], want=BAD_LENGTH)
    expect(r, h, "K3: body hash not body_hash -> BAD_HASH", KEEP, k(C, 0),
           body_hash=h128(b"x"), want=BAD_HASH)
    expect(r, h, "K4: reserved -> BAD_HEADER", KEEP, k(C, 1), want=BAD_HEADER)
    expect(r, h, "K5: offset 4096 when 0 held -> OUT_OF_RANGE", KEEP, k(C, 0), offset=C,
           want=OUT_OF_RANGE)
    expect(r, h, "K6: length 0 -> BAD_LENGTH", KEEP, k(0, 0), want=BAD_LENGTH)
    expect(r, h, "K6: length 100, not a block, not the end -> BAD_LENGTH", KEEP, k(100, 0),
           want=BAD_LENGTH)
    expect(r, h, "K7: past the image -> OUT_OF_RANGE", KEEP, k(6 * C, 0), want=OUT_OF_RANGE)
    expect(r, h, "KEEP OK: offset its end, hash of the bytes held", KEEP, k(2 * C, 0),
           want_offset=2 * C, want_hash=h128(v2[:2 * C]))
    send_chunks(h, v2, 2 * C, 3 * C)
    expect(r, h, "K6: KEEP to the image's end (a short last block) -> OK", KEEP,
           k(len(v2) - 3 * C, 0), offset=3 * C, want_offset=len(v2),
           want_hash=h128(v2[3 * C:]))
    expect(r, h, "the FINISH after KEEP, DATA, KEEP -> OK", FINISH, h128(v2),
           want_offset=len(v2), want_hash=h128(v2))
    open_session(h, len(v2) + C)
    expect(r, h, "K7: past the active image -> OUT_OF_RANGE", KEEP, k(6 * C, 0),
           want=OUT_OF_RANGE)
    v3 = bytearray(v2)
    v3[1] ^= 1
    open_session(h, len(v3))
    expect(r, h, "a KEEP that lies (block 0 differs) is stored as the active bank's bytes",
           KEEP, k(len(v3), 0), want_offset=len(v3), want_hash=h128(v2))
    expect(r, h, "14: the FINISH hash catches it -> VERIFY_FAILED, hash of what is held",
           FINISH, h128(bytes(v3)), want=VERIFY_FAILED, want_offset=len(v3),
           want_hash=h128(v2))
    r.check(read(flash) == v2, "5.5: nothing activated: the flash is still v2")
    h.close()


def g_push_delta(r):
    """14.5: fwpush push --delta into the Python BMC, with and without caps bit 1."""
    b = py_bmc(r, "pdelta", slot_size=SLOT, block_size=16384)
    v1 = os.urandom(7 * SLOT + 5000)
    _push_ok(r, "a first push (no --delta)", b, v1)
    v2 = bytearray(v1)
    v2[3 * SLOT + 1] ^= 1
    v2[-1] ^= 1                                              # the short last chunk too
    n = len(b.log)
    _push_ok(r, "--delta: the flash equals the image byte for byte", b, bytes(v2), "--delta")
    types = [t for _s, t, _st in b.log[n:]]
    r.check(types.count(HASHES) == 1 and types.count(KEEP) == 6 and types.count(DATA) == 2,
            "14.5: one HASHES after START, a KEEP per unchanged chunk, DATA for the 2 changed",
            "types %r" % types)
    b = py_bmc(r, "pdelta0", block_size=0)
    _push_ok(r, "a first push to a BMC without caps bit 1", b, v1)
    n = len(b.log)
    _push_ok(r, "--delta to a BMC without caps bit 1: pushes as before", b, bytes(v2), "--delta")
    r.check(not [t for _s, t, _st in b.log[n:] if t in (HASHES, KEEP)],
            "14: no HASHES, no KEEP to a BMC that does not set caps bit 1")
    for typ, field in ((HASHES, "hash"), (KEEP, "hash"), (KEEP, "offset")):
        b = py_bmc(r, "pdlie", block_size=16384, lie=(typ, field))
        _push_ok(r, "a first push (nothing to lie about yet)", b, v1)
        rc, err, _secs = fwpush_push(r, r.image("v2.bin", bytes(v2)), b.name, "--delta",
                                     timeout="2s")
        r.check(rc == 7 and read(b.flash_path) == v1, "14.2/6.5: an OK to %s with a wrong %s: "
                "exit 7, nothing activated" % ("HASHES" if typ == HASHES else "KEEP", field),
                "exit %d: %s" % (rc, err), show=True)


# ================================================================= 15: running digest
VECTOR = {4096: "e12cd72144990fe57135ffa504f1bc71", 8192: "d481c9ee8a8fe42940a71c16bbe37322",
          10000: "89dec82a789965e61cb3abee1c2fc1c4"}          # 15.1's example


def _running_data(r, h, what, image, off, chunk=C, body=None, body_hash=None, want=OK):
    """A DATA of a running session, answer checked per 5.6/15.3: OK holds the chunk's end and
    R(end); BAD_HASH holds the bytes held and R through the body as received."""
    piece = image[off:off + chunk]
    body = piece if body is None else body
    end = off + len(piece)
    return expect(r, h, what, DATA, body, offset=off, want=want,
                  body_hash=R(image, end) if body_hash is None else body_hash,
                  want_offset=end if want == OK else off,
                  want_hash=R(image[:off] + body, end))


def g_running(r):
    """15: caps bit 2; running sessions against bmc-sim: D4 against R, the answers, BAD_HASH
    restoring the state, plain sessions beside them, RESUME's RUNNING flag, KEEP."""
    _name, flash, h = bmc_sim(r, "run", "--flash-model", "nor:erase=4K,scale=0.0001")
    r.check(h.caps & CAP_RUNNING, "1.1: bmc-sim sets caps bit 2 (RUNNING_DIGEST)",
            "caps %#x" % h.caps)
    vec = bytes(i % 251 for i in range(10000))
    st, got = Hash128Stream(), {}
    for off in range(0, len(vec), C):
        st.update(vec[off:off + C])
        got[st.n] = hexhash(st.wire())
    r.check(got == VECTOR and st.wire() == h128(vec), "15.1: the example's R(4096), R(8192), "
            "R(10000) from one streaming state; R(image_size) is the image's hash", repr(got))
    # the example as a running session of bmc-sim: every answer holds R through its chunk
    open_session(h, len(vec), flags=FLAG_RUNNING)
    for off in range(0, len(vec), C):
        _running_data(r, h, "15.3: running DATA at %d -> OK, offset its end, hash R(end) = "
                      "%s" % (off, VECTOR[min(off + C, len(vec))]), vec, off)
    expect(r, h, "15.2: FINISH of a running session carries R(image_size) -> OK, hash the "
           "image's", FINISH, R(vec, len(vec)), want_offset=len(vec), want_hash=h128(vec))
    r.check(read(flash) == vec, "5.5: the running session's flash equals the image")
    img = os.urandom(6 * C + 321)
    try:
        h.push(img, chunk=C, running=True)
        r.check(read(flash) == img, "15.2: a pipelined running push of 7 chunks (the Python "
                "host's streaming R checked in every answer): flash equal byte for byte")
    except HostError as e:
        r.check(False, "15.2: a pipelined running push", str(e))
    # D4 against R; a BAD_HASH puts the state back (15.3)
    open_session(h, len(img), flags=FLAG_RUNNING)
    send_chunks(h, img, 0, C, running=True)
    _running_data(r, h, "D4/15.3: a running DATA carrying its own XXH3-128 -> BAD_HASH, "
                  "offset held, hash R through the body", img, C, body_hash=h128(img[C:2 * C]),
                  want=BAD_HASH)
    _running_data(r, h, "15.3: ... then the right R -> OK (the state was put back)", img, C)
    bad = bytearray(img[2 * C:3 * C])
    bad[100] ^= 4
    _running_data(r, h, "D4/5.6: a corrupted body -> BAD_HASH, hash R through the body as "
                  "received", img, 2 * C, body=bytes(bad), want=BAD_HASH)
    _running_data(r, h, "D4: ... corrupted again -> BAD_HASH again, same R", img, 2 * C,
                  body=bytes(bad), want=BAD_HASH)
    _running_data(r, h, "15.3: ... then the chunk intact -> OK", img, 2 * C)
    # 5.3 in a running session: the chunk pipelined after a BAD_HASH is OUT_OF_RANGE
    E = nxt(h.last_seq())
    h.send(1, DATA, E, img[3 * C:4 * C], offset=3 * C, body_hash=h128(b"wrong"))
    h.send(2, DATA, nxt(E), img[4 * C:5 * C], offset=4 * C, body_hash=R(img, 5 * C))
    a1, a2 = h.wait(1, E, 3), h.wait(2, nxt(E), 3)
    r.check(a1 is not None and a1.status == BAD_HASH and a2 is not None and
            a2.status == OUT_OF_RANGE and a2.offset == 3 * C,
            "5.3: in a running session, BAD_HASH then the pipelined chunk OUT_OF_RANGE",
            "%r %r" % (a1, a2))
    send_chunks(h, img, 3 * C, len(img), running=True)
    expect(r, h, "15.2: FINISH after the resent chunks -> OK", FINISH, h128(img),
           want_offset=len(img), want_hash=h128(img))
    r.check(read(flash) == img, "15.3: after three BAD_HASH the flash equals the image")
    # a plain session on the same BMC still checks each chunk's own hash
    open_session(h, len(img))
    send_chunks(h, img, 0, C)
    expect(r, h, "D4: a plain session's DATA carrying R -> BAD_HASH, hash the chunk's own",
           DATA, img[C:2 * C], offset=C, body_hash=R(img, 2 * C), want=BAD_HASH,
           want_offset=C, want_hash=h128(img[C:2 * C]))
    expect(r, h, "5.6: ... the chunk's own hash -> OK, hash the chunk's own", DATA,
           img[C:2 * C], offset=C, want_offset=2 * C, want_hash=h128(img[C:2 * C]))
    _running_resume(r, h, img)
    _running_keep(r, h, flash, img)
    h.close()


def _running_resume(r, h, img):
    """3.2/15.3: RESUME continues the open session only with the same RUNNING flag."""
    ih = h128(img)

    def start(flags):
        return start_body(len(img), C, 0, FLAG_HAS_HASH | flags, ih)

    for opened, asked in ((FLAG_RUNNING, 0), (0, FLAG_RUNNING)):
        open_session(h, len(img), flags=FLAG_HAS_HASH | opened, image_hash=ih)
        send_chunks(h, img, 0, 2 * C, running=bool(opened))
        expect(r, h, "3.2: RESUME %s RUNNING of a %s session -> a new session, offset 0" % (
            "with" if asked else "without", "running" if opened else "plain"), START,
            start(FLAG_RESUME | asked))
        expect(r, h, "3.2: ... the old session is gone (DATA at 8192 -> OUT_OF_RANGE)", DATA,
               img[2 * C:3 * C], offset=2 * C, want=OUT_OF_RANGE,
               body_hash=R(img, 3 * C) if asked else None)
    open_session(h, len(img), flags=FLAG_HAS_HASH | FLAG_RUNNING, image_hash=ih)
    send_chunks(h, img, 0, 2 * C, running=True)
    expect(r, h, "3.2: RESUME with RUNNING of a running session -> OK, offset 8192", START,
           start(FLAG_RESUME | FLAG_RUNNING), want_offset=2 * C)
    _running_data(r, h, "15.3: the resumed session stays running (DATA with R -> OK)", img,
                  2 * C)


def _running_keep(r, h, flash, v1):
    """14.3/15.3: KEEP in a running session is fed to R and answered R through its range."""
    if not h.caps & CAP_BLOCK_HASHES:
        r.skip("15.3: KEEP in a running session", "no caps bit 1")
        return
    h.push(v1, chunk=C)
    block, _act, _seq = h.active_blocks(h.last_seq(), 1)
    v2 = bytearray(v1)
    v2[C + 9] ^= 0x80                                        # block 1 differs, the rest kept
    v2 = bytes(v2)
    k = KEEP_BODY.pack
    open_session(h, len(v2), flags=FLAG_RUNNING)
    expect(r, h, "15.3: KEEP of block 0 in a running session -> OK, hash R(4096)", KEEP,
           k(C, 0), want_offset=C, want_hash=R(v2, C))
    _running_data(r, h, "15.3: the changed block as DATA with R(8192) -> OK", v2, C)
    expect(r, h, "15.2: KEEP to the image's end -> OK, hash R(image_size), not the range's",
           KEEP, k(len(v2) - 2 * C, 0), offset=2 * C, want_offset=len(v2),
           want_hash=R(v2, len(v2)))
    expect(r, h, "15.2: FINISH after KEEP, DATA, KEEP -> OK", FINISH, h128(v2),
           want_offset=len(v2), want_hash=h128(v2))
    r.check(read(flash) == v2 and block == C, "14/15: the flash equals v2 byte for byte",
            "block %d" % block)
    v3 = bytearray(v2)
    v3[-1] ^= 1
    try:
        h.push(bytes(v3), chunk=C, running=True, delta=True)
        r.check(read(flash) == v3 and h.kept == 6, "14.5/15.2: a running delta push (6 KEEP, "
                "1 DATA, R checked in every answer): flash equal", "kept %d" % h.kept)
    except HostError as e:
        r.check(False, "14.5/15.2: a running delta push", str(e))


def _push_resume(r, img):
    """3.2/15.2: fwpush killed mid-push, then --resume: the running session is resumed and
    fwpush's R goes on from the bytes the BMC holds."""
    b = py_bmc(r, "presume")
    p = r.image("res.bin", img)
    rc, err, _s = fwpush_push(r, p, b.name, "--chunk-size", "4K", "--resume", "--inject",
                              "kill:%d" % (5 * C))
    n = len(b.data_seen)
    rc2, err2, _s = fwpush_push(r, p, b.name, "--chunk-size", "4K", "--resume")
    again = b.data_seen[n:]
    r.check(rc2 == 0 and read(b.flash_path) == img and again and again[0][0] > 0 and
            all(d[2] == d[4] for d in again),
            "15.2: fwpush killed at 20480, then --resume: the running session resumed (first "
            "DATA at %d), every DATA's body_hash R, exit 0, flash equal" % (
                again[0][0] if again else -1),
            "first push exit %d (%s); --resume exit %d (%s); START flags %r" % (
                rc, err, rc2, err2, b.start_flags))


def g_push_running(r):
    """15.2: fwpush push into the Python BMC with and without caps bit 2; lying answers; a
    fan-out to a running and a plain BMC at once."""
    img = os.urandom(9 * C + 77)
    for running in (True, False):
        b = py_bmc(r, "prun", running=running)
        _push_ok(r, "15.2: fwpush push to a BMC %s caps bit 2: exit 0, flash equal" % (
            "with" if running else "without"), b, img, "--chunk-size", "4K")
        r.check(b.start_flags and all(bool(f & FLAG_RUNNING) == running
                                      for f in b.start_flags),
                "15.2: ... its START %s RUNNING" % ("carries" if running else "has no"),
                "START flags %r" % b.start_flags)
        kind = 4 if running else 3                            # data_seen: R, or own hash
        r.check(len(b.data_seen) == 10 and all(d[2] == d[kind] for d in b.data_seen) and
                all(d[3] != d[4] for d in b.data_seen[1:]),
                "15.2: ... every DATA's body_hash was %s" % (
                    "R(offset + length)" if running else "the chunk's own XXH3-128"),
                "%d DATA" % len(b.data_seen))
    b = py_bmc(r, "pflip")
    _push_ok(r, "15.2/5.3: fwpush --inject flip:25 into a running session: chunks answered "
             "BAD_HASH sent again with the same R: exit 0, flash equal", b, img,
             "--chunk-size", "4K", "--inject", "flip:25", "--seed", "3")
    bad = [s for s, t, st in b.log if t == DATA and st == BAD_HASH]
    r.check(bad, "15.2: ... (the BMC did answer BAD_HASH: %d times)" % len(bad), repr(b.log))
    _push_resume(r, img)
    for typ, field, what in ((DATA, "hash", "a wrong R"),
                             (DATA, "chunk_hash", "the chunk's own hash instead of R"),
                             (KEEP, "chunk_hash", "the range's own hash instead of R")):
        rc, err = _lying_push(r, typ, field, lie_at=2)
        r.check(rc == 7, "6.5/15.2: an OK to the 2nd %s of a running session with %s: exit 7"
                % ("KEEP" if typ == KEEP else "DATA", what), "exit %d: %s" % (rc, err),
                show=True)
    # a mass-flash station: one bmc-sim (running) and one Python BMC (plain) at once
    sim, sflash, h = bmc_sim(r, "fsim", flash_size=16 << 20)
    h.close()                                                 # byte 1 free for fwpush
    b = py_bmc(r, "fplain", running=False)
    big = os.urandom(24 * SLOT + 4097)
    rc, err, secs = fwpush_push(r, r.image("fan.bin", big), [sim, b.name])
    r.check(rc == 0 and read(sflash) == big and read(b.flash_path) == big,
            "15.2: fan-out to bmc-sim (running) and a BMC without caps bit 2 (plain): exit 0, "
            "both flashes equal", "exit %d (%s); bmc-sim flash %s, Python flash %s" % (
                rc, err, read(sflash) == big, read(b.flash_path) == big))
    r.check(b.start_flags and not any(f & FLAG_RUNNING for f in b.start_flags) and
            all(d[2] == d[3] for d in b.data_seen),
            "15.2: ... the plain BMC got no RUNNING and per-chunk hashes", repr(b.start_flags))


# ================================================================= group: Python <-> Python
def g_self(r):
    """Sanity of the peers themselves: the Python host against the Python BMC."""
    b = py_bmc(r, "self", slots=3, slot_size=8192)
    h = Host(b.name)
    for size in (1, 8192, 50001):
        img = os.urandom(size)
        try:
            h.push(img, chunk=8192)
            r.check(read(b.flash_path) == img, "self: a %d-byte push, flash equal" % size)
        except HostError as e:
            r.check(False, "self: a %d-byte push" % size, str(e))
    h.close()
    b = py_bmc(r, "self2", slots=3, slot_size=8192)         # fresh: a START at any number
    h = Host(b.name)
    img = os.urandom(9 * 4096)
    try:
        h.push(img, chunk=4096, first=0xFFFFFFFE, torn=True)
        r.check(read(b.flash_path) == img and h.last_seq() == 9,
                "self: a torn-doorbell push across the wrap", "last_seq %#x" % h.last_seq())
    except HostError as e:
        r.check(False, "self: a torn-doorbell push across the wrap", str(e))
    expect(r, h, "self: H5 -> BAD_EPOCH", ABORT, want=BAD_EPOCH, epoch=1)
    expect(r, h, "self: START beyond JUMP -> BAD_SEQ", START, start_body(1, 1),
           seq=add_seq(h.last_seq(), JUMP + 1), want=BAD_SEQ, handled=False)
    h.close()
    b = py_bmc(r, "self3", running=False)
    h = Host(b.name)
    expect(r, h, "self: S3/15: RUNNING to a BMC without caps bit 2 -> BAD_HEADER", START,
           start_body(C, C, flags=FLAG_RUNNING), want=BAD_HEADER)
    try:
        h.push(os.urandom(C), running=True)
        r.check(False, "self: 15.2: the host refuses RUNNING without caps bit 2", "pushed")
    except HostError as e:
        r.check("caps bit 2" in str(e) and len(b.log) == 1, "self: 15.2: the host refuses "
                "RUNNING without caps bit 2, sending nothing", str(e))
    h.close()


GROUPS = {
    "format": g_format, "busy": g_busy, "header": g_header, "start": g_start, "data": g_data,
    "finish": g_finish, "sign": g_sign, "abort": g_abort, "seq": g_seq, "wrap": g_wrap,
    "torn": g_torn, "idle": g_idle, "resume": g_resume,
    "push-sizes": g_push_sizes, "push-wrap": g_push_wrap, "push-reformat": g_push_reformat,
    "push-v1": g_push_v1, "push-torn": g_push_torn, "push-nolock": g_push_nolock,
    "push-nobmc": g_push_nobmc, "push-busy": g_push_busy, "push-stale": g_push_stale,
    "push-lying": g_push_lying, "push-window": g_push_window, "self": g_self,
    "delta": g_delta, "push-delta": g_push_delta, "running": g_running,
    "push-running": g_push_running,
}


def main(group):
    r = Run(group)
    try:
        GROUPS[group](r)
    except Exception as e:                      # a broken peer or harness is a failure too
        import traceback
        traceback.print_exc()
        r.check(False, "%s: ran to the end" % group, "%s: %s" % (type(e).__name__, e))
    finally:
        r.cleanup()
    print("# %s: %d checks, %d failed" % (group, r.count, r.fails))
    return 1 if r.fails else 0
