// nx++ linalg (being written).
#pragma once
#include "nx/ops.hpp"
