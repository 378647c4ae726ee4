// nn::Module and its handles: hierarchical names, train/eval propagation,
// state_dict round trips and load_state_dict failures (model unchanged),
// printing equal to PyTorch's repr, zero_grad, to(dtype) keeping parameter
// handles, containers, and the layers' options and shapes.
#include <doctest/doctest.h>

#include <sstream>
#include <string>
#include <vector>

#include <lucid/lucid.h>

#include "check_values.h"

using namespace lucid;
using lucid::testing::values;

namespace {

// A small model in LibTorch's style: members assigned from register_module.
struct NetImpl : nn::Module {
  NetImpl() {
    features = register_module("features", nn::Sequential(nn::Linear(4, 8), nn::ReLU(),
                                                          nn::Dropout(0.5)));
    head = register_module("head", nn::Linear(nn::LinearOptions(8, 3).bias(false)));
    scale = register_buffer("scale", ones({3}));
  }
  Tensor forward(const Tensor& x) { return head(features(x)) * scale; }

  nn::Sequential features = nullptr;
  nn::Linear head = nullptr;
  Tensor scale;
};
class Net : public nn::ModuleHolder<NetImpl> {
 public:
  using ModuleHolder::ModuleHolder;
};

std::vector<std::string> keys_of(const OrderedDict<std::string, Tensor>& d) { return d.keys(); }

bool bit_equal(const Tensor& a, const Tensor& b) {
  if (a.sizes() != b.sizes() || a.dtype() != b.dtype()) return false;
  return values(a) == values(b);
}

}  // namespace

TEST_CASE("named_parameters: dotted names in registration order, as LibTorch") {
  Net net;
  CHECK(keys_of(net->named_parameters()) ==
        std::vector<std::string>{"features.0.weight", "features.0.bias", "head.weight"});
  CHECK(keys_of(net->named_parameters(/*recurse=*/false)).empty());
  CHECK(keys_of(net->named_buffers()) == std::vector<std::string>{"scale"});
  CHECK(net->parameters().size() == 3);
  for (const Tensor& p : net->parameters()) {
    CHECK(p.requires_grad());
    CHECK(p.is_leaf());
  }
  // The handle members are the registered tensors (same TensorImpl).
  CHECK(net->head->weight.is_same(net->named_parameters()["head.weight"]));
  CHECK(net->features->ptr<nn::LinearImpl>(0)->weight.is_same(
      net->named_parameters()["features.0.weight"]));
  CHECK(net->children().size() == 2);
  CHECK(net->named_children().keys() == std::vector<std::string>{"features", "head"});
  CHECK(net->named_modules().keys() == std::vector<std::string>{"", "features", "features.0",
                                                               "features.1", "features.2", "head"});
  CHECK(nn::parameter_count(*net) == 8 * 4 + 8 + 3 * 8);
}

TEST_CASE("registration errors name the module and the entry") {
  nn::Linear fc(2, 3);
  CHECK_THROWS_WITH_AS(fc->register_parameter("weight", zeros({1})),
                       doctest::Contains("parameter 'weight' already exists"), Error);
  CHECK_THROWS_WITH_AS(fc->register_buffer("weight", zeros({1})),
                       doctest::Contains("'weight' is already a parameter of Linear"), Error);
  CHECK_THROWS_WITH_AS(fc->register_parameter("a.b", zeros({1})),
                       doctest::Contains("can't contain '.'"), Error);
  CHECK_THROWS_WITH_AS(fc->register_parameter("idx", zeros({1}, kInt64)),
                       doctest::Contains("only floating-point parameters"), Error);
  nn::Linear empty_handle = nullptr;
  CHECK(empty_handle.is_empty());
  CHECK_THROWS_WITH_AS(empty_handle->forward(zeros({1, 2})),
                       doctest::Contains("empty module handle"), Error);
}

TEST_CASE("a parameter registered from a computed tensor becomes a leaf") {
  nn::Identity id;
  Tensor base = ones({2}).requires_grad_(true);
  Tensor p = id->register_parameter("p", base * 2.0);
  CHECK(p.is_leaf());
  CHECK(p.requires_grad());
  CHECK(values(p) == std::vector<double>{2.0, 2.0});
}

