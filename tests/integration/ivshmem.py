#!/usr/bin/env python3
"""The BMC's ivshmem server (engine/transport/ivshmem.c) against Python clients speaking QEMU's
ivshmem client protocol (docs/specs/ivshmem-spec.rst), over real processes and no QEMU.

  ivshmem.py PEER               the transport alone: PEER is tests/peers/ivshmem_peer, whose
                                echo BMC answers every ring
  ivshmem.py PEER FWPUSH        also bmc-sim --ivshmem: serves pushes whatever its clients do

Every message is 8 bytes, little-endian signed, with at most one descriptor. A client gets the
version (0), its ID, -1 with the window's memory, each other peer's ID with that peer's eventfd
(the BMC, ID 1, first), its own ID with its own eventfd; later, other peers' IDs with an eventfd
(connected) or without (gone).
"""
import array
import os
import select
import signal
import socket
import struct
import subprocess
import sys
import tempfile
import time

BMC_ID = 1
CLIENTS = 8  # FWP_IVSHMEM_CLIENTS
FAILS = []


def check(what, cond):
    print(("ok   - " if cond else "FAIL - ") + what, flush=True)
    if not cond:
        FAILS.append(what)
    return cond


class Client:
    def __init__(self, path):
        # A server that is starting may not listen yet (or a dead one's socket may still hold the
        # name): a refused connect leaves nothing behind on the server, so try again for a while.
        for tries in range(100):
            self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                self.sock.connect(path)
                return
            except (ConnectionRefusedError, FileNotFoundError):
                self.sock.close()
                if tries == 99:
                    raise
                time.sleep(0.02)

    def recv(self, timeout=3.0):
        """One message: (value, fd or None); None when nothing came in time; 'eof' on close."""
        if not select.select([self.sock], [], [], timeout)[0]:
            return None
        fds = array.array("i")
        data, anc, _, _ = self.sock.recvmsg(8, socket.CMSG_SPACE(4 * fds.itemsize))
        if not data:
            return "eof"
        for level, kind, payload in anc:
            if level == socket.SOL_SOCKET and kind == socket.SCM_RIGHTS:
                fds.frombytes(payload[: len(payload) - len(payload) % fds.itemsize])
        while len(data) < 8:  # a message split across reads: the rest has no descriptor
            more = self.sock.recv(8 - len(data))
            if not more:
                return "eof"
            data += more
        return struct.unpack("<q", data)[0], (fds[0] if fds else None)

    def greeting(self):
        """Steps 1-5: (id, shm fd, {peer: eventfd}, own eventfd), or a reason it failed."""
        msgs = []
        while True:
            m = self.recv()
            if not isinstance(m, tuple):
                return "message %d: %s" % (len(msgs), m)
            msgs.append(m)
            if len(msgs) >= 4 and m[0] == msgs[1][0]:
                break
        if msgs[0] != (0, None):
            return "version %r" % (msgs[0],)
        my_id, shm = msgs[1][0], msgs[2][1]
        if msgs[1][1] is not None or msgs[2][0] != -1 or shm is None:
            return "id %r, memory %r" % (msgs[1], msgs[2])
        peers = {v: fd for v, fd in msgs[3:-1]}
        if None in peers.values() or len(peers) != len(msgs) - 4 or msgs[-1][1] is None:
            return "peers %r" % (msgs[3:],)
        return my_id, shm, peers, msgs[-1][1]

    def close(self):
        self.sock.close()


def is_eventfd(fd):
    return os.readlink("/proc/self/fd/%d" % fd) == "anon_inode:[eventfd]"


def eventfd_id(fd):
    """The kernel's id of the eventfd open at fd (fdinfo), so two descriptors can be compared."""
    with open("/proc/self/fdinfo/%d" % fd) as f:
        return [l.split()[1] for l in f if l.startswith("eventfd-id:")] or [str(fd)]


def ring(fd):
    os.write(fd, struct.pack("=Q", 1))


def rung(fd, timeout=2.0):
    """How many times fd was rung within timeout (the count is consumed), 0 if not at all."""
    if not select.select([fd], [], [], timeout)[0]:
        return 0
    return struct.unpack("=Q", os.read(fd, 8))[0]


