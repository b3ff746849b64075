"""Checked values of ``hrkg serve`` options, as argparse types: a bad value is a usage error
(exit 2) that names the option's rule, before anything is loaded or listens. Light: no server
imports, so building the command-line parser stays fast."""
import argparse
import math
from urllib.parse import urlsplit


def port(text):
    """A TCP port, 1-65535 (uvicorn would take 70000 modulo 65536 and listen on 4464)."""
    value = _int(text)
    if not 1 <= value <= 65535:
        raise argparse.ArgumentTypeError(f"{text!r} is not a TCP port; give a number from 1 to 65535")
    return value


def seconds(text):
    """A finite, positive number of seconds (nan, inf, 0 and negatives are refused)."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a usable time limit; give a finite, positive "
                                         "number of seconds, e.g. 30")
    return value


def positive(text):
    value = _int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number of at least 1")
    return value


def count(text):
    """A whole number, 0 or more (0 turns the feature off)."""
    value = _int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be a whole number, 0 or more (0: off)")
    return value


_UNITS = {"": 1, "b": 1, "k": 2**10, "kb": 2**10, "kib": 2**10, "m": 2**20, "mb": 2**20, "mib": 2**20,
          "g": 2**30, "gb": 2**30, "gib": 2**30}


def size(text):
    """A number of bytes, 0 or more, optionally with a unit: 64M, 512k, 1G (powers of 1024)."""
    raw = text.strip().lower().replace(" ", "")
    number = raw.rstrip("kmgib")
    unit = raw[len(number):]
    try:
        value = int(number) * _UNITS[unit]
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(f"{text!r} is not a size in bytes; give e.g. 67108864, 64M or 512k") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} must be 0 or more (0: off)")
    return value


def public_url(text):
    """An absolute http(s) URL with a host and no query or fragment; the trailing / is dropped."""
    try:
        parts = urlsplit(text.strip())
        parts.port   # raises ValueError for a bad port
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"{text!r} is not a URL ({exc})") from None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname or parts.query or parts.fragment \
            or any(c.isspace() or ord(c) < 32 for c in text.strip()):
        raise argparse.ArgumentTypeError(f"{text!r} is not a public base URL; give an http(s) URL with a host "
                                         "and no query, e.g. https://hrkg.example.org")
    return text.strip().rstrip("/")


def _int(text):
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
