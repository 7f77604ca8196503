# Runs at install time (install(SCRIPT)): fills the unit templates with the
# install prefix in effect now, which `cmake --install --prefix` changes,
# and installs them. file(INSTALL) adds $DESTDIR itself: units never name
# the staging directory. DR_UNIT_SOURCES, DR_UNIT_STAGING, DR_BINDIR,
# DR_DOCDIR and DR_UNITDIR come from systemd/CMakeLists.txt.
foreach(dir BINDIR DOCDIR UNITDIR)
	if(IS_ABSOLUTE "${DR_${dir}}")
		set(full_${dir} "${DR_${dir}}")
	else()
		set(full_${dir} "${CMAKE_INSTALL_PREFIX}/${DR_${dir}}")
	endif()
endforeach()
set(CMAKE_INSTALL_FULL_BINDIR "${full_BINDIR}")
set(DR_DOCDIR "${full_DOCDIR}")

foreach(proc raftd dnsd ctld)
	set(unit "dns-raft-${proc}@.service")
	configure_file("${DR_UNIT_SOURCES}/${unit}.in"
		"${DR_UNIT_STAGING}/${unit}" @ONLY)
	file(INSTALL "${DR_UNIT_STAGING}/${unit}"
		DESTINATION "${full_UNITDIR}")
endforeach()
