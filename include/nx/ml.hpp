// nx::ml: classic machine learning from nx's ops (nxpp::ml): preprocessing and linear
// models, PCA and k-means so far, checked against scikit-learn.
#pragma once
#include "nx/ml/cluster.hpp"
#include "nx/ml/decomposition.hpp"
#include "nx/ml/linear.hpp"
#include "nx/ml/metrics.hpp"
#include "nx/ml/neighbors_bayes.hpp"
#include "nx/ml/preprocessing.hpp"
