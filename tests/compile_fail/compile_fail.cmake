# Compile-fail tests: each tests/compile_fail/*.cpp must be refused by the compiler with the sentence
# of its "// expect: " line (the messages of the policy checks are part of the API).
file(GLOB LLMT_COMPILE_FAIL_SOURCES CONFIGURE_DEPENDS ${CMAKE_CURRENT_SOURCE_DIR}/compile_fail/*.cpp)
foreach(src IN LISTS LLMT_COMPILE_FAIL_SOURCES)
  get_filename_component(stem ${src} NAME_WE)
  add_test(NAME compile_fail.${stem}
    COMMAND ${CMAKE_COMMAND} -DCXX=${CMAKE_CXX_COMPILER} -DSRC=${src} -DINCLUDE=${PROJECT_SOURCE_DIR}/include
            -P ${CMAKE_CURRENT_SOURCE_DIR}/compile_fail/check.cmake)
  set_tests_properties(compile_fail.${stem} PROPERTIES LABELS compile_fail)
endforeach()
