// embbag_sum__avx512vbmi: the fused embedding bag (embbag_pool.h) with the VBMI u4rw decoder
// (vpmultishiftqb: accumulators in column order, embbag_rows.h); the other row types decode as in
// embbag_sum__avx512. Built in its own library with -mavx512vbmi; the registry line requires VBMI.
// GCC 12 warns about the intrinsics' own self-initialised "undefined" vectors once they are inlined
// (GCC bug 105593, fixed in 12.3); the pragma must precede <immintrin.h>.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include <type_traits>

#include "kernels/x86/avx512/avx512_misc.h"
#include "kernels/x86/avx512/embbag_rows.h"

namespace dlrm::kernels::avx512 {
namespace {
template <row_type T>
using Dec = std::conditional_t<T == row_type::u4rw, u4rw_vbmi_decoder, decoder<T>>;
}  // namespace
}  // namespace dlrm::kernels::avx512

#include "kernels/x86/avx512/embbag_pool.h"

namespace dlrm::kernels {
const embbag_kernel embbag_sum__avx512vbmi = {"embbag_sum__avx512vbmi", avx512::run};
}  // namespace dlrm::kernels
