"""A linearizability checker for a key-value store of registers.

The model: every key is a register, initially absent (None); set(key, v)
writes v, get(key) returns the value it read (None: absent). A history
is a list of Op, each with the monotonic times of its invocation and of
its completion, and its outcome:

- OK: it happened, between invoke and complete;
- FAIL: it definitely did not happen (dropped from the history);
- UNKNOWN: a write that may have happened at any time after its
  invocation, or never (a timeout, "ERROR timeout, outcome unknown", a
  connection lost after the command was sent): its completion is
  open-ended. A read whose outcome is unknown says nothing and is
  dropped.

Keys are independent registers, so the history is checked key by key
(linearizability is compositional). Each key's history is searched with
the algorithm of Wing & Gong as improved by Lowe (the one Porcupine uses):
a depth-first search over the calls and returns in time order that
linearizes a pending call, backtracks when a return comes whose operation
is not linearized yet, and remembers every (set of linearized operations,
register value) already explored, so no configuration is searched twice.

Two exact reductions keep it fast for thousands of operations, unknown
outcomes included (values are unique, so a read names the write it saw):
- an UNKNOWN write whose value no read returned is dropped: never
  applying it (or applying it after everything else) explains the
  history exactly as well as any other choice, since nobody saw it;
- an UNKNOWN write that a read saw was applied, before that read took
  effect: its open-ended completion is bounded by the earliest
  completion of a read of its value, and it is searched like any other;
- a value is never overwritten while reads of it remain to be placed
  (it could never come back): such branches are cut at once.

check(history) returns a Result; when a key is not linearizable it names
the key, the longest linearizable prefix found and the operations the
search could not place after it (the counter-example).
"""

import collections

OK = "ok"
FAIL = "fail"
UNKNOWN = "unknown"

SET = "set"
GET = "get"


class Op:
    """One operation of a history.

    kind: SET or GET; value: the value written (SET) or read (GET, None
    for absent); invoke/complete: monotonic seconds (complete None for
    UNKNOWN); status: OK, FAIL or UNKNOWN. client, node and note are
    for reports only.
    """

    __slots__ = ("id", "client", "kind", "key", "value", "invoke",
                 "complete", "status", "node", "note")

    def __init__(self, kind, key, value, invoke, complete, status=OK,
                 client=None, node=None, note=None, id=None):
        assert kind in (SET, GET), kind
        assert status in (OK, FAIL, UNKNOWN), status
        self.id = id
        self.client = client
        self.kind = kind
        self.key = key
        self.value = value
        self.invoke = invoke
        self.complete = complete
        self.status = status
        self.node = node
        self.note = note

    def describe(self, t0=0.0):
        end = ("%.3f" % (self.complete - t0) if self.complete is not None
               else "?")
        what = ("set(%s, %r)" % (self.key, self.value) if self.kind == SET
                else "get(%s) -> %r" % (self.key, self.value))
        extra = []
        if self.client is not None:
            extra.append("client %s" % self.client)
        if self.node is not None:
            extra.append("via %s" % self.node)
        if self.note:
            extra.append(str(self.note))
        return "#%s [%.3f, %s] %s %s%s" % (
            self.id, self.invoke - t0, end, what, self.status,
            (" (%s)" % ", ".join(extra)) if extra else "")

    def __repr__(self):
        return "Op(%s)" % self.describe()


class Result:
    """The verdict. ok: True (linearizable), False (not), None (the
    search budget ran out: inconclusive). failures: {key: text}."""

    def __init__(self):
        self.ok = True
        self.failures = {}
        self.inconclusive = {}
        self.keys = 0
        self.ops = 0
        self.steps = 0

    def __bool__(self):
        return self.ok is True

    def report(self):
        if self.ok:
            return "linearizable: %d keys, %d operations, %d steps" % (
                self.keys, self.ops, self.steps)
        out = []
        for key, text in sorted(self.failures.items()):
            out.append("key %s is NOT linearizable:\n%s" % (key, text))
        for key, text in sorted(self.inconclusive.items()):
            out.append("key %s: inconclusive: %s" % (key, text))
        return "\n".join(out)


