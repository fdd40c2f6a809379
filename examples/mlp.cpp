// The smallest training program: a two-layer MLP on Fashion-MNIST in the fewest lines,
// beside the CNN of fashion_mnist.cpp. Run: ./build/release/examples/mlp
#include <iostream>

#include <nx/nn.hpp>
#include <nx/nx.hpp>
#include <nx/optim.hpp>
#include <nx/train.hpp>

namespace nn = nx::nn;

int main() try {
  nx::io::FashionMnist data = nx::io::load_fashion_mnist();
  auto images = [](const nx::Tensor& u8) { return nx::reshape(nx::as_type(u8, nx::f32) / 255.0, {u8.shape()[0], 784}); };

  nn::Model model(nn::input("pixels", {-1, 784}) | nn::dense(512, {.activation = "relu"}) | nn::dropout(0.2) |
                  nn::dense(512, {.activation = "relu"}) | nn::dense(10));
  std::cout << model;

  auto loss = [](const nx::Tensor& labels, const nx::Tensor& logits) {
    return nx::losses::categorical_cross_entropy(labels, logits, {.from_logits = true, .sparse = true});
  };
  nx::train::TrainResult r =
      nx::train::trainer(model, loss, nx::optim::adamw(1e-3))
          .metric("accuracy")
          .validate(nx::train::DataSource::from_tensors({images(data.test_images)}, data.test_labels, {.batch_size = 1000}))
          .run(nx::train::DataSource::from_tensors({images(data.train_images)}, data.train_labels, {.batch_size = 128}),
               nn::init(model, nx::random::key(0), images(data.test_images)), {.epochs = 3});
  std::cout << "Test accuracy: " << r.history.values.at("val_accuracy").back() * 100 << "%\n";
} catch (const std::exception& e) {
  std::cerr << "error: " << e.what() << "\n";
  return 1;
}
