// nx::ml: classic machine learning from nx's ops (nxpp::ml), scikit-learn's estimators as
// values (docs/API.md lists them), checked against scikit-learn on its data sets.
#pragma once
#include "nx/ml/cluster.hpp"
#include "nx/ml/decomposition.hpp"
#include "nx/ml/encoders.hpp"
#include "nx/ml/kd_tree.hpp"
#include "nx/ml/mixture.hpp"
#include "nx/ml/linear.hpp"
#include "nx/ml/metrics.hpp"
#include "nx/ml/model_selection.hpp"
#include "nx/ml/neighbors_bayes.hpp"
#include "nx/ml/polynomial.hpp"
#include "nx/ml/preprocessing.hpp"
#include "nx/ml/tree.hpp"