TEST_CASE("train/eval propagate to every descendant; Dropout follows is_training") {
  Net net;
  CHECK(net->is_training());
  net->eval();
  for (const auto& m : net->modules()) CHECK_FALSE(m->is_training());
  Tensor x = randn({5, 4});
  // In eval mode, dropout is the identity: two forwards agree exactly.
  CHECK(values(net(x)) == values(net(x)));
  net->train();
  for (const auto& m : net->modules()) CHECK(m->is_training());

  nn::Dropout drop(0.5);
  Tensor ones_in = ones({1000});
  const std::vector<double> y = values(drop(ones_in));
  int zeros_seen = 0;
  for (double v : y) {
    CHECK((v == 0.0 || v == 2.0));
    zeros_seen += v == 0.0;
  }
  CHECK(zeros_seen > 400);
  CHECK(zeros_seen < 600);
  drop->eval();
  CHECK(drop(ones_in).is_same(ones_in));
  CHECK_THROWS_WITH_AS(nn::Dropout(1.5), doctest::Contains("between 0 and 1, but got 1.5"), Error);
}

TEST_CASE("state_dict round trip into a fresh model is bit-identical") {
  manual_seed(1);
  Net a;
  a->scale.fill_(0.5);
  manual_seed(2);
  Net b;
  StateDict sd = a->state_dict();
  // Each module's own parameters and buffers come before its children's (PyTorch's order).
  CHECK(sd.keys() == std::vector<std::string>{"scale", "features.0.weight", "features.0.bias",
                                              "head.weight"});
  for (const auto& item : sd) CHECK_FALSE(item.value().requires_grad());
  CHECK_FALSE(bit_equal(a->head->weight, b->head->weight));
  Tensor b_weight = b->head->weight;  // a handle held elsewhere (an optimizer's)
  nn::LoadResult r = b->load_state_dict(sd);
  CHECK(r.missing_keys.empty());
  CHECK(r.unexpected_keys.empty());
  for (const auto& item : a->state_dict()) CHECK(bit_equal(item.value(), b->state_dict()[item.key()]));
  CHECK(b_weight.is_same(b->head->weight));  // loaded in place
  CHECK(b->head->weight.requires_grad());
  a->eval();
  b->eval();
  Tensor x = randn({3, 4});
  CHECK(values(a(x)) == values(b(x)));
  // Loading a model's own state_dict into itself is harmless.
  b->load_state_dict(b->state_dict());
  CHECK(bit_equal(a->head->weight, b->head->weight));
}

TEST_CASE("load_state_dict lists every problem in one error and changes nothing") {
  manual_seed(3);
  Net net;
  StateDict before;
  for (const auto& item : net->state_dict()) before.insert(item.key(), item.value().clone());

  StateDict bad;
  bad.insert("features.0.weight", zeros({8, 5}));              // wrong shape
  bad.insert("features.0.bias", zeros({8}, kFloat64));          // wrong dtype
  bad.insert("scale", ones({3}));                               // fine
  bad.insert("extra.weight", zeros({2, 2}));                    // unexpected
  // head.weight missing
  std::string message;
  try {
    net->load_state_dict(bad);
  } catch (const Error& e) {
    message = e.what();
  }
  CAPTURE(message);
  CHECK(message.find("load_state_dict: 4 problems loading into Net; nothing was changed") !=
        std::string::npos);
  CHECK(message.find("'features.0.weight': shape mismatch: the state_dict has [8, 5], the model "
                     "has [8, 4]") != std::string::npos);
  CHECK(message.find("'features.0.bias': dtype mismatch: the state_dict has float64, the model "
                     "has float32") != std::string::npos);
  CHECK(message.find("missing key 'head.weight' (the model has [3, 8], float32)") !=
        std::string::npos);
  CHECK(message.find("unexpected key 'extra.weight' ([2, 2], float32)") != std::string::npos);
  for (const auto& item : net->state_dict()) CHECK(bit_equal(item.value(), before[item.key()]));

  // NonStrict: missing and unexpected keys are reported, the rest is loaded;
  // a shape mismatch still raises.
  StateDict partial;
  partial.insert("head.weight", full({3, 8}, 0.25));
  partial.insert("other", zeros({1}));
  nn::LoadResult r = net->load_state_dict(partial, nn::LoadStrictness::NonStrict);
  CHECK(r.missing_keys == std::vector<std::string>{"scale", "features.0.weight", "features.0.bias"});
  CHECK(r.unexpected_keys == std::vector<std::string>{"other"});
  CHECK(values(net->head->weight) == std::vector<double>(24, 0.25));
  StateDict misshaped;
  misshaped.insert("scale", ones({4}));
  CHECK_THROWS_WITH_AS(net->load_state_dict(misshaped, nn::LoadStrictness::NonStrict),
                       doctest::Contains("'scale': shape mismatch"), Error);
}