def wait_socket(path, proc):
    for _ in range(200):
        if os.path.exists(path) or proc.poll() is not None:
            break
        time.sleep(0.02)
    return os.path.exists(path)


def protocol(path, window):
    """The message sequence, announcements and disconnects, against any BMC serving path."""
    a = Client(path)
    g = a.greeting()
    if not check("client A: version 0, its ID, the memory, the BMC's eventfd, its own (%s)"
                 % (g if isinstance(g, str) else "ID %d" % g[0]), isinstance(g, tuple)):
        return None
    a_id, shm, peers, a_efd = g
    check("A's ID is neither 0 nor the BMC's (%d)" % a_id, a_id not in (0, BMC_ID))
    st, win = os.fstat(shm), os.stat(window)
    check("the memory is the window file (%d bytes, inode %d)" % (st.st_size, st.st_ino),
          (st.st_size, st.st_ino, st.st_dev) == (win.st_size, win.st_ino, win.st_dev))
    check("A's peers: the BMC only, with an eventfd (%s)" % sorted(peers),
          list(peers) == [BMC_ID] and is_eventfd(peers[BMC_ID]) and is_eventfd(a_efd))
    check("the BMC's eventfd is not A's own", eventfd_id(peers[BMC_ID]) != eventfd_id(a_efd))
    check("nothing more after the greeting", a.recv(0.3) is None)

    b = Client(path)
    g = b.greeting()
    ok = check("client B greeted (%s)" % (g if isinstance(g, str) else "ID %d" % g[0]),
               isinstance(g, tuple))
    if ok:
        check("B's peers: the BMC and A (%s)" % sorted(g[2]), sorted(g[2]) == sorted([BMC_ID, a_id]))
        check("B's ID is new (%d)" % g[0], g[0] not in (0, BMC_ID, a_id))
        m = a.recv()
        check("A is told B connected, with B's eventfd (%r)" % (m,),
              isinstance(m, tuple) and m[0] == g[0] and m[1] is not None and is_eventfd(m[1]))
        b.close()
        m = a.recv()
        check("A is told B left: its ID without a descriptor (%r)" % (m,), m == (g[0], None))
    return a, a_id, peers[BMC_ID], a_efd


def hostile(path):
    """Garbage, an early close, a client that never reads, one too many: none hurts the rest."""
    c = Client(path)
    c.sock.sendall(b"\xde\xad\xbe\xef" * 1000)
    c.recv(0.5)
    c.close()
    Client(path).close()
    silent = [Client(path) for _ in range(CLIENTS + 2)]
    time.sleep(0.3)
    extra = [s.recv(0.5) for s in silent]
    # Greetings pile up unread in the sockets of the ones served; the rest are closed at once.
    # A holds one place, so CLIENTS - 1 of them are served.
    check("clients beyond %d are closed at once (%d of %d)" % (CLIENTS, extra.count("eof"),
          len(silent)), extra.count("eof") == len(silent) - (CLIENTS - 1))
    for s in silent:
        s.close()
    time.sleep(0.3)


def against_echo(peer):
    name = "fwpivs-%d-echo" % os.getpid()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "ivs.sock")
        bmc = subprocess.Popen([peer, "echo", "shm:%s,ivshmem=%s" % (name, path), "60"],
                               stdout=subprocess.PIPE, text=True)
        try:
            line = bmc.stdout.readline().split()
            check("the echo BMC's ring value is (1 << 16) | 0 (%s)" % line,
                  line == ["ring_value", "0x10000"])
            if not check("the BMC listens on its socket", wait_socket(path, bmc)):
                return
            r = protocol(path, "/dev/shm/" + name)
            if not r:
                return
            a, a_id, bmc_efd, a_efd = r
            ring(bmc_efd)
            check("A rings the BMC's eventfd, the BMC rings A's back", rung(a_efd) >= 1)
            hostile(path)
            ring(bmc_efd)
            check("after garbage, early closes and a flood, A is still rung back",
                  rung(a_efd) >= 1)
            a.close()
            again = Client(path)
            g = again.greeting()
            check("a client that comes back (a second boot) is served anew (%s)"
                  % (g if isinstance(g, str) else "ID %d" % g[0]),
                  isinstance(g, tuple) and g[0] != a_id and list(g[2]) == [BMC_ID])
            if isinstance(g, tuple):
                ring(g[2][BMC_ID])
                check("and rung back", rung(g[3]) >= 1)
            bmc.send_signal(signal.SIGTERM)
            out = bmc.communicate(timeout=10)[0]
            check("the echo BMC exits 0 on SIGTERM (%s, %s)" % (bmc.returncode, out.strip()),
                  bmc.returncode == 0)
            check("the socket's name is gone with it", not os.path.exists(path))
            m = again.recv(1)
            while isinstance(m, tuple):  # announcements still queued before the close
                m = again.recv(1)
            check("the client sees its socket close (%s)" % m, m == "eof")
        finally:
            if bmc.poll() is None:
                bmc.kill()
                bmc.wait()


