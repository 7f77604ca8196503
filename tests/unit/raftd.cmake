# raftd unit tests: the SQLite store and the c-raft state machine glue,
# on temporary databases.
dr_unit_test(test_store test_store.c)
target_link_libraries(test_store raftd_lib)
dr_unit_test(test_fsm test_fsm.c)
target_link_libraries(test_fsm raftd_lib)
