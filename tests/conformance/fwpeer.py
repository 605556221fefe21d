"""fwpeer: both sides of the fwpush window protocol, version 2, written from docs/PROTOCOL.md alone.

A second implementation, so that fwpush's host and BMC are checked against the document rather
than against themselves. Section numbers (1.2, 5.1, ...) refer to docs/PROTOCOL.md.

  Bmc   creates and formats a shm: window, serves messages (section 5), plain and running
        sessions (15: caps bit 2 unless running=False), stores images into a file, beats the
        heartbeat; switches (BmcFaults) make it misbehave on purpose.
  Host  opens a window (section 6), picks its first sequence number (6.2), pushes an image
        (plain, or running=True: 15.2), or sends single crafted messages and reads the answer
        back.

Python cannot promise one 32-bit store, but a store through a memoryview cast to 'I' is a single
aligned 4-byte copy in CPython (one `mov` on x86), which is what section 0 asks for; the torn
writes the tests need are made on purpose through a cast to 'H'.
"""

import ctypes
import errno
import fcntl
import hashlib
import mmap
import os
import random
import stat
import struct
import threading
import time

import xxhash

# ---------------------------------------------------------------- constants (Appendix, 1.1, 3.1)
WINDOW_MAGIC = 0x3157485355505746
MSG_MAGIC = 0x4D505746
VERSION = 2
LINE = 64
PAGE = 4096
JUMP = 65536
MASK32 = 0xFFFFFFFF
MASK64 = (1 << 64) - 1

START, DATA, FINISH, ABORT = 1, 2, 3, 4
HASHES, KEEP = 5, 6                      # 14: with caps bit 1 only
TYPE_NAMES = {START: "START_UPGRADE", DATA: "DATA", FINISH: "FINISH", ABORT: "ABORT",
              HASHES: "HASHES", KEEP: "KEEP"}
CAP_BLOCK_HASHES = 1 << 1
CAP_RUNNING = 1 << 2                     # 15: running-digest sessions
BANK_ACTIVE, BANK_INACTIVE = 1, 2

OK, BAD_HEADER, BAD_HASH, OUT_OF_RANGE, BAD_STATE, TOO_LARGE, BAD_LENGTH, BAD_SEQ = range(8)
VERIFY_FAILED, STORAGE_ERROR, ABORTED, BUSY, IDLE_TIMEOUT = range(8, 13)
AUTH_REQUIRED, AUTH_FAILED, BAD_VERSION, BAD_EPOCH = range(13, 17)
STATUS_NAMES = ["OK", "BAD_HEADER", "BAD_HASH", "OUT_OF_RANGE", "BAD_STATE", "TOO_LARGE",
                "BAD_LENGTH", "BAD_SEQ", "VERIFY_FAILED", "STORAGE_ERROR", "ABORTED", "BUSY",
                "IDLE_TIMEOUT", "AUTH_REQUIRED", "AUTH_FAILED", "BAD_VERSION", "BAD_EPOCH"]

FLAG_HAS_HASH, FLAG_RESUME, FLAG_RUNNING = 1, 2, 4
ZERO16 = bytes(16)

# control block, 1.1: magic version ctrl_size slot_count slot_size slot_stride body_offset caps
#                      window_size flash_capacity epoch heartbeat last_seq ring_value
CTRL = struct.Struct("<QHHIIIIIQQIIII")
OFF_EPOCH, OFF_HEARTBEAT, OFF_LAST_SEQ = 48, 52, 56
# header, 3.1: magic version type seq epoch offset length flags body_hash reserved check
HDR = struct.Struct("<IHHIIQII16s8sQ")
# answer line, 2.2: seq status type epoch reserved offset hash reserved
ANS = struct.Struct("<IHHIIQ16s24s")
# START body, 3.2: image_size chunk_size component flags reserved image_hash reserved
START_BODY = struct.Struct("<QIIII16s8s")
# 14.2: HASHES body first count banks reserved; its answer's head, then 16-byte hashes
HASHES_BODY = struct.Struct("<IIII")
HASHES_HEAD = struct.Struct("<IIIIQQ32s")
# 14.3: KEEP body length reserved
KEEP_BODY = struct.Struct("<QQ")
assert CTRL.size == HDR.size == ANS.size == 64 and START_BODY.size == 48
assert HASHES_BODY.size == KEEP_BODY.size == 16 and HASHES_HEAD.size == 64


def status_name(s):
    return STATUS_NAMES[s] if 0 <= s < len(STATUS_NAMES) else "status %d" % s


# ---------------------------------------------------------------- hashes (section 0)
def h128(data):
    """XXH3-128, seed 0, as the 16 bytes on the wire (low64 first); zero for zero bytes."""
    if len(data) == 0:
        return ZERO16
    return xxhash.xxh3_128_intdigest(data).to_bytes(16, "little")


def h64(data):
    return xxhash.xxh3_64_intdigest(data)


def hexhash(wire16):
    """A 128-bit hash printed as xxhsum -H2 prints it: big-endian hex."""
    return int.from_bytes(wire16, "little").to_bytes(16, "big").hex()


