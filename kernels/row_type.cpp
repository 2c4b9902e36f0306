// Names of embedding row types, as they appear in .dlrm metadata, reports and messages.
#include "kernels/api.h"

namespace dlrm::kernels {

const char* row_type_name(row_type t) {
    switch (t) {
        case row_type::f32: return "f32";
        case row_type::f16: return "f16";
        case row_type::bf16: return "bf16";
        case row_type::i8rw: return "i8rw";
        case row_type::u4rw: return "u4rw";
    }
    return "unknown";
}

}  // namespace dlrm::kernels
