# ctld's line, command and zone-replace parsing. With DR_FUZZ=ON and
# clang: a libFuzzer binary. Always: the corpus replayed under ctest.
set(CTL_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})

add_executable(fuzz_ctl_replay ${CTL_FUZZ_DIR}/fuzz_ctl.c
	${CTL_FUZZ_DIR}/replay.c)
target_link_libraries(fuzz_ctl_replay ctld_lib)
set_target_properties(fuzz_ctl_replay PROPERTIES
	RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_test(NAME fuzz.ctl.replay
	COMMAND fuzz_ctl_replay ${CTL_FUZZ_DIR}/corpus/ctl)
set_tests_properties(fuzz.ctl.replay PROPERTIES TIMEOUT 120)

if(DR_FUZZ)
	add_executable(fuzz_ctl ${CTL_FUZZ_DIR}/fuzz_ctl.c)
	target_compile_options(fuzz_ctl PRIVATE -fsanitize=fuzzer)
	target_link_options(fuzz_ctl PRIVATE -fsanitize=fuzzer)
	target_link_libraries(fuzz_ctl ctld_lib)
	set_target_properties(fuzz_ctl PROPERTIES
		RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
endif()
