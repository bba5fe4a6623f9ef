# Generates build_info.cpp (attnbench::build_info()) with the compiler, flags and git commit.
# The git commit is re-read at every build (not only at configure time) by a small script target, so
# results never claim a stale commit; the file is rewritten only when its contents change.
get_target_property(_opts attnbench_options INTERFACE_COMPILE_OPTIONS)
string(TOUPPER "${CMAKE_BUILD_TYPE}" _bt)
set(ATTNBENCH_FLAGS "${CMAKE_CXX_FLAGS} ${CMAKE_CXX_FLAGS_${_bt}} ${_opts}")
string(REPLACE ";" " " ATTNBENCH_FLAGS "${ATTNBENCH_FLAGS}")
string(STRIP "${ATTNBENCH_FLAGS}" ATTNBENCH_FLAGS)

set(ATTNBENCH_BUILD_INFO_CPP ${CMAKE_BINARY_DIR}/generated/build_info.cpp)
add_custom_target(attnbench_build_info
  COMMAND ${CMAKE_COMMAND}
          -DSOURCE_DIR=${CMAKE_SOURCE_DIR} -DOUTPUT=${ATTNBENCH_BUILD_INFO_CPP}
          -DVERSION=${PROJECT_VERSION}
          "-DCOMPILER=${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER_VERSION}"
          "-DFLAGS=${ATTNBENCH_FLAGS}" -DBUILD_TYPE=${CMAKE_BUILD_TYPE}
          -P ${CMAKE_SOURCE_DIR}/cmake/WriteBuildInfo.cmake
  BYPRODUCTS ${ATTNBENCH_BUILD_INFO_CPP}
  COMMENT "Recording build info (git commit, compiler, flags)")
