// presets_instance: the one translation unit of the CLIs and benchmarks that compiles the presets' models (load_any.hpp)
#include <llmt/model/load_any.hpp>

template std::unique_ptr<llmt::model_base> llmt::load_any<llmt::presets::all>(llmt::io::gguf_file, const llmt::load_options&);
