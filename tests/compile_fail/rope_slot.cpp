// rope_slot: a norm policy in the RoPE slot
// expect: llmt::model_spec: the 3rd parameter must be a RoPE policy
#include <llmt/model/model.hpp>
#include <llmt/quant/formats.hpp>

using spec = llmt::model_spec<llmt::rms_norm, llmt::mha, llmt::layer_norm, llmt::swiglu,
                               llmt::kv_cache::contiguous<llmt::f32>, llmt::weight_types<llmt::f32>>;
int main() { return sizeof(llmt::model<spec>) > 0; }
