// good_spec: a valid composition compiles (the control of the tests below)
// expect: compiles
#include <llmt/model/model.hpp>
#include <llmt/quant/formats.hpp>

using spec = llmt::model_spec<llmt::rms_norm, llmt::gqa<4>, llmt::rope_neox, llmt::geglu,
                               llmt::kv_cache::sliding_window<llmt::q8_0>, llmt::weight_types<llmt::f32, llmt::q8_0>>;
static_assert(sizeof(llmt::model<spec>) > 0);
int main() {}
