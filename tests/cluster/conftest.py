"""pytest glue for the cluster tests: fixtures and log dumps.

Every test has a deadline from Debian's pytest-timeout (python3-pytest-
timeout): 120 s by default (tests.cmake passes --timeout), or
@pytest.mark.timeout(S); teardown always runs and kills every node the
test started. When a test fails, the tail of each node's log is attached
to the report.
"""

import os
import shutil

import pytest

import drcluster


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