class Hash128Stream:
    """XXH3-128 of bytes fed in pieces (the image while it streams)."""

    def __init__(self):
        self.x = xxhash.xxh3_128()
        self.n = 0

    def update(self, b):
        self.x.update(b)
        self.n += len(b)

    def wire(self):
        return ZERO16 if self.n == 0 else self.x.intdigest().to_bytes(16, "little")

    def copy(self):
        c = Hash128Stream()
        c.x, c.n = self.x.copy(), self.n
        return c


# ---------------------------------------------------------------- sequence numbers (2.1)
def nxt(s):
    return 1 if s == MASK32 else (s + 1) & MASK32


def dist(a, b):
    d = (a - b) & MASK32
    return d - (1 << 32) if d >= (1 << 31) else d


def add_seq(s, k):
    """next() applied k times (skips 0)."""
    for _ in range(k):
        s = nxt(s)
    return s


# ---------------------------------------------------------------- layout (section 1)
def round_up(x, a):
    return (x + a - 1) // a * a


class Layout:
    def __init__(self, slots, slot_size):
        self.slots = slots
        self.slot_size = slot_size
        self.stride = round_up(slot_size, PAGE)
        self.body_offset = round_up(64 + 192 * slots, PAGE)
        self.window_size = self.body_offset + self.stride * slots

    def doorbell(self, i):
        return 64 + 64 * i

    def answer(self, i):
        return 64 + 64 * self.slots + 64 * i

    def header(self, i):
        return 64 + 128 * self.slots + 64 * i

    def body(self, i):
        return self.body_offset + self.stride * i


def pow2_at_least(n):
    p = PAGE
    while p < n:
        p *= 2
    return p


# ---------------------------------------------------------------- shm locks (section 10)
class _Flock(ctypes.Structure):
    _fields_ = [("l_type", ctypes.c_short), ("l_whence", ctypes.c_short),
                ("l_start", ctypes.c_long), ("l_len", ctypes.c_long), ("l_pid", ctypes.c_int)]


def _flock_bytes(ltype, byte):
    return bytes(_Flock(ltype, os.SEEK_SET, byte, 1, 0))


def ofd_trylock(fd, byte):
    """Take an OFD write lock on one byte; False if someone else holds it."""
    try:
        fcntl.fcntl(fd, fcntl.F_OFD_SETLK, _flock_bytes(fcntl.F_WRLCK, byte))
        return True
    except OSError as e:
        if e.errno in (errno.EAGAIN, errno.EACCES):
            return False
        raise


def ofd_is_locked(fd, byte):
    """Whether another open file description holds a lock on the byte (F_OFD_GETLK)."""
    r = fcntl.fcntl(fd, fcntl.F_OFD_GETLK, _flock_bytes(fcntl.F_WRLCK, byte))
    return _Flock.from_buffer_copy(r).l_type != fcntl.F_UNLCK


