"""The linearizability checker (linearize.py) on its own: hand-made
histories with known verdicts, and thousands of operations generated from
a simulated register (linearizable by construction), then mutated into
histories that cannot be."""

import random
import time

import pytest

import linearize
from linearize import FAIL, GET, OK, SET, UNKNOWN, Op


def s(key, value, t0, t1, status=OK, client=None):
    return Op(SET, key, value, t0, t1 if status != UNKNOWN else None,
              status, client=client)


def g(key, value, t0, t1, status=OK, client=None):
    return Op(GET, key, value, t0, t1 if status != UNKNOWN else None,
              status, client=client)


def verdict(history):
    return linearize.check(history)


def test_empty_and_sequential():
    assert verdict([])
    assert verdict([g("k", None, 0, 1)])
    assert verdict([s("k", "a", 0, 1), g("k", "a", 2, 3),
                    s("k", "b", 4, 5), g("k", "b", 6, 7)])


def test_stale_read_fails_with_counter_example():
    h = [s("k", "a", 0, 1), s("k", "b", 2, 3), g("k", "a", 4, 5)]
    r = verdict(h)
    assert r.ok is False
    text = r.report()
    assert "key k is NOT linearizable" in text
    assert "get(k) -> 'a'" in text and "cannot linearize" in text
    assert "set(k, 'b')" in text  # the acknowledged overwrite


def test_read_of_nothing_written_fails():
    r = verdict([s("k", "a", 0, 1), g("k", "zz", 2, 3)])
    assert r.ok is False
    assert "no write of the value read" in r.report()


def test_read_from_the_future_fails():
    assert verdict([g("k", "a", 0, 1), s("k", "a", 2, 3)]).ok is False


def test_initial_absent_then_lost():
    # A read of "absent" after an acknowledged write: the write is lost.
    assert verdict([s("k", "a", 0, 1), g("k", None, 2, 3)]).ok is False
    assert verdict([g("k", None, 0, 3), s("k", "a", 1, 2)])


def test_lost_write():
    # b was acknowledged after a; the final read returns a.
    h = [s("k", "a", 0, 1), s("k", "b", 1.5, 2), g("k", "a", 3, 4)]
    assert verdict(h).ok is False


def test_concurrent_overlaps():
    # Writes a and b overlap; reads may see either order, but not both
    # orders at once.
    w = [s("k", "a", 0, 10), s("k", "b", 0, 10)]
    assert verdict(w + [g("k", "a", 1, 2), g("k", "b", 3, 4)])
    assert verdict(w + [g("k", "b", 1, 2), g("k", "a", 3, 4)])
    assert verdict(w + [g("k", "b", 11, 12)])
    assert verdict(w + [g("k", "a", 1, 2), g("k", "b", 3, 4),
                        g("k", "a", 5, 6)]).ok is False
    # A read overlapping a write sees old or new.
    assert verdict([s("k", "a", 0, 1), s("k", "b", 2, 5),
                    g("k", "a", 3, 4)])
    assert verdict([s("k", "a", 0, 1), s("k", "b", 2, 5),
                    g("k", "b", 3, 4)])
    # Two reads in sequence inside the write: new then old is not.
    assert verdict([s("k", "a", 0, 1), s("k", "b", 2, 9),
                    g("k", "b", 3, 4), g("k", "a", 5, 6)]).ok is False


def test_equal_times_overlap():
    assert verdict([s("k", "a", 0, 1), g("k", "a", 1, 2)])
    assert verdict([g("k", "a", 0, 1), s("k", "a", 1, 2)])


def test_unknown_writes():
    # Maybe applied, at any time after its invocation, however late.
    assert verdict([s("k", "a", 0, 1), s("k", "b", 2, None, UNKNOWN),
                    g("k", "a", 3, 4), g("k", "b", 100, 101),
                    g("k", "b", 200, 201)])
    # Or never.
    assert verdict([s("k", "a", 0, 1), s("k", "b", 2, None, UNKNOWN),
                    g("k", "a", 300, 301)])
    # Never before its invocation.
    assert verdict([g("k", "b", 0, 1),
                    s("k", "b", 2, None, UNKNOWN)]).ok is False
    # Applied once: not back after being overwritten.
    assert verdict([s("k", "b", 0, None, UNKNOWN), g("k", "b", 1, 2),
                    s("k", "c", 3, 4), g("k", "b", 5, 6)]).ok is False
    # An unknown read says nothing.
    assert verdict([s("k", "a", 0, 1), g("k", "zz", 2, None, UNKNOWN)])