class _Entry:
    """A call or return event in the doubly linked list of the search."""

    __slots__ = ("op", "idx", "is_call", "time", "match", "prev", "next")

    def __init__(self, op, idx, is_call, time):
        self.op = op
        self.idx = idx
        self.is_call = is_call
        self.time = time
        self.match = None
        self.prev = None
        self.next = None


def _step(state, op, unread):
    """(legal, new state) of op applied to register value state. unread:
    {value: reads of it not linearized yet}. Overwriting a value that
    reads still have to return is a dead end (values are unique and each
    write takes effect once: it will never be back), so it is refused
    here rather than found out later."""
    if op.kind == SET:
        return not unread.get(state), op.value
    return op.value == state, state


def _lift(e):
    e.prev.next = e.next
    if e.next is not None:
        e.next.prev = e.prev
    m = e.match
    if m is not None:
        m.prev.next = m.next
        if m.next is not None:
            m.next.prev = m.prev


def _unlift(e):
    m = e.match
    if m is not None:
        m.prev.next = m
        if m.next is not None:
            m.next.prev = m
    e.prev.next = e
    if e.next is not None:
        e.next.prev = e


def prepare(ops):
    """The operations the search must consider: FAIL ones and UNKNOWN
    reads dropped, UNKNOWN writes no read saw dropped, and every other
    UNKNOWN write given a completion: the earliest completion of a read
    that returned its value (it took effect before that read did, so this
    bound loses nothing; values are unique). Returns a new list; the ops
    given a completion are copies."""
    first_read = {}
    for op in ops:
        if op.kind == GET and op.status == OK:
            t = first_read.get(op.value)
            if t is None or op.complete < t[0]:
                first_read[op.value] = (op.complete, op)
    out = []
    for op in ops:
        if op.status == FAIL:
            continue
        if op.status == UNKNOWN:
            if op.kind == GET or op.value not in first_read:
                continue
            t, rd = first_read[op.value]
            op = Op(op.kind, op.key, op.value, op.invoke, t, UNKNOWN,
                    client=op.client, node=op.node, id=op.id,
                    note="outcome unknown, read by #%s: in effect before "
                    "that read completed%s" % (
                        rd.id, "; " + op.note if op.note else ""))
        else:
            assert op.complete is not None, op
            assert op.complete >= op.invoke, op
        out.append(op)
    return out


def check_key(ops, initial=None, max_steps=5_000_000):
    """Checks the operations of one key. Returns (True, None, steps),
    (False, counter-example text, steps) or (None, why, steps)."""
    given = ops
    ops = prepare(ops)
    if not ops:
        return True, None, 0
    events = []
    for i, op in enumerate(ops):
        c = _Entry(op, i, True, op.invoke)
        events.append(c)
        if op.complete is not None:
            r = _Entry(op, i, False, op.complete)
            c.match = r
            events.append(r)
    # Time order; at equal times calls first (the operations then
    # overlap: the lenient reading of a tie).
    events.sort(key=lambda e: (e.time, 0 if e.is_call else 1))
    head = _Entry(None, -1, False, float("-inf"))
    prev = head
    for e in events:
        prev.next = e
        e.prev = prev
        prev = e

    state = initial
    unread = collections.Counter(op.value for op in ops if op.kind == GET)
    linearized = 0  # bitset of op indexes
    cache = set()
    stack = []  # (call entry, state before it)
    order = []  # the linearization so far: (op, state after)
    best = ([], None)  # the longest prefix and where it got stuck
    steps = 0
    entry = head.next
    while entry is not None:
        steps += 1
        if steps > max_steps:
            return None, ("search budget of %d steps exhausted "
                          "(%d operations)" % (max_steps, len(ops))), steps
        if entry.is_call:
            legal, new = _step(state, entry.op, unread)
            if legal:
                bits = linearized | (1 << entry.idx)
                k = (bits, new)
                if k not in cache:
                    cache.add(k)
                    stack.append((entry, state))
                    order.append((entry.op, new))
                    state = new
                    linearized = bits
                    if entry.op.kind == GET:
                        unread[entry.op.value] -= 1
                    _lift(entry)
                    entry = head.next
                    continue
            entry = entry.next
        else:
            # A return whose operation is not linearized: every choice
            # so far fails here.
            if len(order) >= len(best[0]) and (
                    best[1] is None or len(order) > len(best[0])):
                best = (list(order), (entry, state))
            if not stack:
                return False, _counter_example(ops, best, given), steps
            top, state = stack.pop()
            order.pop()
            linearized &= ~(1 << top.idx)
            if top.op.kind == GET:
                unread[top.op.value] += 1
            _unlift(top)
            entry = top.next
    return True, None, steps


