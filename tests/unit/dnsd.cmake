# dnsd: unit tests, the query fuzz target's replay driver, the benchmark.
dr_unit_test(test_packet test_packet.c)
target_link_libraries(test_packet dnsd_lib)
dr_unit_test(test_query test_query.c)
target_link_libraries(test_query dnsd_lib)
dr_unit_test(test_zonedb test_zonedb.c)
target_link_libraries(test_zonedb dnsd_lib)
dr_fuzz_target(fuzz_query query dnsd_lib)

# Figures, not a test: tests/bench/dnsd_bench [N].
add_executable(dnsd_bench ${CMAKE_CURRENT_SOURCE_DIR}/../bench/dnsd_bench.c)
target_link_libraries(dnsd_bench dnsd_lib)
set_target_properties(dnsd_bench PROPERTIES
	RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)

# dnsd daemon modules: the feed (state.db baseline, stream, resync) and the
# UDP/TCP listeners.
dr_unit_test(test_dnsd_feed test_dnsd_feed.c)
target_link_libraries(test_dnsd_feed dnsd_lib)
dr_unit_test(test_dnsd_listen test_dnsd_listen.c)
target_link_libraries(test_dnsd_listen dnsd_lib)

# Abuse resistance: client addresses, response rate limiting, DNS cookies.
dr_unit_test(test_dnsd_addr test_dnsd_addr.c)
target_link_libraries(test_dnsd_addr dnsd_lib)
dr_unit_test(test_dnsd_rrl test_dnsd_rrl.c)
target_link_libraries(test_dnsd_rrl dnsd_lib)
dr_unit_test(test_dnsd_cookie test_dnsd_cookie.c)
target_link_libraries(test_dnsd_cookie dnsd_lib)
