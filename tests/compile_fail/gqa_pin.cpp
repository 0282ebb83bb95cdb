// gqa_pin: a negative gqa pin
// expect: llmt::gqa<N>: N is the number of query heads per KV head; it must be positive
#include <llmt/model/model.hpp>
#include <llmt/quant/formats.hpp>

using spec = llmt::model_spec<llmt::rms_norm, llmt::gqa<-2>, llmt::rope_normal, llmt::swiglu,
                               llmt::kv_cache::contiguous<llmt::f32>, llmt::weight_types<llmt::f32>>;
int main() { return sizeof(llmt::model<spec>) > 0; }
