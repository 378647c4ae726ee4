// checkpoint_logits CHECKPOINT_DIR RECIPE OUT.safetensors
//
// Loads a lucid-train checkpoint's model.safetensors into the recipe's model
// (fashion-cnn: nn::SmallCNN, fashion-mlp: nn::MLP 784-512-256-10), runs the
// first 16 Fashion-MNIST test images through it in eval mode, and writes
// {"inputs": [16, 1, 28, 28], "logits": [16, 10]} to OUT. The Python test
// (tests/py/test_checkpoint_torch.py) loads the same model.safetensors into
// the equivalent PyTorch module and compares the logits.
#include <cstdio>
#include <string>
#include <vector>

#include <lucid/lucid.h>
#include <lucid/train/safetensors.h>

using namespace lucid;

int main(int argc, char** argv) {
  if (argc != 4) {
    std::fprintf(stderr, "usage: %s CHECKPOINT_DIR fashion-cnn|fashion-mlp OUT.safetensors\n", argv[0]);
    return 2;
  }
  try {
    const std::string dir = argv[1], recipe = argv[2], out = argv[3];
    const train::SafetensorsFile file = train::load_safetensors(dir + "/model.safetensors");
    const data::FashionMNIST test("/usr/share/datasets/fashion-mnist", data::Split::Test,
                                  data::Compose(data::ToTensor(), data::Normalize({0.2860}, {0.3530})));
    std::vector<data::Example> samples;
    for (size_t i = 0; i < 16; ++i) samples.push_back(test.get(i));
    const Tensor inputs = data::default_collate(samples).data;
    NoGradGuard no_grad;
    Tensor logits;
    if (recipe == "fashion-cnn") {
      nn::SmallCNN model;
      model->load_state_dict(file.tensors);
      model->eval();
      logits = model(inputs);
    } else if (recipe == "fashion-mlp") {
      nn::MLP model(nn::MLPOptions(28 * 28, {512, 256}, 10).dropout(0.2));
      model->load_state_dict(file.tensors);
      model->eval();
      logits = model(inputs.flatten(1));
    } else {
      std::fprintf(stderr, "unknown recipe %s\n", recipe.c_str());
      return 2;
    }
    StateDict result;
    result.insert("inputs", inputs);
    result.insert("logits", logits);
    train::save_safetensors(out, result);
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "checkpoint_logits: %s\n", e.what());
    return 1;
  }
}
