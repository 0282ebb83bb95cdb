// feed_forward_slot: an attention policy in the feed-forward slot
// expect: llmt::model_spec: the 4th parameter must be a feed-forward policy
#include <llmt/model/model.hpp>
#include <llmt/quant/formats.hpp>

using spec = llmt::model_spec<llmt::rms_norm, llmt::mqa, llmt::rope_normal, llmt::mqa,
                               llmt::kv_cache::contiguous<llmt::f32>, llmt::weight_types<llmt::f32>>;
int main() { return sizeof(llmt::model<spec>) > 0; }
