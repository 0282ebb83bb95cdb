// norm_slot: a RoPE policy in the norm slot
// expect: llmt::model_spec: the 1st parameter must be a norm policy
#include <llmt/model/model.hpp>
#include <llmt/quant/formats.hpp>

using spec = llmt::model_spec<llmt::rope_normal, llmt::gqa<>, llmt::rope_normal, llmt::swiglu,
                               llmt::kv_cache::contiguous<llmt::f32>, llmt::weight_types<llmt::f32>>;
llmt::model<spec>* m = nullptr;
int main() { return m->n_ctx() > 0; }