def test_failed_writes_never_happened():
    h = [s("k", "a", 0, 1), s("k", "b", 2, 3, FAIL), g("k", "b", 4, 5)]
    r = verdict(h)
    assert r.ok is False and "did not happen" in r.report()
    assert "set(k, 'b') fail" in r.report()
    assert verdict([s("k", "a", 0, 1), s("k", "b", 2, 3, FAIL),
                    g("k", "a", 4, 5)])


def test_keys_are_independent():
    h = [s("x", "a", 0, 1), s("y", "b", 0, 1), g("x", "a", 2, 3),
         g("y", "b", 2, 3), g("y", "a", 4, 5)]
    r = verdict(h)
    assert r.ok is False and set(r.failures) == {"y"}


def test_budget_is_inconclusive_not_a_pass():
    h = [s("k", "v%d" % i, 0, 100) for i in range(12)]
    h += [g("k", "v%d" % i, 101 + i, 101.5 + i) for i in (3, 1)]
    r = linearize.check(h, max_steps=50)
    assert r.ok is None and not r and "budget" in r.report()
    assert linearize.check(h).ok is False


# --------------------------------------------------------------------------
# Generated histories


def simulate(rng, n_ops, clients=8, keys=4, p_set=0.45, p_unknown=0.05,
             p_fail=0.03):
    """A history of a real register: each client runs one operation at a
    time; an operation takes effect at a random instant between its
    invocation and completion (an unknown write: at a random instant
    after its invocation, possibly long after, or never)."""
    t = [rng.random() for _ in range(clients)]
    ops = []
    effects = []  # (instant, op, kind)
    n = 0
    while n < n_ops:
        c = min(range(clients), key=lambda i: t[i])
        start = t[c]
        dur = rng.expovariate(1 / 0.05) + 0.001
        end = start + dur
        key = "k%d" % rng.randrange(keys)
        r = rng.random()
        if r < p_set:
            op = Op(SET, key, "v%d" % n, start, end, OK, client=c)
            u = rng.random()
            if u < p_unknown:
                op.status = UNKNOWN
                op.complete = None
                if rng.random() < 0.6:
                    effects.append((start + rng.random() * dur * 40, op))
            elif u < p_unknown + p_fail:
                op.status = FAIL
            else:
                effects.append((start + rng.random() * dur, op))
        else:
            op = Op(GET, key, None, start, end, OK, client=c)
            effects.append((start + rng.random() * dur, op))
        ops.append(op)
        t[c] = end + rng.expovariate(1 / 0.01)
        n += 1
    reg = {}
    for _, op in sorted(effects, key=lambda e: e[0]):
        if op.kind == SET:
            reg[op.key] = op.value
        else:
            op.value = reg.get(op.key)
    return ops


def strictly_before(a, b):
    return a.complete is not None and a.complete < b.invoke


def stale_mutation(rng, ops):
    """Makes one read return a value two acknowledged writes, one after
    the other, both before the read, had overwritten: never
    linearizable. Returns the read changed, or None."""
    sets = [o for o in ops if o.kind == SET and o.status == OK]
    gets = [o for o in ops if o.kind == GET and o.status == OK]
    rng.shuffle(gets)
    for rd in gets:
        before = [w for w in sets if w.key == rd.key and
                  strictly_before(w, rd)]
        rng.shuffle(before)
        for w1 in before[:20]:
            for w2 in before:
                if strictly_before(w1, w2) and rd.value != w1.value:
                    rd.value = w1.value
                    return rd
    return None


def future_mutation(rng, ops):
    """Makes a read return the value of a write invoked after the read
    completed."""
    gets = [o for o in ops if o.kind == GET and o.status == OK]
    rng.shuffle(gets)
    for rd in gets:
        later = [w for w in ops if w.kind == SET and w.key == rd.key and
                 w.status != FAIL and strictly_before(rd, w)]
        if later:
            rd.value = rng.choice(later).value
            return rd
    return None


