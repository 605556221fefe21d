#!/usr/bin/python3
"""The conformance suite: fwpush against peers written from docs/PROTOCOL.md alone.

  conformance.py GROUP      runs one group of checks (one meson test each), one line per check:
                            "ok - what" or "FAIL - what: detail"; exit 1 if any failed.

Environment: FWPUSH, the fwpush binary under test. Exit 77 only when python3-xxhash is missing
and cannot be installed.
"""

import os
import sys

sys.dont_write_bytecode = True          # no __pycache__ in the source tree


def _need_xxhash():
    """Import xxhash: Debian's python3-xxhash lives in /usr/bin/python3's path only."""
    try:
        import xxhash  # noqa: F401
        return
    except ImportError:
        pass
    if sys.executable != "/usr/bin/python3" and os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    if os.geteuid() == 0:
        os.system("DEBIAN_FRONTEND=noninteractive apt-get install -y -q python3-xxhash "
                  ">/dev/null 2>&1")
    try:
        import xxhash  # noqa: F401
    except ImportError:
        print("SKIP - python3-xxhash is missing and cannot be installed")
        sys.exit(77)


_need_xxhash()
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from cases import GROUPS, main  # noqa: E402

if __name__ == "__main__":
    if len(sys.argv) != 2 or sys.argv[1] not in GROUPS:
        sys.exit("usage: conformance.py GROUP (one of: %s)" % " ".join(GROUPS))
    sys.exit(main(sys.argv[1]))
