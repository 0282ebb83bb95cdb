# chat_pipe (cmake -P): llmt-chat reading a pipe: two replies, /system, /clear and /quit, then EOF.
# Inputs: -DEXE=llmt-chat -DMODEL=gguf -DWORK=dir
file(MAKE_DIRECTORY "${WORK}")
file(WRITE "${WORK}/chat_input.txt" "/system You tell short stories.\nOnce upon a time\n/clear\nThe cat\n/quit\nnever read\n")
execute_process(COMMAND "${EXE}" -m "${MODEL}" --chat-template chatml -n 8 --temp 0 -t 1
                INPUT_FILE "${WORK}/chat_input.txt" RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "llmt-chat exited with ${rc}:\n${err}")
endif()
foreach(needle "system prompt set" "conversation cleared" "chat format chatml")
  string(FIND "${err}" "${needle}" at)
  if(at EQUAL -1)
    message(FATAL_ERROR "llmt-chat's log lacks '${needle}':\n${err}")
  endif()
endforeach()
string(REGEX MATCHALL "generated at" replies "${err}")
list(LENGTH replies n)
if(NOT n EQUAL 2)
  message(FATAL_ERROR "expected 2 replies (the line after /quit is never read), got ${n}:\n${err}")
endif()
if(out STREQUAL "")
  message(FATAL_ERROR "llmt-chat printed no reply on stdout")
endif()
# A file without a chat template gets chatml, llama.cpp's default, with a note on stderr.
execute_process(COMMAND "${EXE}" -m "${MODEL}" -n 4 --temp 0 -t 1 INPUT_FILE "${WORK}/chat_input.txt"
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_VARIABLE out)
string(FIND "${err}" "note: the file has no chat template (tokenizer.chat_template); using chatml, llama.cpp's default" at)
string(FIND "${err}" "chat format chatml" fmt_at)
if(NOT rc EQUAL 0 OR at EQUAL -1 OR fmt_at EQUAL -1 OR out STREQUAL "")
  message(FATAL_ERROR "llmt-chat without a template should chat in chatml with a note, got ${rc}:\n${err}")
endif()
# An unknown --chat-template is a usage error listing the known names.
execute_process(COMMAND "${EXE}" -m "${MODEL}" --chat-template nosuch INPUT_FILE "${WORK}/chat_input.txt"
                RESULT_VARIABLE rc ERROR_VARIABLE err OUTPUT_QUIET)
string(FIND "${err}" "unknown chat template 'nosuch'; known templates: chatml" at)
if(rc EQUAL 0 OR at EQUAL -1)
  message(FATAL_ERROR "llmt-chat --chat-template nosuch should fail naming the known templates, got ${rc}:\n${err}")
endif()
