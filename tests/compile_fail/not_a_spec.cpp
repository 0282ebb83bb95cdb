// not_a_spec: model<> of something that is not a spec
// expect: llmt::model<Spec>: Spec must be an llmt::model_spec<...> or a preset such as llmt::presets::llama
#include <llmt/model/model.hpp>
#include <llmt/quant/formats.hpp>

int main() { return sizeof(llmt::model<int>) > 0; }
