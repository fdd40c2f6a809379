// nx++ jit (being written).
#pragma once
#include "nx/ops.hpp"
