"""Take the network away from a query worker at the operating-system level.

The guard (guard.py) refuses SERVICE before a query runs, but it reads the query with a parser
that is not the engine's; a gap between the two parsers must not become a way out. Oxigraph's
HTTP client is native code, so a Python audit hook cannot see it. Instead, each worker installs
a seccomp filter (Linux) that makes ``socket(AF_INET | AF_INET6 | AF_PACKET, ...)`` fail with
EACCES: nothing in the worker, Python or native, can open an internet socket again (the filter is
inherited by every thread and cannot be removed). The pipe to the server, made before the filter,
keeps working; Unix sockets stay allowed.

Where seccomp is not available (another OS or architecture, an old kernel), ``deny_network``
returns False and the server says so at start-up: the guard alone then stands between a query
and the network.
"""
import ctypes
import ctypes.util
import errno
import platform
import socket
import struct
import sys

# <linux/audit.h> architecture tokens and the socket(2) syscall number on each
_ARCHES = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198), "arm64": (0xC00000B7, 198)}
_DENIED_FAMILIES = (socket.AF_INET, socket.AF_INET6) + ((socket.AF_PACKET,) if hasattr(socket, "AF_PACKET") else ())

# classic BPF opcodes (<linux/filter.h>) and seccomp constants (<linux/seccomp.h>, <linux/prctl.h>)
_LD_W_ABS, _JEQ_K, _RET_K = 0x20, 0x15, 0x06
_SECCOMP_RET_ALLOW, _SECCOMP_RET_ERRNO = 0x7FFF0000, 0x00050000
_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_OFFSET_NR, _OFFSET_ARCH, _OFFSET_ARG0 = 0, 4, 16   # struct seccomp_data; arg0's low word (little-endian)


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_ushort), ("jt", ctypes.c_ubyte), ("jf", ctypes.c_ubyte), ("k", ctypes.c_uint32)]


class _Program(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.POINTER(_Filter))]


def _program(arch, socket_nr):
    """The filter: on this architecture, socket(family in _DENIED_FAMILIES) -> EACCES; all else allowed."""
    deny = _SECCOMP_RET_ERRNO | errno.EACCES
    n = len(_DENIED_FAMILIES)
    code = [
        (_LD_W_ABS, 0, 0, _OFFSET_ARCH),
        (_JEQ_K, 0, None, arch),               # another ABI: allow
        (_LD_W_ABS, 0, 0, _OFFSET_NR),
        (_JEQ_K, 0, None, socket_nr),          # not socket(): allow
        (_LD_W_ABS, 0, 0, _OFFSET_ARG0),
    ]
    for i, family in enumerate(_DENIED_FAMILIES):
        code.append((_JEQ_K, n - i, 0, family))   # match: jump to "deny"
    code += [(_RET_K, 0, 0, _SECCOMP_RET_ALLOW), (_RET_K, 0, 0, deny)]
    allow_at = len(code) - 2   # jumps are relative to the next instruction
    return [_Filter(op, jt, allow_at - at - 1 if jf is None else jf, k) for at, (op, jt, jf, k) in enumerate(code)]


def deny_network():
    """Install the filter in this process (and every thread it starts from now on).

    Returns True when the filter is in place, False where this system cannot do it."""
    if not sys.platform.startswith("linux"):
        return False
    arch = _ARCHES.get(platform.machine())
    if arch is None or struct.calcsize("P") != 8 or sys.byteorder != "little":
        return False
    libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
    filters = _program(*arch)
    array = (_Filter * len(filters))(*filters)
    program = _Program(len(filters), ctypes.cast(array, ctypes.POINTER(_Filter)))
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    if libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(program), 0, 0) != 0:
        return False
    return True
