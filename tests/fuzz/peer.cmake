# The raft peer fuzz target (preamble, c-raft frames, TLS handshake). With
# DR_FUZZ=ON and clang: a libFuzzer binary. Always: the corpus replayed
# under ctest.
set(PEER_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})

add_executable(fuzz_peer_replay ${PEER_FUZZ_DIR}/fuzz_peer.c
	${PEER_FUZZ_DIR}/replay.c)
target_link_libraries(fuzz_peer_replay raftd_lib)
set_target_properties(fuzz_peer_replay PROPERTIES
	RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_test(NAME fuzz.peer.replay
	COMMAND fuzz_peer_replay ${PEER_FUZZ_DIR}/corpus/peer)
set_tests_properties(fuzz.peer.replay PROPERTIES TIMEOUT 120)

if(DR_FUZZ)
	add_executable(fuzz_peer ${PEER_FUZZ_DIR}/fuzz_peer.c)
	target_compile_options(fuzz_peer PRIVATE -fsanitize=fuzzer)
	target_link_options(fuzz_peer PRIVATE -fsanitize=fuzzer)
	target_link_libraries(fuzz_peer raftd_lib)
	set_target_properties(fuzz_peer PROPERTIES
		RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
endif()
