"""pytest glue for the cluster tests: fixtures, per-test timeouts, log dumps.

Every test gets a SIGALRM deadline (default 120 s, @pytest.mark.timeout(S)
to change it) covering its setup and body; teardown always runs and kills
every node the test started. When a test fails, the tail of each node's
log is attached to the report.
"""

import contextlib
import os
import shutil
import signal

import pytest

import drcluster

DEFAULT_TIMEOUT = 120


class TestTimeout(Exception):
    pass


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "timeout(seconds): per-test deadline (setup + call)")


def _deadline(item):
    m = item.get_closest_marker("timeout")
    return m.args[0] if m else DEFAULT_TIMEOUT


def _on_alarm(signum, frame):
    raise TestTimeout("per-test timeout expired")


@contextlib.contextmanager
def _alarm(item):
    """Arms the per-test deadline for one phase and always disarms it."""
    _with_alarm(item)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)


def _with_alarm(item):
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, _deadline(item))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_setup(item):
    with _alarm(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    with _alarm(item):
        yield


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    rep = outcome.get_result()
    if rep.failed:
        for node in drcluster.ALL_NODES:
            rep.sections.append((
                "log tail of %s (%s)" % (node.name, node.log_path),
                node.log_tail(80)))


@pytest.fixture(scope="session")
def bins():
    """Binary dir; fails (not skips) when a binary is missing."""
    return drcluster.bin_dir()


def _cluster_cm(bins, request):
    c = drcluster.Cluster()
    yield c
    c.cleanup()
    # A daemon that crashed was restarted by its supervisor, and the test
    # may still have passed: the logs tell (sanitizer reports, crashes).
    bad = []
    for node in c.nodes:
        bad += ["%s: %s" % (node.name, ln) for ln in node.crash_lines()]
    # Keep the data dirs and logs of a failed run for a post-mortem.
    if (bad or request.session.testsfailed or
            os.environ.get("DR_KEEP_TMP")):
        print("\nkept %s" % c.base_dir)
    else:
        shutil.rmtree(c.base_dir, ignore_errors=True)
    assert not bad, "crash or sanitizer report in node logs:\n" + \
        "\n".join(bad[:20])


@pytest.fixture
def cluster(bins, request):
    """An empty Cluster (add/start nodes in the test); killed at the end."""
    yield from _cluster_cm(bins, request)


@pytest.fixture(scope="module")
def module_cluster(bins, request):
    """An empty Cluster shared by the tests of one module."""
    yield from _cluster_cm(bins, request)
