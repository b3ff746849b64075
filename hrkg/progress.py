"""One progress reporter for long work (build, import, publish).

On a terminal it keeps one line up to date; elsewhere (a log, CI) it prints nothing but the
summary line, so a successful run stays quiet. ``quiet`` silences even that. HRKG_PROGRESS=lines
in the environment prints every step as a line of its own, with the time since the start.
"""
import os
import sys
import time


class Progress:
    """``progress(message)`` for steps, ``progress.done(message)`` for the one-line summary."""

    def __init__(self, quiet=False, stream=None):
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.start = time.monotonic()
        self.live = not quiet and hasattr(self.stream, "isatty") and self.stream.isatty()
        self.lines = not quiet and os.environ.get("HRKG_PROGRESS") == "lines"
        self._width = 0

    def elapsed(self):
        return time.monotonic() - self.start

    def __call__(self, message):
        if self.lines:
            self.stream.write(f"[{self.elapsed():6.1f}s] {message}\n")
            self.stream.flush()
        elif self.live:
            line = f"[{self.elapsed():6.1f}s] {message}"[:160]
            self.stream.write("\r" + line + " " * max(0, self._width - len(line)))
            self.stream.flush()
            self._width = len(line)

    def done(self, message):
        if self.quiet:
            return
        if self.live and self._width:
            self.stream.write("\r" + " " * self._width + "\r")
            self._width = 0
        self.stream.write(f"{message} ({self.elapsed():.1f} s)\n")
        self.stream.flush()

