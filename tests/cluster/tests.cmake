# Cluster tests: each test_*.py runs the real binaries on 127.0.0.1 under
# Debian's pytest (never the python3 first on PATH) as its own ctest test.
# dns_* need dnsd; knot_diff needs knotd (Debian package knot, in .ci/deps);
# systemd installs into a temp prefix and needs systemd-analyze (systemd).
# netns, loopback_only, keyed_cluster and one test of ack run nodes in
# network namespaces of their own (tests/cluster/netns.py): they need root
# and iproute2, and fail (never skip) without them.
# linearize checks the linearizability checker of the nemesis suite;
# nemesis (Jepsen-style: kill -9, SIGSTOP, partitions with nftables in the
# namespaces, then linearizability and convergence checks) runs two chaos
# runs of DR_NEMESIS_SECONDS (default 70) each: about 3 minutes, longer
# under ASan, hence its own timeout; label nemesis (ctest -LE nemesis
# leaves it out).
set(DR_CLUSTER_TESTS
	kv
	failover
	snapshot
	supervisor
	restart
	badinput
	knot_diff
	dns_serve
	dns_reload
	dns_failover
	dns_resync
	dns_abuse
	readme
	status
	check
	systemd
	ctl_auth
	peer_tls
	ctl_limits
	keys
	netns
	loopback_only
	keyed_cluster
	ctl_attacker
	ctl_remote
	ack
	ctl_pipeline
	linearize
)
foreach(t IN LISTS DR_CLUSTER_TESTS)
	add_test(NAME cluster.${t}
		COMMAND /usr/bin/python3 -m pytest -q -x -p no:cacheprovider
			--timeout=120 --timeout-method=signal
			${CMAKE_CURRENT_SOURCE_DIR}/test_${t}.py)
	set_tests_properties(cluster.${t} PROPERTIES
		ENVIRONMENT "DR_BIN_DIR=${CMAKE_BINARY_DIR}/bin;DR_BUILD_DIR=${CMAKE_BINARY_DIR};PYTHONDONTWRITEBYTECODE=1"
		TIMEOUT 300
		LABELS cluster)
endforeach()

add_test(NAME cluster.nemesis
	COMMAND /usr/bin/python3 -m pytest -q -p no:cacheprovider
		--timeout=600 --timeout-method=signal
		${CMAKE_CURRENT_SOURCE_DIR}/test_nemesis.py)
set_tests_properties(cluster.nemesis PROPERTIES
	ENVIRONMENT "DR_BIN_DIR=${CMAKE_BINARY_DIR}/bin;DR_BUILD_DIR=${CMAKE_BINARY_DIR};PYTHONDONTWRITEBYTECODE=1"
	TIMEOUT 1200
	LABELS "cluster;nemesis")
