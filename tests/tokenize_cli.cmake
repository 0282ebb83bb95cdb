# tokenize_cli: ctests that run llmt-tokenize and compare its output (included by tests/CMakeLists.txt).
set(_vocab ${CMAKE_CURRENT_SOURCE_DIR}/data/vocab)
set(_stories ${PROJECT_SOURCE_DIR}/models/stories260K/stories260K.gguf)
function(llmt_tokenize_test name expected)
  llmt_add_cli_test(NAME tokenize_${name} CLI llmt-tokenize ARGS ${ARGN})
  set_tests_properties(tokenize_${name} PROPERTIES PASS_REGULAR_EXPRESSION "${expected}")
endfunction()
llmt_tokenize_test(stories_ids "^1 403 407 261 378\n$" -m ${_stories} -p "Once upon a time" --ids)
llmt_tokenize_test(stories_no_bos "^403 407 261 378\n$" -m ${_stories} -p "Once upon a time" --ids --no-bos)
llmt_tokenize_test(stories_pieces "^     1 -> '<s>'\n   403 -> ' Once'\n   407 -> ' upon'\n   261 -> ' a'\n   378 -> ' time'\n$"
                   -m ${_stories} -p "Once upon a time")
llmt_tokenize_test(spm_parse_special "^1 1 15043 2\n$" -m ${_vocab}/ggml-vocab-llama-spm.gguf -p "<s>Hello</s>" --ids --parse-special)
llmt_tokenize_test(gpt2_ids "^15496 995\n$" -m ${_vocab}/ggml-vocab-gpt-2.gguf -p "Hello world" --ids)
llmt_tokenize_test(gpt2_bytes "^ 12520 -> ' <f0><9f>' \\(utf-8 decode failure\\)\n    99 -> '<a6>' \\(utf-8 decode failure\\)\n   247 -> '<99>' \\(utf-8 decode failure\\)\n$"
                   -m ${_vocab}/ggml-vocab-gpt-2.gguf -p " 🦙")
llmt_tokenize_test(bert_ids "^101 7592 2088 102\n$" -m ${_vocab}/ggml-vocab-bert-bge.gguf -p "Hello world" --ids)
llmt_tokenize_test(deepseek_coder_bos "^32013 " -m ${_vocab}/ggml-vocab-deepseek-coder.gguf -p "int main()" --ids)
llmt_add_cli_test(NAME tokenize_missing_file CLI llmt-tokenize ARGS -m ${_vocab}/no-such-file.gguf -p "x")
set_tests_properties(tokenize_missing_file PROPERTIES WILL_FAIL TRUE)
