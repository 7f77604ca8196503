# dnsd's query-path fuzz target. With DR_FUZZ=ON and clang: a libFuzzer
# binary (not a test). Always: a replay driver running the corpus under ctest.
set(DNSD_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})

add_executable(fuzz_query_replay ${DNSD_FUZZ_DIR}/fuzz_query.c
	${DNSD_FUZZ_DIR}/replay.c)
target_include_directories(fuzz_query_replay PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
target_link_libraries(fuzz_query_replay dnsd_lib)
set_target_properties(fuzz_query_replay PROPERTIES
	RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
add_test(NAME fuzz.query.replay
	COMMAND fuzz_query_replay ${DNSD_FUZZ_DIR}/corpus/query)
set_tests_properties(fuzz.query.replay PROPERTIES TIMEOUT 120)

if(DR_FUZZ)
	if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
		message(FATAL_ERROR "DR_FUZZ needs clang (-DCMAKE_C_COMPILER=clang)")
	endif()
	add_executable(fuzz_query ${DNSD_FUZZ_DIR}/fuzz_query.c)
	target_include_directories(fuzz_query PRIVATE ${CMAKE_CURRENT_SOURCE_DIR})
	target_compile_options(fuzz_query PRIVATE -fsanitize=fuzzer)
	target_link_options(fuzz_query PRIVATE -fsanitize=fuzzer)
	target_link_libraries(fuzz_query dnsd_lib)
	set_target_properties(fuzz_query PROPERTIES
		RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
endif()
