# ctld unit tests: framing, the command table, and the server end to end
# against a fake raftd in the same process.
dr_unit_test(test_ctl_line test_ctl_line.c)
target_link_libraries(test_ctl_line ctld_lib)
dr_unit_test(test_ctl_commands test_ctl_commands.c)
target_link_libraries(test_ctl_commands ctld_lib)
dr_unit_test(test_ctl_server test_ctl_server.c)
target_link_libraries(test_ctl_server ctld_lib)
dr_fuzz_target(fuzz_ctl ctl ctld_lib)
