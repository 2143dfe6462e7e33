#!/usr/bin/env python3
# summarize.py - bench/'s table: reads run.sh's results.tsv (round, server,
# test, encoding, key=value pairs), takes the median over rounds of every
# metric and prints one markdown table with each server's value, moat's
# ratio to the best peer and, when moat_inproc ran, moat's ratio to it;
# then the cost of the privilege separation: moat's CPU over moat_inproc's
# (moat without the separation) against the goal "<= 3 %". Runs on the
# benchmark host; trusts the file it is given to be run.sh's (unparseable
# fields are shown as "-").

import shlex
import statistics
import sys
from collections import defaultdict

PEERS = ["x0vncserver", "Xvnc", "x11vnc", "Xvnc_tls"]
# moat built without its privilege separation (moatd-inprocess): not a peer,
# the baseline of what the separation costs.
INPROC = "moat_inproc"
PRIVSEP_GOAL = 0.03	# "privilege separation costs <= 3 % CPU"
# The CPU rows the separation's cost is read from: per frame, per connection.
PRIVSEP_KEYS = ("cpu_ms_per_update", "cpu_ms_per_conn")

# (label, test, encoding, key, scale, higher_is_better, goal text)
ROWS = [
    ("Static full frames/s, Raw", "static", "raw", "ups", 1, True, ""),
    ("Static full frames/s, ZRLE", "static", "zrle", "ups", 1, True, ">= 25"),
    ("Static full frames/s, Tight lossless", "static", "tight", "ups", 1, True, ""),
    ("Static full frames/s, Tight q8", "static", "tightq8", "ups", 1, True, ">= 65"),
    ("KB/frame, Raw", "static", "raw", "kb_per_update", 1, False, ""),
    ("KB/frame, ZRLE", "static", "zrle", "kb_per_update", 1, False, "<= 1050"),
    ("KB/frame, Tight lossless", "static", "tight", "kb_per_update", 1, False, ""),
    ("KB/frame, Tight q8", "static", "tightq8", "kb_per_update", 1, False, "<= TigerVNC"),
    ("Server CPU ms/frame, Raw", "static", "raw", "cpu_ms_per_update", 1, False, ""),
    ("Server CPU ms/frame, ZRLE", "static", "zrle", "cpu_ms_per_update", 1, False, ""),
    ("Server CPU ms/frame, Tight lossless", "static", "tight", "cpu_ms_per_update", 1, False, ""),
    ("Server CPU ms/frame, Tight q8", "static", "tightq8", "cpu_ms_per_update", 1, False, "<= 13"),
    ("Request-to-update ms (median), Raw", "static", "raw", "rtu_med", 1, False, ""),
    ("Request-to-update ms (median), ZRLE", "static", "zrle", "rtu_med", 1, False, ""),
    ("Request-to-update ms (median), Tight lossless", "static", "tight", "rtu_med", 1, False, ""),
    ("Request-to-update ms (median), Tight q8", "static", "tightq8", "rtu_med", 1, False, ""),
    ("Full change 30 fps: delivered frames/s, Tight q8", "full30", "tightq8", "ffps", 1, True, "30"),
    ("Full change 30 fps: KB/frame, Tight q8", "full30", "tightq8", "kb_per_ff", 1, False, ""),
    ("Full change 30 fps: CPU ms/update, Tight q8", "full30", "tightq8", "cpu_ms_per_update", 1, False, "<= 15"),
    ("Full change 30 fps: delivered frames/s, ZRLE", "full30", "zrle", "ffps", 1, True, ""),
    ("Full change 30 fps: delivered frames/s, Raw", "full30", "raw", "ffps", 1, True, ""),
    ("Full change 60 fps: delivered frames/s, Tight q8", "full60", "tightq8", "ffps", 1, True, ">= 55"),
    ("Full change 60 fps: CPU ms/update, Tight q8", "full60", "tightq8", "cpu_ms_per_update", 1, False, ""),
    ("Full change 60 fps: request-to-update ms, Tight q8", "full60", "tightq8", "rtu_med", 1, False, ""),
    ("Scroll 60 lines/s: updates/s, Tight q8", "scroll", "tightq8", "ups", 1, True, ">= 58"),
    ("Scroll 60 lines/s: KB/update, Tight q8", "scroll", "tightq8", "kb_per_update", 1, False, "<= 8"),
    ("Scroll 60 lines/s: CPU ms/update, Tight q8", "scroll", "tightq8", "cpu_ms_per_update", 1, False, "<= 8"),
    ("Scroll 60 lines/s: updates/s, ZRLE", "scroll", "zrle", "ups", 1, True, ""),
    ("Input-to-display ms median, Raw", "latency", "raw", "lat_med", 1, False, "<= 1.4"),
    ("Input-to-display ms p95, Raw", "latency", "raw", "lat_p95", 1, False, "<= 2.5"),
    ("Input-to-display ms median, Tight q8", "latency", "tightq8", "lat_med", 1, False, "<= 1.4"),
    ("Input-to-display ms p95, Tight q8", "latency", "tightq8", "lat_p95", 1, False, "<= 2.5"),
    ("Handshake ms: TCP connect to credential prompt (peers: to ServerInit)", "connect", "tightq8", "hs_med", 1, False, "<= 4"),
    ("Login to first full frame ms (Tight q8)", "connect", "tightq8", "first_med", 1, False, "<= 0.8x Xvnc"),
    ("Connections/s (connect+login+first frame+close)", "connect", "tightq8", "cps", 1, True, ""),
    ("Server CPU ms per connection", "connect", "tightq8", "cpu_ms_per_conn", 1, False, "<= 0.8x Xvnc"),
    ("Pss per connection MB (8 clients, Tight q8)", "memory", "tightq8", "pss_kb_per_conn", 1 / 1024, False, "<= 4"),
]


