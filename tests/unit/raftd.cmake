# raftd unit tests: the SQLite store and the c-raft state machine glue,
# on temporary databases.
dr_unit_test(test_store test_store.c)
target_link_libraries(test_store raftd_lib)
dr_unit_test(test_fsm test_fsm.c)
target_link_libraries(test_fsm raftd_lib)
# Zone dumps in chunks, each on one snapshot of state.db.
dr_unit_test(test_dumps test_dumps.c)
target_link_libraries(test_dumps raftd_lib)
# Figures for large zone replaces (printed, not asserted).
dr_unit_test(timing_replace timing_replace.c)
target_link_libraries(timing_replace raftd_lib)
set_tests_properties(unit.timing_replace PROPERTIES TIMEOUT 300)
dr_unit_test(test_zones test_zones.c)
target_link_libraries(test_zones raftd_lib)
# The transport's checks of what peers send (frames, preamble).
dr_unit_test(test_frames test_frames.c)
target_link_libraries(test_frames raftd_lib)
dr_unit_test(test_transport test_transport.c)
target_link_libraries(test_transport raftd_lib)
dr_fuzz_target(fuzz_peer peer raftd_lib)
dr_unit_test(test_requests test_requests.c)
target_link_libraries(test_requests raftd_lib)
