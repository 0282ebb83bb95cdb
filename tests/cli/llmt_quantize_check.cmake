# llmt_quantize_check: runs llmt-quantize (EXE) on IN and checks that OUT equals REF byte for byte.
# EXTRA holds more arguments separated by '|'.
string(REPLACE "|" ";" extra "${EXTRA}")
execute_process(COMMAND ${EXE} --threads 2 ${extra} ${IN} ${OUT} ${TYPE}
                RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "llmt-quantize ${TYPE} failed (${rc}):\n${err}")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E compare_files ${OUT} ${REF} RESULT_VARIABLE same)
file(REMOVE ${OUT})
if(NOT same EQUAL 0)
  message(FATAL_ERROR "llmt-quantize ${TYPE}: the output differs from ${REF}\n${err}")
endif()
message(STATUS "llmt-quantize ${TYPE}: identical to ${REF}")