def _counter_example(ops, best, given, context=8):
    prefix, (stuck, state) = best
    t0 = min(op.invoke for op in ops)
    lines = []
    if prefix:
        lines.append("  longest linearizable prefix: %d of %d operations; "
                     "its last ones:" % (len(prefix), len(ops)))
        for op, after in prefix[-context:]:
            lines.append("    %s  => %r" % (op.describe(t0), after))
    else:
        lines.append("  no operation can be linearized first")
    lines.append("  register value then: %r" % (state,))
    lines.append("  cannot linearize before its return:")
    lines.append("    %s" % stuck.op.describe(t0))
    done = {id(op) for op, _ in prefix}
    later = [op for op in ops if op.kind == GET and op.value == state and
             id(op) not in done]
    if stuck.op.kind == SET and later:
        lines.append("  it would overwrite %r, which these reads not placed "
                     "yet return (stale reads, or a lost write):"
                     % (state,))
        lines += ["    %s" % op.describe(t0) for op in later[:context]]
    pending = [op for op in ops if id(op) not in done and
               op.invoke <= stuck.time and op is not stuck.op]
    if pending:
        lines.append("  other operations invoked by then, not linearized "
                     "(%d; the first %d):" % (len(pending), context))
        for op in pending[:context]:
            lines.append("    %s" % op.describe(t0))
    writes = [op for op in ops if op.kind == SET and op.status == OK and
              op.complete < stuck.op.invoke]
    if stuck.op.kind == GET and writes:
        lines.append("  acknowledged writes completed before it was "
                     "invoked (the last %d):" % min(context, len(writes)))
        for op in sorted(writes, key=lambda o: o.complete)[-context:]:
            lines.append("    %s" % op.describe(t0))
    src = [op for op in ops if op.kind == SET and stuck.op.kind == GET and
           op.value == stuck.op.value]
    if stuck.op.kind == GET and stuck.op.value is not None:
        if src:
            lines.append("  the write of the value read:")
            lines += ["    %s" % op.describe(t0) for op in src]
        else:
            dropped = [op for op in given if op.kind == SET and
                       op.value == stuck.op.value]
            if dropped:
                lines.append("  the value read is only written by a "
                             "write that failed (so did not happen):")
                lines += ["    %s" % op.describe(t0) for op in dropped]
            else:
                lines.append("  no write of the value read is in the "
                             "history")
    return "\n".join(lines)


def check(history, max_steps=5_000_000):
    """Checks a whole history (Ops of any keys). Ops get ids (their
    position) if they have none. Returns a Result."""
    res = Result()
    by_key = collections.OrderedDict()
    for i, op in enumerate(history):
        if op.id is None:
            op.id = i
        by_key.setdefault(op.key, []).append(op)
    res.keys = len(by_key)
    res.ops = len(history)
    for key, ops in by_key.items():
        ok, text, steps = check_key(ops, max_steps=max_steps)
        res.steps += steps
        if ok is False:
            res.ok = False
            res.failures[key] = text
        elif ok is None:
            if res.ok:
                res.ok = None
            res.inconclusive[key] = text
    return res