def failed_mutation(rng, ops):
    """Makes a read return the value of a write that failed."""
    fails = [o for o in ops if o.kind == SET and o.status == FAIL]
    gets = [o for o in ops if o.kind == GET and o.status == OK]
    rng.shuffle(fails)
    for w in fails:
        for rd in gets:
            if rd.key == w.key:
                rd.value = w.value
                return rd
    return None


@pytest.mark.parametrize("seed", [1, 2, 3, 4, 5])
def test_simulated_histories_pass(seed):
    rng = random.Random(seed)
    ops = simulate(rng, 3000)
    t0 = time.monotonic()
    r = linearize.check(ops)
    took = time.monotonic() - t0
    assert r.ok is True, r.report()
    print("seed %d: %s in %.2f s" % (seed, r.report(), took))


def test_many_unknown_writes_pass():
    rng = random.Random(99)
    ops = simulate(rng, 2000, clients=8, keys=2, p_unknown=0.3)
    assert sum(o.status == UNKNOWN for o in ops) > 100
    r = linearize.check(ops)
    assert r.ok is True, r.report()


def test_single_hot_key_passes():
    rng = random.Random(7)
    ops = simulate(rng, 2000, clients=8, keys=1)
    r = linearize.check(ops)
    assert r.ok is True, r.report()


@pytest.mark.parametrize("seed", range(10, 16))
@pytest.mark.parametrize("mutate", [stale_mutation, future_mutation,
                                    failed_mutation])
def test_mutated_histories_fail(seed, mutate):
    rng = random.Random(seed)
    ops = simulate(rng, 1500)
    rd = mutate(rng, ops)
    assert rd is not None, "no mutation found"
    r = linearize.check(ops)
    assert r.ok is False, "mutated %r but it passed" % rd
    assert rd.key in r.failures
    assert "cannot linearize" in r.failures[rd.key]


def test_big_history_many_clients():
    rng = random.Random(2024)
    ops = simulate(rng, 6000, clients=16, keys=3, p_unknown=0.1)
    r = linearize.check(ops)
    assert r.ok is True, r.report()


# --------------------------------------------------------------------------
# Against brute force: small random histories, either verdict


def brute_force(ops):
    """Linearizable? by trying every order of every subset of the
    unknown writes (and all definite ops)."""
    import itertools
    ops = [o for o in ops if o.status != FAIL and
           not (o.status == UNKNOWN and o.kind == GET)]
    must = [o for o in ops if o.status == OK]
    maybe = [o for o in ops if o.status == UNKNOWN]
    inf = float("inf")

    def end(o):
        return inf if o.complete is None else o.complete

    for k in range(len(maybe) + 1):
        for extra in itertools.combinations(maybe, k):
            for perm in itertools.permutations(must + list(extra)):
                # Real time: no op after one that began after it ended.
                if any(end(perm[j]) < perm[i].invoke
                       for i in range(len(perm))
                       for j in range(i + 1, len(perm))):
                    continue
                reg = {}
                good = True
                for o in perm:
                    if o.kind == SET:
                        reg[o.key] = o.value
                    elif reg.get(o.key) != o.value:
                        good = False
                        break
                if good:
                    return True
    return False


def random_small(rng):
    n = rng.randint(1, 6)
    ops = []
    vals = ["a", "b", "c"]
    for i in range(n):
        t0 = rng.randint(0, 10)
        t1 = t0 + rng.randint(0, 5)
        st = rng.choice([OK, OK, OK, UNKNOWN, FAIL])
        if rng.random() < 0.5:
            ops.append(Op(SET, "k", "w%d" % i, t0,
                          None if st == UNKNOWN else t1, st))
        else:
            v = rng.choice(vals + ["w%d" % j for j in range(n)] + [None])
            ops.append(Op(GET, "k", v, t0, None if st == UNKNOWN else t1,
                          st))
    return ops


def test_agrees_with_brute_force():
    rng = random.Random(5)
    seen = {True: 0, False: 0}
    for _ in range(3000):
        ops = random_small(rng)
        want = brute_force(ops)
        got = linearize.check(ops).ok
        assert got is want, "\n".join(o.describe() for o in ops)
        seen[want] += 1
    assert min(seen.values()) > 300, seen
