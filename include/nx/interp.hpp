// The reference backend. Registered under the name "interp".
#pragma once

namespace nx {
void register_interp_backend();
}
