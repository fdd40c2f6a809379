// nx++ io (being written).
#pragma once
#include "nx/ops.hpp"