TEST_CASE("printing equals PyTorch's repr") {
  // With torch 1.13:
  //   print(nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(0.2), nn.GELU(),
  //     nn.GELU(approximate='tanh'), nn.SiLU(), nn.Tanh(), nn.Sigmoid(), nn.Flatten(),
  //     nn.Identity(), nn.Linear(8, 2, bias=False), nn.Sequential(nn.Linear(2, 2))))
  //   print(nn.ModuleList([nn.ReLU()])); print(nn.Sequential()); print(nn.Dropout(0.0))
  nn::Sequential seq(nn::Linear(4, 8), nn::ReLU(), nn::Dropout(0.2), nn::GELU(),
                     nn::GELU(nn::GELUOptions().approximate("tanh")), nn::SiLU(), nn::Tanh(),
                     nn::Sigmoid(), nn::Flatten(), nn::Identity(),
                     nn::Linear(nn::LinearOptions(8, 2).bias(false)),
                     nn::Sequential(nn::Linear(2, 2)));
  std::ostringstream os;
  os << seq;
  CHECK(os.str() ==
        "Sequential(\n"
        "  (0): Linear(in_features=4, out_features=8, bias=True)\n"
        "  (1): ReLU()\n"
        "  (2): Dropout(p=0.2, inplace=False)\n"
        "  (3): GELU(approximate='none')\n"
        "  (4): GELU(approximate='tanh')\n"
        "  (5): SiLU()\n"
        "  (6): Tanh()\n"
        "  (7): Sigmoid()\n"
        "  (8): Flatten(start_dim=1, end_dim=-1)\n"
        "  (9): Identity()\n"
        "  (10): Linear(in_features=8, out_features=2, bias=False)\n"
        "  (11): Sequential(\n"
        "    (0): Linear(in_features=2, out_features=2, bias=True)\n"
        "  )\n"
        ")");
  nn::ModuleList list{nn::ReLU()};
  CHECK(list->repr() == "ModuleList(\n  (0): ReLU()\n)");
  CHECK(nn::Sequential()->repr() == "Sequential()");
  CHECK(nn::Dropout(0.0)->repr() == "Dropout(p=0.0, inplace=False)");
  CHECK(nn::repr_float(1e-5) == "1e-05");
  CHECK(nn::repr_float(0.0001) == "0.0001");
  CHECK(nn::repr_float(0.1) == "0.1");
  CHECK(nn::repr_float(3.0) == "3.0");
  CHECK(nn::repr_float(1e16) == "1e+16");
  // Your own module's name comes from its type, without "Impl".
  CHECK(Net()->name() == "Net");
}

TEST_CASE("summary lists each module with its parameter count and the totals") {
  nn::Sequential seq(nn::Linear(4, 8), nn::ReLU(), nn::Linear(8, 2));
  CHECK(nn::summary(*seq) ==
        "module  type        params\n"
        "(root)  Sequential      58\n"
        "0       Linear          40\n"
        "1       ReLU             0\n"
        "2       Linear          18\n"
        "total params: 58 (trainable 58, non-trainable 0), buffers: 0 elements\n");
}

TEST_CASE("zero_grad sets grads to none or to zeros") {
  nn::Linear fc(3, 2);
  fc(ones({4, 3})).sum().backward();
  REQUIRE(fc->weight.grad().defined());
  fc->zero_grad(/*set_to_none=*/false);
  CHECK(values(fc->weight.grad()) == std::vector<double>(6, 0.0));
  CHECK(values(fc->bias.grad()) == std::vector<double>(2, 0.0));
  fc->zero_grad();  // set_to_none = true, LibTorch's default
  CHECK_FALSE(fc->weight.grad().defined());
  CHECK_FALSE(fc->bias.grad().defined());
}

