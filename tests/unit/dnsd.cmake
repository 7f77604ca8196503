# dnsd: unit tests, the query fuzz target's replay driver, the benchmark.
dr_unit_test(test_packet test_packet.c)
target_link_libraries(test_packet dnsd_lib)
dr_unit_test(test_query test_query.c)
target_link_libraries(test_query dnsd_lib)
dr_unit_test(test_zonedb test_zonedb.c)
target_link_libraries(test_zonedb dnsd_lib)
include(${CMAKE_CURRENT_SOURCE_DIR}/../fuzz/dnsd.cmake)
