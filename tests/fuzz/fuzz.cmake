# Fuzz targets. dr_fuzz_target(NAME CORPUS LIB) builds NAME.c against LIB:
# with DR_FUZZ=ON and clang, the libFuzzer binary NAME (not a test); always,
# NAME_replay, which ctest runs over corpus/CORPUS as fuzz.CORPUS.replay
# (Knot's tests-fuzz: the corpus is replayed without libFuzzer).
set(DR_FUZZ_DIR ${CMAKE_CURRENT_LIST_DIR})
if(DR_FUZZ AND NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
	message(FATAL_ERROR "DR_FUZZ needs clang (-DCMAKE_C_COMPILER=clang)")
endif()

function(dr_fuzz_target name corpus lib)
	add_executable(${name}_replay ${DR_FUZZ_DIR}/${name}.c
		${DR_FUZZ_DIR}/replay.c)
	set(bins ${name}_replay)
	if(DR_FUZZ)
		add_executable(${name} ${DR_FUZZ_DIR}/${name}.c)
		target_compile_options(${name} PRIVATE -fsanitize=fuzzer)
		target_link_options(${name} PRIVATE -fsanitize=fuzzer)
		list(APPEND bins ${name})
	endif()
	foreach(b IN LISTS bins)
		# Unit-test headers (dnsd_testzone.h) are in tests/unit.
		target_include_directories(${b} PRIVATE
			${CMAKE_CURRENT_SOURCE_DIR})
		target_link_libraries(${b} ${lib})
		set_target_properties(${b} PROPERTIES
			RUNTIME_OUTPUT_DIRECTORY ${CMAKE_BINARY_DIR}/tests)
	endforeach()
	add_test(NAME fuzz.${corpus}.replay
		COMMAND ${name}_replay ${DR_FUZZ_DIR}/corpus/${corpus})
	set_tests_properties(fuzz.${corpus}.replay PROPERTIES TIMEOUT 120)
endfunction()
