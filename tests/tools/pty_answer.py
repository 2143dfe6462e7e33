#!/usr/bin/env python3
"""pty_answer.py - runs a program on a pseudo-terminal and answers its prompts.

Test code, for programs that read secrets from the terminal (gvnccapture).
  pty_answer.py [--timeout S] PROMPT-REGEX ANSWER [PROMPT-REGEX ANSWER ...] -- CMD...
Each answer is typed (with a newline) only after its prompt has appeared in the
program's output. The answer to a password prompt (one matching "pass", any
case) also waits, at most ECHO_WAIT seconds, until the terminal stops echoing:
getpass() prints the prompt first and then turns echo off with TCSAFLUSH, which
discards whatever was typed in between. Exits with the program's status (124 on
timeout); the program's output is copied to stdout.
"""
import os
import pty
import re
import select
import sys
import termios
import time

ECHO_WAIT = 10.0


def wait_echo_off(fd):
    """Waits until the terminal on fd has ECHO off, or ECHO_WAIT has passed."""
    end = time.time() + ECHO_WAIT
    while time.time() < end:
        try:
            if not termios.tcgetattr(fd)[3] & termios.ECHO:
                return
        except termios.error:
            return
        time.sleep(0.01)


def main():
    args = sys.argv[1:]
    timeout = 60.0
    if args[:1] == ["--timeout"]:
        timeout = float(args[1])
        args = args[2:]
    sep = args.index("--")
    pairs = list(zip(args[:sep:2], args[1:sep:2]))
    cmd = args[sep + 1:]
    pid, fd = pty.fork()
    if pid == 0:
        os.execvp(cmd[0], cmd)
    seen = ""
    deadline = time.time() + timeout
    while True:
        left = deadline - time.time()
        if left <= 0:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            sys.stdout.write(seen + "\n[timeout]\n")
            return 124
        r, _, _ = select.select([fd], [], [], min(left, 1.0))
        if not r:
            continue
        try:
            data = os.read(fd, 4096).decode(errors="replace")
        except OSError:
            break
        if not data:
            break
        seen += data
        while pairs and re.search(pairs[0][0], seen):
            if re.search("pass", pairs[0][0], re.IGNORECASE):
                wait_echo_off(fd)
            os.write(fd, (pairs[0][1] + "\n").encode())
            seen = seen[re.search(pairs[0][0], seen).end():]
            pairs.pop(0)
        sys.stdout.write(data)
    _, status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(status)


if __name__ == "__main__":
    sys.exit(main())