def replaced(peer):
    """A BMC killed while a client holds the memory: the next one takes the name and socket."""
    name = "fwpivs-%d-dead" % os.getpid()
    uri = "shm:%s,ivshmem=" % name
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "ivs.sock")
        bad = subprocess.run([peer, "echo", "shm:%s,bogus=1" % name, "1"], capture_output=True)
        check("a window URI with an unknown parameter is refused (%s)" % bad.stderr.strip(),
              bad.returncode != 0 and b"Invalid argument" in bad.stderr)
        first = subprocess.Popen([peer, "echo", uri + path, "60"], stdout=subprocess.PIPE)
        second = None
        try:
            first.stdout.readline()
            wait_socket(path, first)
            a = Client(path)
            g = a.greeting()
            first.kill()
            first.wait()
            second = subprocess.Popen([peer, "echo", uri + path, "60"], stdout=subprocess.PIPE,
                                      text=True)
            line = second.stdout.readline().strip()
            check("a BMC killed while a client maps its memory is replaced (%s)" % line,
                  isinstance(g, tuple) and line.startswith("ring_value"))
            b = Client(path)
            check("and the new one serves its socket", isinstance(b.greeting(), tuple))
            a.close()
            b.close()
            second.send_signal(signal.SIGTERM)  # it removes its window and socket
            second.wait(timeout=10)
        finally:
            for p in (first, second):
                if p and p.poll() is None:
                    p.kill()
                    p.wait()


def against_bmc_sim(fwpush):
    """bmc-sim --ivshmem: a stale socket replaced, clients served, pushes unharmed."""
    name = "fwpivs-%d-bmc" % os.getpid()
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "ivs.sock")
        stale = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        stale.bind(path)
        stale.close()  # a dead server's socket
        img, flash = os.path.join(d, "img"), os.path.join(d, "flash")
        with open(img, "wb") as f:
            f.write(os.urandom((3 << 20) + 4097))
        bmc = subprocess.Popen([fwpush, "bmc-sim", "--window", "shm:" + name, "--ivshmem", path,
                                "--flash", flash, "--slots", "4", "--slot-size", "64K"])
        try:
            for _ in range(200):
                if os.path.exists("/dev/shm/" + name) or bmc.poll() is not None:
                    break
                time.sleep(0.02)
            if not check("bmc-sim --ivshmem starts over a stale socket", bmc.poll() is None):
                return
            r = protocol(path, "/dev/shm/" + name)
            hostile(path)
            push = subprocess.run([fwpush, "push", img, "--target", "shm:" + name,
                                   "--timeout", "30s"], capture_output=True, text=True)
            check("a push through shm: after hostile clients exits 0 (%s)"
                  % push.stderr.strip()[-200:], push.returncode == 0)
            with open(img, "rb") as f1, open(flash, "rb") as f2:
                check("the flash equals the image", f1.read() == f2.read())
            if r:
                check("the BMC rang its client A after answering the push",
                      rung(r[3], 0.5) >= 1)
            check("bmc-sim still runs", bmc.poll() is None)
        finally:
            bmc.send_signal(signal.SIGTERM)
            try:
                bmc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                bmc.kill()
                bmc.wait()
        check("bmc-sim exits 0 (%s) and removes its socket" % bmc.returncode,
              bmc.returncode == 0 and not os.path.exists(path))


def main():
    against_echo(sys.argv[1])
    replaced(sys.argv[1])
    if len(sys.argv) > 2:
        against_bmc_sim(sys.argv[2])
    print("# %d failed" % len(FAILS))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
