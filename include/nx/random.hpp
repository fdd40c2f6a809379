// nx++ random (being written).
#pragma once
#include "nx/ops.hpp"