TEST_CASE("to(kFloat64) converts in place: handles held elsewhere stay usable") {
  manual_seed(4);
  nn::Sequential model(nn::Linear(3, 4), nn::Tanh(), nn::Linear(4, 1));
  model->register_buffer("steps", zeros({1}, kInt64));
  std::vector<Tensor> held = model->parameters();  // what an optimizer keeps
  const std::vector<double> w_before = values(held[0]);
  model->to(kFloat64);
  for (const Tensor& p : model->parameters()) CHECK(p.dtype() == kFloat64);
  CHECK(model->named_buffers()["steps"].dtype() == kInt64);  // not a float: unchanged
  CHECK(values(held[0]) == w_before);  // float32 -> float64 is exact
  for (size_t i = 0; i < held.size(); ++i) {
    CHECK(held[i].is_same(model->parameters()[i]));
    CHECK(held[i].dtype() == kFloat64);
    CHECK(held[i].requires_grad());
    CHECK(held[i].is_leaf());
  }
  // A step of plain SGD through the held handles changes the model.
  Tensor x = randn({5, 3}, kFloat64);
  model(x).sum().backward();
  {
    NoGradGuard no_grad;
    for (Tensor& p : held) {
      REQUIRE(p.grad().defined());
      CHECK(p.grad().dtype() == kFloat64);
      p.sub_(p.grad(), 0.1);
    }
  }
  CHECK(values(model->ptr<nn::LinearImpl>(0)->weight) == values(held[0]));
  CHECK(values(held[0]) != w_before);
  // Gradients are converted along with their parameters.
  model->to(kFloat32);
  CHECK(held[0].grad().dtype() == kFloat32);
  CHECK_THROWS_WITH_AS(model->to(kInt64), doctest::Contains("floating-point dtype"), Error);
  // A GPU that is not there: the error names the device (tests/gpu moves modules for real).
  CHECK_THROWS_WITH_AS(model->to(Device(kCUDA, cuda::device_count())),
                       doctest::Contains("needs a usable CUDA device"), Error);
}

TEST_CASE("Sequential: handles, push_back, indexing, named entries, forward") {
  nn::Sequential seq(nn::Linear(4, 8), nn::ReLU());
  seq->push_back(nn::Linear(8, 2));
  CHECK(seq->size() == 3);
  CHECK(seq[1]->name() == "ReLU");
  CHECK(seq->ptr<nn::LinearImpl>(2)->options.out_features() == 2);
  CHECK(seq->at<nn::LinearImpl>(0).options.in_features() == 4);
  CHECK_THROWS_WITH_AS(seq->ptr<nn::LinearImpl>(1), doctest::Contains("is a ReLU"), Error);
  CHECK_THROWS_WITH_AS(seq->ptr(3), doctest::Contains("index 3 is out of range (size 3)"), Error);
  Tensor x = randn({5, 4});
  Tensor expected = seq->ptr<nn::LinearImpl>(2)->forward(
      relu(seq->ptr<nn::LinearImpl>(0)->forward(x)));
  CHECK(values(seq(x)) == values(expected));
  CHECK(seq(x).sizes() == Shape{5, 2});

  nn::Sequential named({{"fc", nn::Linear(4, 8)}, {"act", nn::GELU()}});
  CHECK(named->named_parameters().keys() == std::vector<std::string>{"fc.weight", "fc.bias"});
  CHECK(named->repr() ==
        "Sequential(\n  (fc): Linear(in_features=4, out_features=8, bias=True)\n  (act): "
        "GELU(approximate='none')\n)");

  // A handle is shared, not copied: the same parameters in both places.
  nn::Linear shared(2, 2);
  nn::Sequential twice(shared, shared);
  CHECK(twice->ptr(0) == twice->ptr(1));
  CHECK(twice->parameters().size() == 4);  // listed under both names, as LibTorch

  // A Sequential of Sequentials.
  nn::Sequential outer(nn::Sequential(nn::Linear(2, 3)), nn::Sequential(nn::Tanh()));
  CHECK(outer->named_parameters().keys() == std::vector<std::string>{"0.0.weight", "0.0.bias"});
  CHECK(outer(ones({1, 2})).sizes() == Shape{1, 3});
}

TEST_CASE("ModuleList holds modules by index; no forward") {
  nn::ModuleList blocks(nn::Linear(2, 2), nn::ReLU());
  blocks->push_back(std::make_shared<nn::LinearImpl>(2, 3));
  CHECK(blocks->size() == 3);
  CHECK(blocks->named_parameters().keys() ==
        std::vector<std::string>{"0.weight", "0.bias", "2.weight", "2.bias"});
  Tensor x = ones({1, 2});
  for (const auto& m : *blocks)
    if (auto lin = std::dynamic_pointer_cast<nn::LinearImpl>(m)) x = lin->forward(x);
  CHECK(x.sizes() == Shape{1, 3});
  CHECK(blocks->ptr<nn::LinearImpl>(2)->options.out_features() == 3);
}

TEST_CASE("replace_module swaps a child: names and parameters follow") {
  Net net;
  net->head = net->replace_module("head", nn::Linear(8, 5));
  CHECK(net->named_parameters().keys() ==
        std::vector<std::string>{"features.0.weight", "features.0.bias", "head.weight",
                                 "head.bias"});
  CHECK(net->head->options.out_features() == 5);
}