# ---------------------------------------------------------------- the mapped window
class Mapped:
    """A mapped window file with the 32-bit accessors section 0 asks for."""

    def __init__(self, fd, size):
        self.fd = fd
        self.size = size
        self.mm = mmap.mmap(fd, size, mmap.MAP_SHARED, mmap.PROT_READ | mmap.PROT_WRITE)
        self.mv = memoryview(self.mm)
        self.w32 = self.mv.cast("I")
        self.w16 = self.mv.cast("H")

    def ld32(self, off):
        return self.w32[off // 4]

    def st32(self, off, v):
        self.w32[off // 4] = v & MASK32

    def st32_torn(self, off, v, pause, high_first=False):
        """The forbidden write: two 16-bit halves with a pause between (tests only)."""
        lo, hi = v & 0xFFFF, (v >> 16) & 0xFFFF
        order = [(off // 2 + 1, hi), (off // 2, lo)] if high_first else \
            [(off // 2, lo), (off // 2 + 1, hi)]
        self.w16[order[0][0]] = order[0][1]
        time.sleep(pause)
        self.w16[order[1][0]] = order[1][1]

    def read(self, off, n):
        return bytes(self.mm[off:off + n])

    def write(self, off, data):
        self.mm[off:off + len(data)] = data

    def close(self):
        for m in (self.w16, self.w32, self.mv):
            m.release()
        self.mm.close()
        os.close(self.fd)


def shm_path(name):
    return "/dev/shm/" + name


# ================================================================= the BMC (sections 1, 5, 7, 10)
class BmcFaults:
    """Ways to misbehave on purpose. The defaults are a conforming BMC."""

    def __init__(self, **kw):
        self.take_lock = True            # byte-0 lock (section 10)
        self.version = VERSION           # control-block version to publish (1: a v1 window)
        self.start_last_seq = 0          # L after formatting (step 3 says 0; a BMC that served)
        self.stale_doorbells = []        # [(slot, seq)]: pending doorbells of a "dead host"
        self.torn_answer_seq = False     # write the answer seq as two 16-bit halves
        self.torn_pause = 0.002
        self.reformat_before_data = None  # re-format instead of answering the DATA number k (1..)
        self.lie = None                  # (type, field) to lie about on the first OK of that type
        self.lie_at = 1                  # ... or on its lie_at-th OK (15: the first chunk's R
        #                                  is its own hash, so a "chunk_hash" lie needs the 2nd)
        self.beat = True                 # change heartbeat every 20 ms
        self.answer = True               # answer messages at all
        self.publish_delay = 0.0         # seconds the window stays unpublished (epoch 0)
        self.ctrl_patch = {}             # {offset: (struct format, value)} over the control block
        for k, v in kw.items():
            if not hasattr(self, k):
                raise TypeError("unknown fault " + k)
            setattr(self, k, v)


class Session:
    def __init__(self, image_size, chunk_size, component, flags, image_hash):
        self.image_size = image_size
        self.chunk_size = chunk_size
        self.component = component
        self.flags = flags
        self.image_hash = image_hash
        self.bank = bytearray()          # the inactive bank: bytes held
        self.hasher = Hash128Stream()    # hash of the bytes as they land (3.1: never re-read)
        self.running = bool(flags & FLAG_RUNNING)   # 15: chunks checked against R

    @property
    def held(self):
        return len(self.bank)


class Bmc:
    """An emulated BMC on shm:NAME storing images at flash_path (the active image)."""

    def __init__(self, name, flash_path, slots=4, slot_size=65536, flash_capacity=16 << 20,
                 idle_timeout=60.0, faults=None, log=None, block_size=65536, running=True):
        self.name = name
        self.path = shm_path(name)
        self.flash_path = flash_path
        self.layout = Layout(slots, slot_size)
        self.flash_capacity = flash_capacity
        self.idle_timeout = idle_timeout
        self.f = faults or BmcFaults()
        self.log = log if log is not None else []     # (seq, type, status) of every answer
        self.L = 0
        self.epoch = 0
        self.session = None
        self.end_reason = "none"         # why the last session ended (5.4)
        self.last_msg = time.monotonic()
        self.handled_data = 0
        self.lied = set()
        self.stop_evt = threading.Event()
        self.threads = []
        self.win = None
        self.next_slot = 0
        self.lock = threading.RLock()    # formatting vs. heartbeat
        self.block = block_size          # 14.1; 0: no caps bit 1 (HASHES, KEEP unknown)
        self.active = b""                # 14.1: the active image
        self.inactive = b""              # what the inactive bank holds when no session writes
        self.running = running           # 15: caps bit 2, running sessions taken
        self.start_flags = []            # flags of every START that passed S1, S2
        self.data_seen = []              # DATA: (offset, length, body_hash, own hash, R)
        self.oks = {}                    # OK answers per type, for lie_at
        self.chunk_hash = ZERO16         # the last DATA/KEEP's own XXH3-128 (a "chunk_hash" lie)

    # ------------------------------------------------------------ creating the window (10)
    def create(self):
        """Unnamed file, locked, sized, then linked to its name (section 10)."""
        fd = os.open("/dev/shm", os.O_TMPFILE | os.O_RDWR, 0o600)
        if self.f.take_lock and not ofd_trylock(fd, 0):
            raise RuntimeError("cannot lock byte 0")
        size = pow2_at_least(self.layout.window_size)
        os.ftruncate(fd, size)
        self.win = Mapped(fd, size)
        self.format()
        # linkat(AT_SYMLINK_FOLLOW): CPython uses it only when a dir_fd is given
        dfd = os.open("/dev/shm", os.O_RDONLY | os.O_DIRECTORY)
        try:
            os.link("/proc/self/fd/%d" % fd, self.name, dst_dir_fd=dfd, follow_symlinks=True)
        finally:
            os.close(dfd)
        return self

    def format(self):
        """1.2 steps 1..4. Called again to re-format mid-push (a new epoch)."""
        w, lay = self.win, self.layout
        with self.lock:
            old = w.ld32(OFF_EPOCH)
            w.st32(OFF_EPOCH, 0)                                    # 1. unpublished
            w.write(64, bytes(192 * lay.slots))                     # 2. lines zeroed
            self.L = self.f.start_last_seq
            self.session = None
            self.end_reason = "none"
            hb = w.ld32(OFF_HEARTBEAT)
            w.write(0, CTRL.pack(WINDOW_MAGIC, self.f.version, 64, lay.slots, lay.slot_size,
                                 lay.stride, lay.body_offset,
                                 (CAP_BLOCK_HASHES if self.block else 0) |
                                 (CAP_RUNNING if self.running else 0), lay.window_size,
                                 self.flash_capacity, 0, hb, self.L, 0))   # 3. epoch still 0
            for off, (fmt, val) in self.f.ctrl_patch.items():       # a wrong control block
                struct.pack_into(fmt, w.mm, off, val)
            for slot, seq in self.f.stale_doorbells:                # a dead host's leftovers
                w.st32(lay.doorbell(slot), seq)
            if self.f.publish_delay:
                threading.Timer(self.f.publish_delay, self._publish, (old,)).start()
                return
            self._publish(old)

    def _publish(self, old):
        """1.2 step 4: a new epoch, nonzero, not the one before, stored last."""
        with self.lock:
            w = self.win
            epoch = old
            while epoch == 0 or epoch == old:
                epoch = random.getrandbits(32)
            self.epoch = epoch
            w.st32(OFF_EPOCH, epoch)                                # 4. published, last

    # ------------------------------------------------------------ running
    def start(self):
        """Serve and beat in background threads."""
        for fn in (self._beat_loop, self._serve_loop):
            t = threading.Thread(target=fn, daemon=True)
            t.start()
            self.threads.append(t)
        return self

    def stop(self):
        self.stop_evt.set()
        for t in self.threads:
            t.join()
        if self.win:
            self.win.st32(OFF_EPOCH, 0)                             # 1.2: SHOULD on stopping
            try:
                if os.stat(self.path).st_ino == os.fstat(self.win.fd).st_ino:
                    os.unlink(self.path)
            except FileNotFoundError:
                pass
            self.win.close()
            self.win = None

    def _beat_loop(self):
        while not self.stop_evt.wait(0.02):
            if self.f.beat:
                with self.lock:
                    self.win.st32(OFF_HEARTBEAT, self.win.ld32(OFF_HEARTBEAT) + 1)

    def _serve_loop(self):
        idle_spins = 0
        while not self.stop_evt.is_set():
            did = self.scan() if self.f.answer else False
            self._check_idle()
            if did:
                idle_spins = 0
            else:
                idle_spins += 1
                time.sleep(0 if idle_spins < 50 else 0.0005)

    def _check_idle(self):
        """5.4: drop a session that sees no message for the idle timeout."""
        if self.session and time.monotonic() - self.last_msg > self.idle_timeout:
            self.session = None
            self.end_reason = "idle"

    # ------------------------------------------------------------ 5.1: which message is next
    def scan(self):
        """One pass over the slots, starting after the last one handled. True if it answered."""
        w, lay = self.win, self.layout
        did = False
        n = lay.slots
        for k in range(n):
            i = (self.next_slot + k) % n
            d = w.ld32(lay.doorbell(i))
            if d == 0 or d == w.ld32(lay.answer(i)):
                continue
            if self._decide(i, d):
                did = True
        return did

    def _decide(self, i, d):
        E = nxt(self.L)
        if d == E:
            self._handle(i, d)
            return True
        if self.L == 0 or 0 < dist(d, self.L) <= JUMP:
            hdr, _st, _t = self._decode_header(i, d)
            if hdr is not None and hdr["type"] == START:
                self._handle(i, d, hdr_copy=hdr)
                return True
            return False                                             # held
        # stale or beyond JUMP: BAD_SEQ, L unchanged
        hdr, _st, _t = self._decode_header(i, d)
        self._answer(i, d, BAD_SEQ, hdr["type"] if hdr else 0, self._held(), ZERO16,
                     move_L=False)
        return True

    def _held(self):
        return self.session.held if self.session else 0

    # ------------------------------------------------------------ 3.1: the header
    def _decode_header(self, i, d):
        """(fields, OK, type) or (None-or-fields, status, answer type) for the first rule broken."""
        raw = self.win.read(self.layout.header(i), 64)              # private copy first
        (magic, version, typ, seq, epoch, offset, length, flags, body_hash, reserved,
         check) = HDR.unpack(raw)
        f = dict(magic=magic, version=version, type=typ, seq=seq, epoch=epoch, offset=offset,
                 length=length, flags=flags, body_hash=body_hash)
        if magic != MSG_MAGIC:
            return None, BAD_HEADER, 0                               # H1
        if check != h64(raw[:56]):
            return None, BAD_HEADER, 0                               # H2
        if version != VERSION:
            return None, BAD_VERSION, 0                              # H3
        if seq != d:
            return None, BAD_HEADER, typ                             # H4
        if epoch != self.epoch:
            return None, BAD_EPOCH, typ                              # H5
        if typ not in TYPE_NAMES or (typ in (HASHES, KEEP) and not self.block):
            return None, BAD_HEADER, 0                               # H6
        if flags or reserved != bytes(8):
            return None, BAD_HEADER, typ                             # H7
        if length > self.layout.slot_size:
            return None, BAD_LENGTH, typ                             # H8
        if offset + length > MASK64:
            return None, OUT_OF_RANGE, typ                           # H9
        if offset and typ not in (DATA, KEEP):
            return None, OUT_OF_RANGE, typ                           # H10
        if length == 0 and body_hash != ZERO16:
            return None, BAD_HEADER, typ                             # H11
        return f, OK, typ

    # ------------------------------------------------------------ handling a message
    def _handle(self, i, d, hdr_copy=None):
        self.last_msg = time.monotonic()
        hdr, st, typ = (hdr_copy, OK, hdr_copy["type"]) if hdr_copy else self._decode_header(i, d)
        if hdr is None:
            self._answer(i, d, st, typ, self._held(), ZERO16)
            return
        body = self.win.read(self.layout.body(i), hdr["length"])     # copied once, hashed below
        if typ == DATA:
            self.handled_data += 1
            k = self.f.reformat_before_data
            if k is not None and self.handled_data == k:
                self.format()                                        # everything in flight lost
                return
        self.slot = i                                                # HASHES answers in it
        handler = {START: self._start, DATA: self._data, FINISH: self._finish,
                   ABORT: self._abort, HASHES: self._hashes, KEEP: self._keep}[typ]
        st, off, hsh = handler(hdr, body)
        self._answer(i, d, st, typ, off, hsh)

    def _start(self, h, body):
        s = self.session
        if len(body) != 48:
            return self._end_by_start(BAD_LENGTH)                    # S1
        if h128(body) != h["body_hash"]:
            return self._end_by_start(BAD_HASH)                      # S2
        size, chunk, comp, flags, res1, ihash, res2 = START_BODY.unpack(body)
        self.start_flags.append(flags)
        known = FLAG_HAS_HASH | FLAG_RESUME | (FLAG_RUNNING if self.running else 0)
        if res1 or res2 != bytes(8) or flags & ~known:
            return self._end_by_start(BAD_HEADER)                    # S3
        if flags & FLAG_RESUME and not flags & FLAG_HAS_HASH:
            return self._end_by_start(BAD_HEADER)                    # S4
        if size == 0:
            return self._end_by_start(BAD_LENGTH)                    # S5
        if size > self.flash_capacity:
            return self._end_by_start(TOO_LARGE)                     # S6
        if not 1 <= chunk <= self.layout.slot_size:
            return self._end_by_start(BAD_LENGTH)                    # S7
        if (flags & FLAG_RESUME and s and s.flags & FLAG_HAS_HASH and s.image_size == size and
                s.chunk_size == chunk and s.component == comp and s.image_hash == ihash and
                s.running == bool(flags & FLAG_RUNNING)):
            return OK, s.held, ZERO16                                # resumed (3.2)
        self.session = Session(size, chunk, comp, flags, ihash)      # S8: RAM always has room
        return OK, 0, ZERO16

    def _end_by_start(self, status):
        """Any START that is not a resume ends the open session, valid or not (3.2)."""
        if self.session:
            self._abandon("other")
        return status, 0, ZERO16

    def _abandon(self, reason):
        """A session that ends without activating: its bank keeps nothing (14.1: possibly)."""
        self.session = None
        self.inactive = b""
        self.end_reason = reason

    def _no_session(self):
        return {"idle": IDLE_TIMEOUT, "abort": ABORTED}.get(self.end_reason, BAD_STATE)

    def _data(self, h, body):
        s = self.session
        if not s:
            return self._no_session(), 0, ZERO16                     # D1
        if h["offset"] != s.held or s.held == s.image_size:
            return OUT_OF_RANGE, s.held, ZERO16                      # D2
        if h["length"] != min(s.chunk_size, s.image_size - s.held):
            return BAD_LENGTH, s.held, ZERO16                        # D3
        own, before = h128(body), s.hasher.copy()
        s.hasher.update(body)                                        # as it lands (15.3)
        self.chunk_hash = own
        self.data_seen.append((h["offset"], len(body), h["body_hash"], own, s.hasher.wire()))
        got = s.hasher.wire() if s.running else own
        if got != h["body_hash"]:
            s.hasher = before                                        # 15.3: state put back
            return BAD_HASH, s.held, got                             # D4
        s.bank += body
        return OK, s.held, got

    def _finish(self, h, body):
        s = self.session
        if not s:
            return self._no_session(), 0, ZERO16                     # F1
        if len(body) not in (16, 80):
            return BAD_LENGTH, s.held, ZERO16                        # F2
        if h128(body) != h["body_hash"]:
            return BAD_HASH, s.held, ZERO16                          # F3
        if s.held != s.image_size:
            return BAD_STATE, s.held, ZERO16                         # F4
        image_hash = s.hasher.wire()
        if body[:16] != image_hash or (s.flags & FLAG_HAS_HASH and s.image_hash != image_hash):
            self._abandon("other")                                   # F5.. end it
            return VERIFY_FAILED, s.image_size, image_hash           # F5
        self.session = None
        self.end_reason = "other"
        tmp = self.flash_path + ".new"                               # F6, F9: durable, atomic
        with open(tmp, "wb") as out:
            out.write(s.bank)
            out.flush()
            os.fsync(out.fileno())
        os.replace(tmp, self.flash_path)
        self.inactive, self.active = self.active, bytes(s.bank)     # the banks swap (5.5)
        return OK, s.image_size, image_hash

    def _abort(self, h, body):
        if h["length"] != 0:
            return BAD_LENGTH, self._held(), ZERO16                  # A1
        if self.session:
            self._abandon("abort")
        return OK, 0, ZERO16

    # ------------------------------------------------------------ 14: delta flash
    def _inactive_now(self):
        s = self.session
        return bytes(s.bank) + self.inactive[s.held:s.image_size] if s else self.inactive

    def _block_hash(self, bank, i):
        part = bank[i * self.block:(i + 1) * self.block]
        return h128(part) if part else ZERO16                        # 14.1: none held -> 0

    def _hashes(self, h, body):
        if len(body) != 16:
            return BAD_LENGTH, self._held(), ZERO16                  # Q1
        if h128(body) != h["body_hash"]:
            return BAD_HASH, self._held(), ZERO16                    # Q2
        first, count, banks, res = HASHES_BODY.unpack(body)
        if res or banks not in (1, 2, 3):
            return BAD_HEADER, self._held(), ZERO16                  # Q3
        if count == 0:
            return BAD_LENGTH, self._held(), ZERO16                  # Q4
        nblocks = -(-self.flash_capacity // self.block)
        if first >= nblocks:
            return OUT_OF_RANGE, self._held(), ZERO16                # Q5
        nb = bin(banks).count("1")
        n = min(count, nblocks - first, (self.layout.slot_size - 64) // (16 * nb))
        inactive = self._inactive_now()
        out = [HASHES_HEAD.pack(self.block, first, n, banks, len(self.active), len(inactive),
                                bytes(32))]
        for i in range(first, first + n):
            if banks & BANK_ACTIVE:
                out.append(self._block_hash(self.active, i))
            if banks & BANK_INACTIVE:
                out.append(self._block_hash(inactive, i))
        answer = b"".join(out)
        self.win.write(self.layout.body(self.slot), answer)         # before the answer's seq
        return OK, self._held(), h128(answer)

    def _keep(self, h, body):
        s = self.session
        if not s:
            return self._no_session(), 0, ZERO16                     # K1
        if len(body) != 16:
            return BAD_LENGTH, s.held, ZERO16                        # K2
        if h128(body) != h["body_hash"]:
            return BAD_HASH, s.held, ZERO16                          # K3
        length, res = KEEP_BODY.unpack(body)
        if res:
            return BAD_HEADER, s.held, ZERO16                        # K4
        off = h["offset"]
        if off != s.held or off % self.block:
            return OUT_OF_RANGE, s.held, ZERO16                      # K5
        if length == 0 or (length % self.block and off + length != s.image_size):
            return BAD_LENGTH, s.held, ZERO16                        # K6
        if off + length > s.image_size or off + length > len(self.active):
            return OUT_OF_RANGE, s.held, ZERO16                      # K7
        kept = self.active[off:off + length]
        s.bank += kept
        s.hasher.update(kept)
        self.chunk_hash = h128(kept)
        return OK, s.held, s.hasher.wire() if s.running else self.chunk_hash   # 5.6, 15.3

    # ------------------------------------------------------------ 5.7 step 4: the answer
    def _answer(self, i, d, status, typ, offset, hsh, move_L=True):
        if status == OK:
            self.oks[typ] = self.oks.get(typ, 0) + 1
        if status == OK and typ in TYPE_NAMES and self.f.lie and self.f.lie[0] == typ \
                and typ not in self.lied and self.oks[typ] >= self.f.lie_at:
            self.lied.add(typ)
            offset, hsh, typ = self._lie(self.f.lie[1], offset, hsh, typ)
        w, lay = self.win, self.layout
        a = lay.answer(i)
        epoch = self.epoch
        if status == OK and self.f.lie and self.f.lie[0] == typ and typ in self.lied:
            field = self.f.lie[1]
            epoch = epoch ^ 0x100 if field == "epoch" else epoch     # an answer of another epoch
            status = 99 if field == "status" else status             # a status not in the table
        w.write(a + 4, ANS.pack(0, status, typ, epoch, 0, offset, hsh, bytes(24))[4:])
        if move_L:
            self.L = d
            w.st32(OFF_LAST_SEQ, d)                                  # last_seq before seq
            self.next_slot = (i + 1) % lay.slots
        self.log.append((d, typ, status))
        if self.f.torn_answer_seq:
            w.st32_torn(a, d, self.f.torn_pause, high_first=bool(d & 1))
        else:
            w.st32(a, d)                                             # seq last

    def _lie(self, field, offset, hsh, typ):
        if field == "chunk_hash":                                    # 15: a plain answer
            return offset, self.chunk_hash, typ
        if field == "offset":
            return offset + 1, hsh, typ
        if field == "hash":
            return offset, bytes([hsh[0] ^ 1]) + hsh[1:], typ
        if field == "type":
            return offset, hsh, FINISH if typ != FINISH else DATA
        if field in ("epoch", "status"):
            return offset, hsh, typ                                  # see _answer
        raise ValueError(field)


# ================================================================= the host (section 6)
class HostError(Exception):
    pass


class Answer:
    def __init__(self, raw):
        (self.seq, self.status, self.type, self.epoch, self.reserved, self.offset, self.hash,
         _res) = ANS.unpack(raw)

    def __repr__(self):
        return "Answer(seq=%#x %s type=%d epoch=%#x offset=%d hash=%s)" % (
            self.seq, status_name(self.status), self.type, self.epoch, self.offset,
            hexhash(self.hash))


class Host:
    """Opens shm:NAME as a host (6.1), holding the byte-1 lock while it is open."""

    def __init__(self, name, timeout=5.0, lock=True):
        self.name = name
        self.timeout = timeout
        path = shm_path(name)
        deadline = time.monotonic() + timeout
        while True:
            try:
                fd = os.open(path, os.O_RDWR | os.O_NOFOLLOW | os.O_NONBLOCK)
                break
            except FileNotFoundError:
                if time.monotonic() > deadline:
                    raise HostError("no window at " + path)
                time.sleep(0.01)
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            os.close(fd)
            raise HostError(path + " is not a regular file")
        self.win = Mapped(fd, st.st_size)
        if lock and not ofd_trylock(fd, 1):
            raise HostError("busy: another host holds byte 1")
        self._read_control(deadline)
        self.seq = None

    def close(self):
        self.win.close()

    def _read_control(self, deadline):
        w = self.win
        while w.ld32(OFF_EPOCH) == 0:                        # a BMC still formatting (1.2)
            if time.monotonic() > deadline:
                raise HostError("epoch stays 0")
            time.sleep(0.005)
        self.epoch = w.ld32(OFF_EPOCH)
        c = CTRL.unpack(w.read(0, 64))
        magic, version, csize, slots, slot_size, stride, body_off, caps, wsize, cap = c[:10]
        if magic != WINDOW_MAGIC:
            raise HostError("bad magic")
        if version != VERSION:
            raise HostError("window speaks version %d; this host speaks %d" % (version, VERSION))
        if not 1 <= slots <= 64 or slot_size % PAGE or not PAGE <= slot_size <= 1 << 26:
            raise HostError("bad slot_count/slot_size")
        self.layout = Layout(slots, slot_size)
        if (csize, stride, body_off, wsize) != (64, self.layout.stride,
                                                self.layout.body_offset,
                                                self.layout.window_size) or wsize > w.size:
            raise HostError("layout does not match")
        self.caps = caps
        self.flash_capacity = cap

    # ------------------------------------------------------------ reading the window
    def last_seq(self):
        return self.win.ld32(OFF_LAST_SEQ)

    def heartbeat(self):
        return self.win.ld32(OFF_HEARTBEAT)

    def cur_epoch(self):
        return self.win.ld32(OFF_EPOCH)

    def bmc_locked(self):
        return ofd_is_locked(self.win.fd, 0)

    def wait_bmc(self, limit=1.5):
        """6.1: byte-0 lock, else a heartbeat change within `limit` (at least 1 s)."""
        if self.bmc_locked():
            return True
        hb = self.heartbeat()
        t = time.monotonic()
        while time.monotonic() - t < limit:
            if self.heartbeat() != hb:
                return True
            time.sleep(0.005)
        return False

    def first_seq(self):
        """6.2: S = next(M), M the latest of L and every doorbell within JUMP after L."""
        L = self.last_seq()
        M = L
        for i in range(self.layout.slots):
            d = self.win.ld32(self.layout.doorbell(i))
            if 0 < dist(d, L) <= JUMP and dist(d, M) > 0:
                M = d
        return nxt(M)

    def answer_seq(self, slot):
        return self.win.ld32(self.layout.answer(slot))

    def doorbell(self, slot):
        return self.win.ld32(self.layout.doorbell(slot))

    # ------------------------------------------------------------ crafting messages (3.1, 6.4)
    def header(self, typ, seq, body=b"", offset=0, length=None, epoch=None, magic=MSG_MAGIC,
               version=VERSION, flags=0, body_hash=None, reserved=bytes(8), check=None):
        length = len(body) if length is None else length
        body_hash = h128(body) if body_hash is None else body_hash
        epoch = self.epoch if epoch is None else epoch
        raw = HDR.pack(magic, version, typ, seq, epoch, offset, length, flags, body_hash,
                       reserved, 0)[:56]
        return raw + struct.pack("<Q", h64(raw) if check is None else check)

    def put(self, slot, header, body=b"", ring=None, torn=None, torn_pause=0.03):
        """Body, header, then the doorbell: one 32-bit store, or torn ('low'/'high' first)."""
        lay = self.layout
        self.win.write(lay.body(slot), body)
        self.win.write(lay.header(slot), header)
        seq = struct.unpack_from("<I", header, 8)[0] if ring is None else ring
        if torn:
            self.win.st32_torn(lay.doorbell(slot), seq, torn_pause, high_first=torn == "high")
        else:
            self.win.st32(lay.doorbell(slot), seq)
        return seq

    def send(self, slot, typ, seq, body=b"", **kw):
        ring = kw.pop("ring", None)
        torn = kw.pop("torn", None)
        return self.put(slot, self.header(typ, seq, body, **kw), body, ring=ring, torn=torn)

    def wait(self, slot, seq, timeout=None):
        """6.5: the answer whose seq is ours, copied; re-reads epoch at least every 20 ms."""
        timeout = self.timeout if timeout is None else timeout
        t0 = time.monotonic()
        a = self.layout.answer(slot)
        while True:
            if self.win.ld32(a) == seq:
                return Answer(self.win.read(a, 64))
            if self.cur_epoch() != self.epoch:
                raise HostError("the BMC re-formatted the window")
            if time.monotonic() - t0 > timeout:
                return None
            time.sleep(0.0002)

    def call(self, slot, typ, seq, body=b"", timeout=None, **kw):
        rung = self.send(slot, typ, seq, body, **kw)
        return self.wait(slot, rung, timeout)

    def hashes(self, slot, seq, first, count, banks):
        """14.2: (answer, head fields, [hash per block and bank]); the body checked first."""
        ans = self.call(slot, HASHES, seq, HASHES_BODY.pack(first, count, banks, 0))
        if ans is None or ans.status != OK:
            return ans, None, None
        raw = self.win.read(self.layout.body(slot), 64)
        head = HASHES_HEAD.unpack(raw)
        block, f, n, b = head[:4]
        nb = bin(banks).count("1")
        if (f, b) != (first, banks) or not 1 <= n <= count or 64 + 16 * n * nb > \
                self.layout.slot_size:
            raise HostError("lying HASHES answer: %r" % (head,))
        body = self.win.read(self.layout.body(slot), 64 + 16 * n * nb)   # one private copy
        if h128(body) != ans.hash:
            raise HostError("HASHES answer body does not hash to the answer's hash")
        return ans, head, [body[64 + 16 * k:80 + 16 * k] for k in range(n * nb)]

    def active_blocks(self, seq, nblocks):
        """14.5: the active bank's block hashes for nblocks blocks; (block_size, list, seq)."""
        got, block = [], 0
        while len(got) < nblocks:
            seq = nxt(seq)
            ans, head, hs = self.hashes(0, seq, len(got), nblocks - len(got), BANK_ACTIVE)
            if head is None:
                raise HostError("HASHES refused: %r" % ans)
            block = head[0]
            got += hs
            if block < PAGE or block & (block - 1):
                raise HostError("block size %d is no power of two >= 4096" % block)
        return block, got, seq

    # ------------------------------------------------------------ a whole push (6.2 .. 6.5)
    def push(self, image, chunk=None, slots=None, first=None, image_hash=False, resume=False,
             signature=None, torn=False, delta=False, running=False):
        """Pushes image; returns the FINISH answer. Raises HostError on any failure.

        delta: with caps bit 1, a chunk whose blocks all equal the active bank's goes as a KEEP
        (14.5); self.kept counts them.
        running: a running session (15.2; the window must have caps bit 2): each DATA carries,
        and each DATA's or KEEP's answer must hold, R through it, from one streaming state.
        """
        lay = self.layout
        chunk = chunk or lay.slot_size
        slots = slots or lay.slots
        if running and not self.caps & CAP_RUNNING:
            raise HostError("15.2: no RUNNING without caps bit 2 (caps %#x)" % self.caps)
        if not self.wait_bmc():
            raise HostError("no BMC answered")
        seq = self.first_seq() if first is None else first
        whole = h128(image)
        flags = (FLAG_HAS_HASH if image_hash or resume else 0) | (FLAG_RESUME if resume else 0)
        body = START_BODY.pack(len(image), chunk, 0, flags | (FLAG_RUNNING if running else 0),
                               0, whole if flags else ZERO16, bytes(8))
        ans = self.call(0, START, seq, body)
        held = self._check_start(ans, seq, len(image), chunk, resume)
        digest = Hash128Stream()                                 # R (15.1), one pass
        digest.update(image[:held])
        block, active, self.kept = 0, [], 0
        if delta and self.caps & CAP_BLOCK_HASHES:
            block, active, seq = self.active_blocks(seq, 1)
            block, active, seq = self.active_blocks(seq, -(-len(image) // block))
            if chunk % block:
                block = 0                                        # no KEEP (14.5)
        inflight = []                                            # (slot, seq, type, end, hash)
        slot = 1 % lay.slots
        off = held
        while off < len(image) or inflight:
            while off < len(image) and len(inflight) < slots:
                piece = image[off:off + chunk]
                seq = nxt(seq)
                same = block and all(
                    h128(piece[k:k + block]) == active[(off + k) // block]
                    for k in range(0, len(piece), block))
                digest.update(piece)
                check = digest.wire() if running else h128(piece)
                if same:
                    self.kept += 1
                    self.send(slot, KEEP, seq, KEEP_BODY.pack(len(piece), 0), offset=off)
                else:
                    self.send(slot, DATA, seq, piece, offset=off, body_hash=check,
                              torn=(("high" if seq & 1 else "low") if torn else None))
                inflight.append((slot, seq, KEEP if same else DATA, off + len(piece), check))
                off += len(piece)
                slot = (slot + 1) % lay.slots
            s, q, typ, end, hsh = inflight.pop(0)
            self._check(self.wait(s, q), q, typ, end, hsh)
        seq = nxt(seq)
        fbody = whole + (signature or b"")
        ans = self.call(slot, FINISH, seq, fbody)
        self._check(ans, seq, FINISH, len(image), whole)
        self.seq = seq
        return ans

    def _check_start(self, ans, seq, size, chunk, resume):
        """A new session holds 0 bytes; a resumed one whole chunks, or all of it (3.2, 5.6)."""
        self._check(ans, seq, START, ans.offset if ans else 0, ZERO16)
        held = ans.offset
        if not resume and held != 0:
            raise HostError("a new session holds %d bytes" % held)
        if held > size or (held % chunk and held != size):
            raise HostError("resume point %d of a %d-byte image" % (held, size))
        return held

    def _check(self, ans, seq, typ, offset, hsh):
        if ans is None:
            raise HostError("no answer to %s seq %#x" % (TYPE_NAMES[typ], seq))
        if ans.epoch != self.epoch:
            raise HostError("the BMC re-formatted the window")
        if ans.status != OK:
            raise HostError("BMC refused %s: %s" % (TYPE_NAMES[typ], status_name(ans.status)))
        if ans.type != typ:
            raise HostError("answer type %d, expected %d" % (ans.type, typ))
        if ans.offset != offset or ans.hash != hsh:
            raise HostError("lying answer: offset %d hash %s" % (ans.offset, hexhash(ans.hash)))


def start_body(image_size, chunk, component=0, flags=0, image_hash=ZERO16, res1=0,
               res2=bytes(8)):
    return START_BODY.pack(image_size, chunk, component, flags, res1, image_hash, res2)


def sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()
