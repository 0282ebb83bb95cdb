// attention_slot: a feed-forward policy in the attention slot
// expect: llmt::model_spec: the 2nd parameter must be an attention grouping policy
#include <llmt/model/model.hpp>
#include <llmt/quant/formats.hpp>

using spec = llmt::model_spec<llmt::rms_norm, llmt::swiglu, llmt::rope_normal, llmt::swiglu,
                               llmt::kv_cache::contiguous<llmt::f32>, llmt::weight_types<llmt::f32>>;
int main() { return sizeof(llmt::model<spec>) > 0; }
