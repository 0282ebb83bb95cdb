# install_test: configures llmt alone, installs it into a fresh prefix, then configures, builds and
# runs the find_package consumer against that prefix. Run with cmake -P and the -D variables below.
foreach(var LLMT_SOURCE_DIR WORK_DIR GENERATOR CXX MODEL EXPECT)
  if(NOT DEFINED ${var})
    message(FATAL_ERROR "install_test.cmake needs -D${var}=...")
  endif()
endforeach()

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}")
  endif()
  message(STATUS "${what}: ok")
  set(last_output "${out}" PARENT_SCOPE)
endfunction()

set(make_program)
if(DEFINED MAKE_PROGRAM AND NOT MAKE_PROGRAM STREQUAL "")
  set(make_program -DCMAKE_MAKE_PROGRAM=${MAKE_PROGRAM})
endif()

file(REMOVE_RECURSE ${WORK_DIR})
set(prefix ${WORK_DIR}/prefix)

run("configure llmt" ${CMAKE_COMMAND} -S ${LLMT_SOURCE_DIR} -B ${WORK_DIR}/llmt-build -G ${GENERATOR} ${make_program}
    -DCMAKE_CXX_COMPILER=${CXX} -DLLMT_BUILD_TESTS=OFF -DLLMT_BUILD_EXAMPLES=OFF -DLLMT_BUILD_BENCH=OFF
    -DLLMT_INSTALL=ON)
run("install llmt" ${CMAKE_COMMAND} --install ${WORK_DIR}/llmt-build --prefix ${prefix})

foreach(f include/llmt/llmt.hpp include/llmt/io/gguf.hpp)
  if(NOT EXISTS ${prefix}/${f})
    message(FATAL_ERROR "the install prefix lacks ${f}")
  endif()
endforeach()
file(GLOB_RECURSE config_files ${prefix}/*/llmtConfig.cmake ${prefix}/*/llmtConfigVersion.cmake ${prefix}/*/llmtTargets.cmake)
list(LENGTH config_files n_config)
if(NOT n_config EQUAL 3)
  message(FATAL_ERROR "expected llmtConfig, llmtConfigVersion and llmtTargets in the prefix, found: ${config_files}")
endif()

run("configure consumer" ${CMAKE_COMMAND} -S ${CMAKE_CURRENT_LIST_DIR}/find_package -B ${WORK_DIR}/consumer-build
    -G ${GENERATOR} ${make_program} -DCMAKE_CXX_COMPILER=${CXX} -DCMAKE_BUILD_TYPE=None
    -DCMAKE_PREFIX_PATH=${prefix} -DLLMT_EXPECTED_PREFIX=${prefix} -DCMAKE_FIND_USE_PACKAGE_REGISTRY=OFF)
run("build consumer" ${CMAKE_COMMAND} --build ${WORK_DIR}/consumer-build)
run("run consumer" ${WORK_DIR}/consumer-build/consumer ${MODEL} ${EXPECT})
message(STATUS "${last_output}")
