"""Run orders for bench/run.py in which every tool follows every other tool equally often.

Why: a tool's time depends on what the disk did just before it (on the bench machine, a download
right after another tool wrote and deleted 1 GiB took 2-3x longer than one after its own run).
With a plain rotation each tool has one fixed predecessor, so the table mixes "tool" with "what ran
before".

Scheme "balanced" (the default): the runs of one phase form a single chain (each run's predecessor
is the run just before it, across round boundaries too). With N tools, take M = N slots if N is odd,
or M = N + 1 slots if N is even, the extra slot being "(idle)" (nothing measured: only the same
delete + sync every run gets, then a pause). M is odd, so the complete graph on M slots splits into
(M - 1) / 2 Hamiltonian cycles (Walecki's construction); walking each in both directions gives
M - 1 directed Hamiltonian cycles that together use every ordered pair (a, b), a != b, exactly once.
Round r walks cycle r mod (M - 1) starting from the same anchor slot (the idle slot, or the first
tool), so the arc closing cycle r is the step from round r's last run into round r + 1's first.
When the anchor is a real tool, an untimed lead-in run of the tool that ends the last cycle comes
first, so that the very first timed run has its predecessor too. Hence over every M - 1 consecutive
rounds each tool runs once per round and follows every other tool (and the idle slot) exactly once.
With a number of rounds that is not a multiple of M - 1 the counts differ by at most one.

Scheme "rotate": the old order (round r is the tool list rotated by r - 1).
Scheme "random": a random permutation per round (seeded; never a tool right after itself across
a round boundary); balanced only on average.
"""

import random

IDLE = "(idle)"


def walecki_cycles(m_slots):
    """M - 1 directed Hamiltonian cycles on slots 0..M-1 (M odd), each starting at slot 0, that
    together use every ordered pair exactly once. Slot 0 is Walecki's "infinity" vertex."""
    assert m_slots % 2 == 1 and m_slots >= 1
    if m_slots == 1:
        return []
    half = (m_slots - 1) // 2  # m: the cycles of the undirected decomposition
    ring = 2 * half            # vertices 1..2m are Z_2m shifted by one
    cycles = []
    for k in range(half):
        seq = [k]
        for i in range(1, half + 1):
            seq.append((k + i) % ring)
            if i < half:
                seq.append((k - i) % ring)
        # seq is k, k+1, k-1, k+2, k-2, ..., k+m: a zigzag through all of Z_2m
        path = [0] + [v + 1 for v in seq]
        cycles.append(path)
        cycles.append([0] + list(reversed(path[1:])))
    return cycles


def schedule(tools, rounds, scheme="balanced", seed=0):
    """Returns (lead_in, rounds_list): lead_in is None or a tool run untimed before round 1;
    rounds_list[r] is the list of slots of round r + 1 (tools, and IDLE for the idle slot)."""
    tools = list(tools)
    n = len(tools)
    if n == 0 or rounds <= 0:
        return None, []
    if scheme == "rotate":
        return None, [tools[(r % n):] + tools[:(r % n)] for r in range(rounds)]
    if scheme == "random":
        rng = random.Random(seed)
        out = []
        for _ in range(rounds):
            p = tools[:]
            rng.shuffle(p)
            if out and n > 1 and p[0] == out[-1][-1]:  # no tool right after itself
                p[0], p[-1] = p[-1], p[0]
            out.append(p)
        return None, out
    if scheme != "balanced":
        raise ValueError(f"unknown order scheme {scheme!r} (balanced, rotate, random)")
    slots = [IDLE] + tools if n % 2 == 0 else tools
    cycles = walecki_cycles(len(slots))
    if not cycles:  # a single tool
        return None, [[tools[0]] for _ in range(rounds)]
    out = [[slots[i] for i in cycles[r % len(cycles)]] for r in range(rounds)]
    lead_in = None
    if slots[0] != IDLE:
        lead_in = slots[cycles[-1][-1]]
    return lead_in, out


def predecessors(lead_in, rounds_list):
    """{(predecessor, tool): count} over the timed runs (IDLE runs are not timed, but they are a
    predecessor). The first run's predecessor is the lead-in, or "(start)" without one."""
    counts = {}
    prev = lead_in if lead_in is not None else "(start)"
    for rnd in rounds_list:
        for slot in rnd:
            if slot != IDLE:
                counts[(prev, slot)] = counts.get((prev, slot), 0) + 1
            prev = slot
    return counts


def balance(tools, lead_in, rounds_list):
    """(is_exact, min, max) of how often each tool follows each other tool."""
    counts = predecessors(lead_in, rounds_list)
    preds = list(tools) + ([IDLE] if any(IDLE in r for r in rounds_list) else [])
    vals = [counts.get((p, t), 0) for t in tools for p in preds if p != t]
    if not vals:
        return True, 0, 0
    return min(vals) == max(vals) and "(start)" not in {p for p, _ in counts}, min(vals), max(vals)


def full_cycle(n_tools):
    """Rounds needed for exact balance with the balanced scheme."""
    m = n_tools if n_tools % 2 == 1 else n_tools + 1
    return max(1, m - 1)


def self_check(max_tools=40):
    """Checks the balanced scheme for 1..max_tools tools over one and two full cycles: every round
    is a permutation of the tools (plus at most one IDLE), every ordered pair of distinct tools
    is adjacent equally often, and no tool follows itself. Returns a list of failures."""
    failures = []
    for n in range(1, max_tools + 1):
        tools = [f"t{i}" for i in range(n)]
        for mult in (1, 2):
            rounds = full_cycle(n) * mult
            lead, sched = schedule(tools, rounds)
            for r in sched:
                real = [s for s in r if s != IDLE]
                if sorted(real) != sorted(tools) or len(r) - len(real) > (1 if n % 2 == 0 else 0):
                    failures.append(f"n={n}: round {r} is not a permutation")
                    break
            counts = predecessors(lead, sched)
            if n > 1 and any(p == t for p, t in counts):
                failures.append(f"n={n}: a tool follows itself")
            if n > 1:
                exact, lo, hi = balance(tools, lead, sched)
                if not exact or lo != mult:
                    failures.append(f"n={n} x{mult}: predecessor counts {lo}..{hi}, expected all {mult}")
    return failures


def format_matrix(tools, lead_in, rounds_list, width=None):
    """A text table: rows = tool, columns = predecessor, cells = count."""
    counts = predecessors(lead_in, rounds_list)
    preds = list(tools) + ([IDLE] if any(IDLE in r for r in rounds_list) else [])
    if "(start)" in {p for p, _ in counts}:
        preds.append("(start)")
    w = width or max(len(t) for t in list(tools) + preds) + 1
    abbrev = {p: f"p{i}" for i, p in enumerate(preds)}
    lines = ["predecessor columns: " + ", ".join(f"{abbrev[p]}={p}" for p in preds),
             f"{'tool':<{w}}" + "".join(f"{abbrev[p]:>4}" for p in preds)]
    for t in tools:
        lines.append(f"{t:<{w}}" + "".join(f"{('-' if p == t else counts.get((p, t), 0)):>4}" for p in preds))
    return "\n".join(lines)
