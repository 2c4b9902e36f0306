// embbag_sum__avx512: the fused embedding bag (embbag_pool.h) with the plain AVX-512 decoders.
// GCC 12 warns about the intrinsics' own self-initialised "undefined" vectors once they are inlined
// (GCC bug 105593, fixed in 12.3); the pragma must precede <immintrin.h>.
#pragma GCC diagnostic ignored "-Wmaybe-uninitialized"
#include "kernels/x86/avx512/avx512_misc.h"
#include "kernels/x86/avx512/embbag_rows.h"

namespace dlrm::kernels::avx512 {
namespace {
template <row_type T>
using Dec = decoder<T>;
}  // namespace
}  // namespace dlrm::kernels::avx512

#include "kernels/x86/avx512/embbag_pool.h"

namespace dlrm::kernels {
const embbag_kernel embbag_sum__avx512 = {"embbag_sum__avx512", avx512::run};
}  // namespace dlrm::kernels
