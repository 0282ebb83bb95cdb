// kv_element: a KV element type the cache cannot store
// expect: llmt::kv_cache::contiguous<E>: the KV element type E must be llmt::f32, llmt::f16 or llmt::q8_0
#include <llmt/model/model.hpp>
#include <llmt/quant/formats.hpp>

using spec = llmt::model_spec<llmt::rms_norm, llmt::gqa<>, llmt::rope_normal, llmt::swiglu,
                               llmt::kv_cache::contiguous<llmt::quant::q4_0>, llmt::weight_types<llmt::f32>>;
int main() { return sizeof(llmt::model<spec>) > 0; }