TEST_CASE("replace_module on Sequential and ModuleList: forward, indexing and parameters agree") {
  // The containers kept their own list, which replace_module left pointing at the old layer:
  // forward ran the old one while parameters() and state_dict() listed the new one.
  nn::Sequential seq(nn::Linear(2, 3), nn::ReLU());
  nn::Linear wider(2, 5);
  seq->replace_module("0", wider);
  CHECK(seq->ptr(0) == wider.ptr());
  CHECK(seq->ptr<nn::LinearImpl>(0)->options.out_features() == 5);
  CHECK((*seq->begin()).ptr() == wider.ptr());
  const Tensor x = randn({4, 2});
  CHECK(seq(x).sizes() == Shape{4, 5});
  CHECK(values(seq(x)) == values(relu(wider(x))));
  CHECK(seq->parameters().size() == 2);
  CHECK(seq->parameters()[0].unsafe_impl() == wider->weight.unsafe_impl());
  CHECK(seq->state_dict()["0.weight"].sizes() == Shape{5, 2});

  // Named entries: the replacement keeps its place.
  nn::Sequential named({{"fc", nn::Linear(2, 3)}, {"act", nn::Tanh()}});
  named->replace_module("act", nn::ReLU());
  CHECK(named[1]->name() == "ReLU");
  CHECK(values(named(-ones({1, 2})).min()) == std::vector<double>{0.0});

  // A module without a Tensor -> Tensor forward can't enter a Sequential; nothing changes.
  nn::ModuleList list(nn::Linear(2, 2));
  CHECK_THROWS_WITH_AS(seq->replace_module("1", list),
                       doctest::Contains("Sequential: replace_module('1'): a ModuleList has no forward taking "
                                         "and returning one Tensor"), Error);
  CHECK(seq[1]->name() == "ReLU");
  CHECK(seq->named_children()["1"]->name() == "ReLU");

  nn::ModuleList blocks(nn::Linear(2, 2), nn::ReLU());
  nn::Linear replacement(2, 4);
  blocks->replace_module("0", replacement);
  CHECK(blocks->ptr(0) == replacement.ptr());
  CHECK(*blocks->begin() == replacement.ptr());
  CHECK(blocks->parameters()[0].unsafe_impl() == replacement->weight.unsafe_impl());
}

TEST_CASE("Linear: PyTorch's default init bounds, shapes and errors") {
  manual_seed(5);
  nn::Linear fc(400, 30);
  const double bound = 1.0 / 20.0;  // 1 / sqrt(in_features)
  for (const Tensor& p : fc->parameters())
    for (double v : values(p)) CHECK(std::abs(v) <= bound);
  CHECK(max(abs(fc->weight)).item<double>() > 0.9 * bound);
  CHECK(fc(randn({2, 7, 400})).sizes() == Shape{2, 7, 30});
  CHECK_THROWS_WITH_AS(fc(randn({2, 5})), doctest::Contains("linear"), Error);
  nn::Linear nob(nn::LinearOptions(3, 2).bias(false));
  CHECK_FALSE(nob->bias.defined());
  CHECK(nob->parameters().size() == 1);
  CHECK(nob->state_dict().keys() == std::vector<std::string>{"weight"});
}

TEST_CASE("Flatten, Identity and the activations call the functional ops") {
  Tensor x = randn({2, 3, 4, 5});
  CHECK(nn::Flatten()(x).sizes() == Shape{2, 60});
  CHECK(nn::Flatten(nn::FlattenOptions().start_dim(0).end_dim(1))(x).sizes() == Shape{6, 4, 5});
  CHECK(nn::Identity()(x).is_same(x));
  CHECK(values(nn::ReLU()(x)) == values(relu(x)));
  CHECK(values(nn::GELU()(x)) == values(gelu(x)));
  CHECK(values(nn::GELU(nn::GELUOptions().approximate(GeluApproximation::Tanh))(x)) ==
        values(gelu(x, GeluApproximation::Tanh)));
  CHECK(values(nn::SiLU()(x)) == values(silu(x)));
  CHECK(values(nn::Tanh()(x)) == values(tanh(x)));
  CHECK(values(nn::Sigmoid()(x)) == values(sigmoid(x)));
  CHECK_THROWS_WITH_AS(nn::GELUOptions().approximate("fast"),
                       doctest::Contains("'none' or 'tanh', got 'fast'"), Error);
}

TEST_CASE("apply visits every module, children first") {
  Net net;
  std::vector<std::string> seen;
  net->apply([&](nn::Module& m) { seen.push_back(m.name()); });
  CHECK(seen == std::vector<std::string>{"Linear", "ReLU", "Dropout", "Sequential", "Linear", "Net"});
}
