// weights_without_f32: a weight set without f32
// expect: llmt::model_spec: weight_types<...> must include llmt::f32 (norm weights are stored as f32)
#include <llmt/model/model.hpp>
#include <llmt/quant/formats.hpp>

using spec = llmt::model_spec<llmt::rms_norm, llmt::gqa<>, llmt::rope_normal, llmt::swiglu,
                               llmt::kv_cache::contiguous<llmt::f32>, llmt::weight_types<llmt::q8_0>>;
int main() { return sizeof(llmt::model<spec>) > 0; }
