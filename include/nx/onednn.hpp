// The oneDNN backend (registered as "onednn" when nx++ is built with oneDNN): matmul
// through oneDNN primitives on the host; nodes it does not map run the interp kernels.
#pragma once

namespace nx {
void register_onednn_backend();
}
