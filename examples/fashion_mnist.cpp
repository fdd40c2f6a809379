// Trains a small CNN on Fashion-MNIST (Debian's dataset-fashion-mnist), prints the model
// table, live progress, compile time, images per second and the test accuracy, saves the
// model, reloads it, and writes the training curves as SVG. examples/mlp.cpp is the
// smallest program beside it.
//
//   fashion_mnist [--epochs 5] [--train-subset N] [--batch-size 128] [--lr 1e-3]
//                 [--out build/fashion_mnist] [--min-accuracy 0.915]
//
// --min-accuracy makes the program fail (exit 1) below that test accuracy: CI runs a
// subset this way to prove the whole path trains.
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <string>

#include <nx/nn.hpp>
#include <nx/nx.hpp>
#include <nx/optim.hpp>
#include <nx/train.hpp>

namespace nn = nx::nn;
namespace train = nx::train;

namespace {

struct Args {
  int64_t epochs = 5, subset = 0, batch_size = 128;
  double lr = 1e-3, min_accuracy = -1;
  std::string out = "build/fashion_mnist", data_dir;
};

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    std::string k = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) {
        std::cerr << k << " needs a value\n";
        std::exit(2);
      }
      return argv[++i];
    };
    if (k == "--epochs") a.epochs = std::stoll(value());
    else if (k == "--train-subset") a.subset = std::stoll(value());
    else if (k == "--batch-size") a.batch_size = std::stoll(value());
    else if (k == "--lr") a.lr = std::stod(value());
    else if (k == "--out") a.out = value();
    else if (k == "--data") a.data_dir = value();
    else if (k == "--min-accuracy") a.min_accuracy = std::stod(value());
    else {
      std::cerr << "unknown option " << k << "\n";
      std::exit(2);
    }
  }
  return a;
}

// u8 (N, 28, 28) -> f32 (N, 1, 28, 28), standardised with the training set's mean and std.
nx::Tensor images(const nx::Tensor& u8) {
  nx::Tensor x = nx::as_type(u8, nx::f32) / 255.0;
  return nx::reshape((x - 0.2860) / 0.3530, {u8.shape()[0], 1, 28, 28});
}

nn::Model cnn() {
  nn::Node x = nn::input("image", {-1, 1, 28, 28});
  return nn::Model(x | nn::conv(32, {3, 3}, {.padding = nn::same, .activation = "relu"}) | nn::max_pool({2, 2}) |
                   nn::conv(64, {3, 3}, {.padding = nn::same, .activation = "relu"}) | nn::max_pool({2, 2}) |
                   nn::flatten() | nn::dense(128, {.activation = "relu"}) | nn::dense(10));
}

}  // namespace

int main(int argc, char** argv) try {
  const Args args = parse(argc, argv);
  nx::io::FashionMnist data = nx::io::load_fashion_mnist(args.data_dir);
  nx::Tensor train_x = images(data.train_images), train_y = data.train_labels;
  if (args.subset > 0 && args.subset < train_x.shape()[0]) {
    train_x = nx::slice_along_axis(train_x, 0, 0, args.subset);
    train_y = nx::slice_along_axis(train_y, 0, 0, args.subset);
  }
  nx::Tensor test_x = images(data.test_images), test_y = data.test_labels;

  nn::Model model = cnn();
  std::cout << model;

  auto train_data = train::DataSource::from_tensors({train_x}, train_y, {.batch_size = args.batch_size});
  auto test_data = train::DataSource::from_tensors({test_x}, test_y, {.batch_size = 1000, .shuffle = false});
  const int64_t steps = args.epochs * train_data.batches_per_epoch();
  auto loss = [](const nx::Tensor& y, const nx::Tensor& logits) {
    return nx::losses::categorical_cross_entropy(y, logits, {.from_logits = true, .sparse = true});
  };
  auto loop = train::trainer(model, loss, nx::optim::adam(nx::optim::cosine_decay(args.lr, std::max<int64_t>(1, steps))))
                  .metric("accuracy")
                  .validate(test_data);
  std::filesystem::create_directories(args.out);
  loop.plot(args.out + "/curves.svg").csv_log(args.out + "/log.csv");

  const auto t0 = std::chrono::steady_clock::now();
  nn::Variables vars = nn::init(model, nx::random::key(0), train_x);
  const double init_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "Initialised " << vars.parameter_count() << " parameters in " << init_s * 1e3 << " ms\n";

  train::TrainResult r = loop.run(train_data, vars, {.epochs = args.epochs});
  std::cout << "Compile of the training step: " << r.compile_seconds * 1e3 << " ms (" << r.compiles
            << " signature(s))\n"
            << "Training: " << r.examples_per_second << " images/s over " << r.epochs_run << " epoch(s)\n";

  const std::string path = args.out + "/model.safetensors";
  nn::save_variables(path, r.variables);
  nn::Variables loaded = nn::load_variables(path);
  auto metrics = train::evaluate(model, loaded, test_data, {nx::metrics::Metric::accuracy()});
  const double accuracy = metrics.at("accuracy");
  std::cout << "Test accuracy (model reloaded from " << path << "): " << accuracy * 100 << "%\n"
            << "Training curves: " << args.out << "/curves.svg\n";
  if (args.min_accuracy >= 0 && accuracy < args.min_accuracy) {
    std::cerr << "test accuracy " << accuracy << " is below the floor " << args.min_accuracy << "\n";
    return 1;
  }
  return 0;
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
