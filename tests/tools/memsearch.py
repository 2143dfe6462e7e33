#!/usr/bin/env python3
"""memsearch.py - searches a live process's memory for an RSA private key.

Test code, run as root against moat's processes. Usage:
  memsearch.py PID KEY.pem
Extracts the private exponent and both primes of the key (openssl rsa -text),
and looks for each in every readable mapping of PID, both as big-endian bytes
(DER, OpenSSL's serialised form) and little-endian (BIGNUM limbs on x86-64),
and also for the first base64 line of the PEM file. Prints what it found.
Exit status: 0 when something was found, 1 when nothing was, 2 on error.
"""
import re
import subprocess
import sys

MAX_MAPPING = 1 << 30


def key_numbers(path):
    text = subprocess.run(["openssl", "rsa", "-in", path, "-noout", "-text"],
                          check=True, capture_output=True, text=True).stdout
    out = {}
    for name in ("privateExponent", "prime1", "prime2"):
        m = re.search(name + r":\s*\n((?:\s+[0-9a-f:]+\n)+)", text)
        if not m:
            raise SystemExit("cannot find %s in the key" % name)
        hexs = re.sub(r"[^0-9a-f]", "", m.group(1))
        b = bytes.fromhex(hexs).lstrip(b"\0")
        out[name] = b
    return out


def main():
    pid, keyfile = int(sys.argv[1]), sys.argv[2]
    needles = {}
    for name, be in key_numbers(keyfile).items():
        needles[name + " (big-endian)"] = be
        needles[name + " (little-endian)"] = be[::-1]
    with open(keyfile) as f:
        lines = [l.strip() for l in f if l.strip() and not l.startswith("-----")]
    needles["PEM text"] = lines[0].encode()
    found = set()
    with open("/proc/%d/maps" % pid) as maps, open("/proc/%d/mem" % pid, "rb", 0) as mem:
        for line in maps:
            parts = line.split()
            if "r" not in parts[1]:
                continue
            start, end = (int(x, 16) for x in parts[0].split("-"))
            if parts[-1] in ("[vvar]", "[vsyscall]"):
                continue
            # Larger mappings are reservations, such as a sanitizer build's
            # shadow memory (terabytes), not heap; moat-net cannot map them
            # at all (RLIMIT_AS is 1 GiB).
            if end - start > MAX_MAPPING:
                continue
            try:
                mem.seek(start)
                data = mem.read(end - start)
            except (OSError, ValueError):
                continue
            for label, needle in needles.items():
                if label not in found and needle in data:
                    found.add(label)
                    print("found %s in %s" % (label, parts[-1] if len(parts) > 5 else "anonymous"))
    if not found:
        print("none of the key's secrets is in process %d" % pid)
        return 1
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except (OSError, subprocess.CalledProcessError) as e:
        print("error: %s" % e)
        sys.exit(2)
