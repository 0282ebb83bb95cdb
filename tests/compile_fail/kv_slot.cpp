// kv_slot: an element type where the KV cache policy goes
// expect: llmt::model_spec: the 5th parameter must be a KV cache policy
#include <llmt/model/model.hpp>
#include <llmt/quant/formats.hpp>

using spec = llmt::model_spec<llmt::rms_norm, llmt::gqa<>, llmt::rope_normal, llmt::swiglu, llmt::f16,
                               llmt::weight_types<llmt::f32>>;
int main() { return sizeof(llmt::model<spec>) > 0; }
