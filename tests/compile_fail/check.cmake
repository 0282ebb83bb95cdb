# check: compiles one snippet (cmake -P) and passes only if the compiler refuses it with the
# sentence of its "// expect: " line (or, for "// expect: compiles", only if it compiles).
# Inputs: -DCXX=compiler -DSRC=snippet.cpp -DINCLUDE=include dir
file(STRINGS "${SRC}" expect_line REGEX "^// expect: ")
if(NOT expect_line)
  message(FATAL_ERROR "${SRC}: no '// expect: ' line")
endif()
string(REGEX REPLACE "^// expect: " "" expect "${expect_line}")
string(REPLACE "\\;" ";" expect "${expect}")  # file(STRINGS) escapes the semicolons of a line
execute_process(COMMAND "${CXX}" -std=c++20 -fsyntax-only -I "${INCLUDE}" "${SRC}"
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(expect STREQUAL "compiles")
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${SRC} should compile but did not:\n${err}")
  endif()
  return()
endif()
if(rc EQUAL 0)
  message(FATAL_ERROR "${SRC} compiled, but it must be refused with: ${expect}")
endif()
string(FIND "${err}" "${expect}" at)
if(at EQUAL -1)
  message(FATAL_ERROR "${SRC} was refused, but without the sentence '${expect}'. Compiler said:\n${err}")
endif()
message(STATUS "${SRC}: refused with '${expect}'")