def parse(line):
    out = {}
    try:
        words = shlex.split(line)
    except ValueError:
        return out
    for w in words:
        if "=" in w:
            k, v = w.split("=", 1)
            out[k] = v
    return out


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.2f" % v


def print_privsep(rows):
    """The separation's CPU cost: moat / moat_inproc - 1 per CPU row, against the goal."""
    goal = "<= %.0f %%" % (PRIVSEP_GOAL * 100)
    print("Privilege separation cost: server CPU of moat over moat_inproc (the same "
          "build without the separation: moat-net's code in a thread of its monitor, no "
          "exec, no sandbox, direct calls instead of IPC); goal \"privilege separation "
          "costs %s CPU\".\n" % goal)
    print("| CPU metric | moat | moat_inproc | moat / moat_inproc | separation cost | goal | met? |")
    print("|---|---|---|---|---|---|---|")
    met = 0
    for label, m, b in rows:
        cost = m / b - 1
        ok = cost <= PRIVSEP_GOAL
        met += ok
        print("| %s | %s | %s | %.3f | %+.1f %% | %s | %s |" %
              (label, fmt(m), fmt(b), m / b, cost * 100, goal, "yes" if ok else "no"))
    print()
    print("Privilege separation costs %s CPU: met in %d of %d CPU rows." % (goal, met, len(rows)))
    print()


def main():
    vals = defaultdict(list)	# (server, test, enc, key) -> values
    errors = []
    loads = []
    servers = []
    rounds = set()
    with open(sys.argv[1]) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 5:
                continue
            rnd, server, test, enc, kv = parts
            d = parse(kv)
            if server == "-":
                loads.append("round %s %s: %s" % (rnd, test, d.get("load", "?")))
                continue
            rounds.add(rnd)
            if server not in servers:
                servers.append(server)
            if "error" in d:
                errors.append("round %s %s %s %s: %s" % (rnd, server, test, enc, d["error"]))
                continue
            for k, v in d.items():
                try:
                    vals[(server, test, enc, k)].append(float(v))
                except ValueError:
                    pass
    tls = "Xvnc_tls" in servers and "moat" in servers
    inproc = INPROC in servers and "moat" in servers
    print("| metric | goal | " + " | ".join(servers) + " | moat / best peer |" +
          (" moat / Xvnc_tls |" if tls else "") + (" moat / moat_inproc |" if inproc else ""))
    print("|---|---|" + "---|" * len(servers) + "---|" + ("---|" if tls else "") +
          ("---|" if inproc else ""))
    privsep = []	# (label, moat, moat_inproc) of the CPU rows
    for label, test, enc, key, scale, higher, goal in ROWS:
        cells = {}
        for s in servers:
            v = vals.get((s, test, enc, key))
            cells[s] = statistics.median(v) * scale if v else None
        if all(c is None for c in cells.values()):
            continue
        peers = [cells[s] for s in servers if s in PEERS and cells[s] is not None]
        if not higher:
            peers = [p for p in peers if p > 0] or peers
        best = None
        if peers:
            best = max(peers) if higher else min(peers)
        ratio = "-"
        # A ratio needs a positive best value (Pss deltas can be noise below 0).
        if cells.get("moat") is not None and best is not None and best > 0:
            ratio = "%.2f" % (cells["moat"] / best)
        line = "| %s | %s | %s | %s |" % (label, goal or "", " | ".join(fmt(cells[s]) for s in servers), ratio)
        if tls:
            r2 = "-"
            if cells.get("moat") is not None and cells.get("Xvnc_tls"):
                r2 = "%.2f" % (cells["moat"] / cells["Xvnc_tls"])
            line += " %s |" % r2
        if inproc:
            r3 = "-"
            if cells.get("moat") is not None and cells.get(INPROC):
                r3 = "%.3f" % (cells["moat"] / cells[INPROC])
            line += " %s |" % r3
            if key in PRIVSEP_KEYS and cells.get("moat") is not None and cells.get(INPROC):
                privsep.append((label, cells["moat"], cells[INPROC]))
        print(line)
    print()
    if privsep:
        print_privsep(privsep)
    print("Medians over %d round(s). Higher is better for frames/s, updates/s and connections/s; "
          "lower for the rest. Load average (1/5/15 min): %s." % (len(rounds), "; ".join(loads)))
    for (s, t, e, k), v in sorted(vals.items()):
        if len(v) > 1 and k in ("ups", "ffps", "lat_med", "cpu_ms_per_update") and min(v) > 0:
            spread = (max(v) - min(v)) / statistics.median(v)
            if spread > 0.3:
                print("- spread over rounds above 30 %%: %s %s %s %s: %s" % (s, t, e, k, ", ".join(fmt(x) for x in v)))
    for e in errors:
        print("- error: " + e)


if __name__ == "__main__":
    main()
