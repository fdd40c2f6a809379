// nx++ composites (being written).
#pragma once
#include "nx/ops.hpp"
