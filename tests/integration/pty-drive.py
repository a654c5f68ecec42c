#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Drive `actool enter` on a pseudo-terminal, as an operator at a terminal
would, and print what was seen as KEY=VALUE lines for enter-tty.sh to check.

pty-drive.py SCENARIO ACTOOL UUID

Scenarios:
  session   an interactive /bin/sh: its terminal, the window's size and a
            resize, Ctrl-C and Ctrl-Z acting on its foreground job, the exit
            status, and the operator's terminal modes afterwards
  notty     enter -T on a terminal: the command has enter's streams
  hangup    the helper killed (SIGKILL): the pod's terminal hangs up, and
            what ran on it ends
  term      a SIGTERM sent to enter reaches the command; the operator's
            terminal modes come back
  stubborn  a SIGTERM sent to enter, whose shell ignores it: enter ends all
            the same (the pod's terminal hangs up), and soon
  stopped   the command stopped (SIGSTOP from inside the pod): a SIGTERM
            sent to enter still ends it
  escape    Ctrl-] three times: enter leaves the pod's terminal (hung up)
"""
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time


class Terminal:
    """The operator's terminal: a pseudo-terminal whose slave is the
    controlling terminal (and standard streams) of the command."""

    def __init__(self, argv, rows, cols):
        self.master, slave = os.openpty()
        self.resize_slave = slave
        self.set_size(rows, cols)
        self.modes_before = termios.tcgetattr(slave)
        self.proc = subprocess.Popen(
            argv, stdin=slave, stdout=slave, stderr=slave, start_new_session=True,
            preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0))
        self.seen = b""

    def set_size(self, rows, cols):
        # the kernel signals the foreground job (SIGWINCH), as a window does
        fcntl.ioctl(self.resize_slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))

    def send(self, data):
        os.write(self.master, data)

    def expect(self, pattern, timeout=10):
        """The first match of PATTERN (bytes regex) in what arrives from now
        on, or None after TIMEOUT seconds."""
        start = len(self.seen)
        deadline = time.monotonic() + timeout
        while True:
            m = re.search(pattern, self.seen[start:])
            if m:
                self.seen = self.seen[:start] + self.seen[start + m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.master], [], [], left)
            if not r:
                continue
            try:
                chunk = os.read(self.master, 4096)
            except OSError:
                return None
            if not chunk:
                return None
            self.seen += chunk

    def wait(self, timeout=10):
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return "timeout"

    def modes_kept(self):
        return termios.tcgetattr(self.resize_slave) == self.modes_before


def say(key, value):
    if isinstance(value, bytes):
        value = value.decode(errors="replace")
    print("%s=%s" % (key, value), flush=True)


def group(m, n=1):
    return m.group(n) if m else b"(nothing)"


def session(actool, uuid):
    t = Terminal([actool, "enter", uuid], 33, 101)
    # one marker per answer: what the shell echoes back is the command, not its output
    t.send(b"echo T=$(tty) S=$(stty size) O=$(stat -c %u $(tty)) M=$((6*7))\n")
    m = t.expect(rb"T=(\S+) S=(\d+ \d+) O=(\d+) M=42")
    say("tty", group(m, 1))
    say("size", group(m, 2))
    say("owner", group(m, 3))
    t.set_size(40, 120)
    time.sleep(0.3)  # the SIGWINCH's way through enter to the pod's terminal
    t.send(b"echo S2=$(stty size) M=$((6*8))\n")
    say("resized", group(t.expect(rb"S2=(\d+ \d+) M=48")))
    # Ctrl-C goes to the pod's foreground job, not to enter
    t.send(b"sleep 30; echo slept$((1+1))\n")
    time.sleep(0.5)
    started = time.monotonic()
    t.send(b"\x03")
    t.send(b"echo after$((2+3))\n")
    m = t.expect(rb"after5", timeout=10)
    say("interrupt", "yes" if m and time.monotonic() - started < 9 else "no")
    say("interrupt_slept", "yes" if b"slept2" in t.seen else "no")
    # Ctrl-Z stops the pod's job; the shell's job control takes it
    t.send(b"sleep 31\n")
    time.sleep(0.5)
    t.send(b"\x1a")
    t.send(b"jobs; kill -9 %1; wait; echo jc$((3+4))\n")
    m = t.expect(rb"(?s)(Stopped.*)jc7", timeout=10)
    say("suspend", "yes" if m and b"sleep 31" in m.group(1) else "no")
    t.send(b"exit 7\n")
    if t.expect(rb"stopped jobs", timeout=2):  # (ash's warning, once: the job's end not yet seen)
        t.send(b"exit 7\n")
    say("status", t.wait())
    say("modes_kept", "yes" if t.modes_kept() else "no")


def notty(actool, uuid):
    t = Terminal([actool, "enter", "-T", uuid, "--", "/bin/sh", "-c",
                  "tty; echo M=$((5*5))"], 24, 80)
    say("tty", group(t.expect(rb"(\S[^\r\n]*)\r?\n.*M=25", timeout=10)))
    say("status", t.wait())


def children(pid):
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            return [int(p) for p in f.read().split()]
    except OSError:
        return []


def hangup(actool, uuid):
    t = Terminal([actool, "enter", uuid, "--", "/bin/sh", "-c",
                  "echo M=$((9*9)); sleep 31337"], 24, 80)
    say("started", "yes" if t.expect(rb"M=81") else "no")
    helpers = children(t.proc.pid)
    say("helpers", len(helpers))
    for h in helpers:
        os.kill(h, signal.SIGKILL)
    say("status", t.wait())
    say("modes_kept", "yes" if t.modes_kept() else "no")


def term(actool, uuid):
    t = Terminal([actool, "enter", uuid, "--", "/bin/sh", "-c",
                  "echo M=$((9*8)); sleep 31338"], 24, 80)
    say("started", "yes" if t.expect(rb"M=72") else "no")
    t.proc.send_signal(signal.SIGTERM)
    say("status", t.wait())
    say("modes_kept", "yes" if t.modes_kept() else "no")


def ends_on_sigterm(t, ready):
    say("started", "yes" if t.expect(ready) else "no")
    started = time.monotonic()
    t.proc.send_signal(signal.SIGTERM)
    say("status", t.wait(timeout=20))
    say("soon", "yes" if time.monotonic() - started < 10 else "no")
    say("modes_kept", "yes" if t.modes_kept() else "no")


def stubborn(actool, uuid):
    t = Terminal([actool, "enter", uuid], 24, 80)
    t.send(b"echo M=$((6*9))\n")
    ends_on_sigterm(t, rb"M=54")


def stopped(actool, uuid):
    t = Terminal([actool, "enter", uuid, "--", "/bin/sh", "-c",
                  "echo M=$((7*7)); kill -STOP $$; echo never"], 24, 80)
    ends_on_sigterm(t, rb"M=49")


def escape(actool, uuid):
    t = Terminal([actool, "enter", uuid], 24, 80)
    t.send(b"echo M=$((5*11))\n")
    say("started", "yes" if t.expect(rb"M=55") else "no")
    started = time.monotonic()
    t.send(b"\x1d\x1d\x1d")
    say("status", t.wait(timeout=20))
    say("soon", "yes" if time.monotonic() - started < 10 else "no")
    say("modes_kept", "yes" if t.modes_kept() else "no")


def main():
    scenario, actool, uuid = sys.argv[1:4]
    {"session": session, "notty": notty, "hangup": hangup, "term": term,
     "stubborn": stubborn, "stopped": stopped, "escape": escape}[scenario](actool, uuid)


if __name__ == "__main__":
    main()
