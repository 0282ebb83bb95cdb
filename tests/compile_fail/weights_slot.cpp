// weights_slot: a single format instead of weight_types<...>
// expect: llmt::model_spec: the 6th parameter must be the set of weight formats, llmt::weight_types<...>
#include <llmt/model/model.hpp>
#include <llmt/quant/formats.hpp>

using spec = llmt::model_spec<llmt::rms_norm, llmt::gqa<>, llmt::rope_normal, llmt::swiglu,
                               llmt::kv_cache::contiguous<llmt::f32>, llmt::f32>;
int main() { return sizeof(llmt::model<spec>) > 0; }
