// nx::nn: models as graphs of layers (Axon, Keras's functional API). See nx/nn/model.hpp.
#pragma once
#include "nx/nn/activations.hpp"
#include "nx/nn/attention.hpp"
#include "nx/nn/initializers.hpp"
#include "nx/nn/layers.hpp"
#include "nx/nn/model.hpp"
#include "nx/nn/recurrent.hpp"
