// nx::train: losses, metrics, data sources and the training loop. See nx/train/loop.hpp.
#pragma once
#include "nx/train/data.hpp"
#include "nx/train/losses.hpp"
#include "nx/train/loop.hpp"
#include "nx/train/metrics.hpp"
