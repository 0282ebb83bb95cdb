# llmt_testing: helpers for tests/CMakeLists.txt
#
# llmt_tests_need_cli(<llmt-NAME>...)
#   Tests run these example CLIs: build them with the tests even when LLMT_BUILD_EXAMPLES is OFF
#   (as in the sanitizer build of scripts/test.sh, where the example targets exist but are not in "all").
#
# llmt_add_cli_test(NAME <test> CLI <llmt-NAME> [ARGS <arg>...])
#   A ctest that runs the example CLI examples/<llmt-NAME>.cpp with ARGS. The CLI is built with the
#   tests even when LLMT_BUILD_EXAMPLES is OFF (as in the sanitizer build of scripts/test.sh).
#   Set more properties afterwards: set_tests_properties(<test> PROPERTIES PASS_REGULAR_EXPRESSION ...).
function(llmt_tests_need_cli)
  if(NOT TARGET llmt-test-clis)
    add_custom_target(llmt-test-clis ALL COMMENT "CLIs the tests run")
  endif()
  foreach(cli IN LISTS ARGN)
    if(NOT TARGET ${cli})
      message(FATAL_ERROR "llmt_tests_need_cli: there is no CLI ${cli} (examples/${cli}.cpp)")
    endif()
    add_dependencies(llmt-test-clis ${cli})
  endforeach()
endfunction()

function(llmt_add_cli_test)
  cmake_parse_arguments(arg "" "NAME;CLI" "ARGS" ${ARGN})
  if(NOT arg_NAME OR NOT arg_CLI)
    message(FATAL_ERROR "llmt_add_cli_test: NAME and CLI are required")
  endif()
  if(NOT TARGET ${arg_CLI})
    message(FATAL_ERROR "llmt_add_cli_test(${arg_NAME}): there is no CLI ${arg_CLI} (examples/${arg_CLI}.cpp)")
  endif()
  llmt_tests_need_cli(${arg_CLI})
  add_test(NAME ${arg_NAME} COMMAND ${arg_CLI} ${arg_ARGS})
endfunction()
