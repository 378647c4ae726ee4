// Golden test: lucid against PyTorch 1.13 on every case in goldens/ops.txt.
//
// goldens/make_goldens.py wrote, per case, the inputs, an upstream gradient
// grad_out, the outputs and grad_<x> = d(sum(out * grad_out))/dx for each
// differentiable input x (split/chunk: one grad_out<i> per piece out<i>; format:
// goldens/README.md). Here each case name maps
// to one lambda that makes the same call in lucid; the test runs it, runs the
// same backward, and compares every output and gradient record.
//
// Tolerance: |lucid - torch| <= atol + rtol * |torch|, with rtol 1e-5 and atol
// 1e-6 for float32 (a few ulps after a handful of roundings in a different
// order), and 1e-10 for float64. Integer and bool outputs must match exactly.
#include <doctest/doctest.h>

#include <cmath>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include <lucid/lucid.h>

#include "golden_file.h"

using namespace lucid;
using namespace lucid::testing;
namespace F = lucid::nn::functional;

namespace {

constexpr Tolerance kOpsTolerance{/*rtol32=*/1e-5, /*atol32=*/1e-6, /*tol64=*/1e-10};

const std::vector<GoldenCase>& goldens() {
  static const std::vector<GoldenCase> cases = read_goldens("goldens/ops.txt");
  return cases;
}

// ---- the registry: case name -> the same call in lucid ------------------------

using Op = std::function<Outs(const In&)>;

Outs values_indices(const std::tuple<Tensor, Tensor>& vi) {
  return {{"values", std::get<0>(vi)}, {"indices", std::get<1>(vi)}};
}

// split/chunk pieces are the outputs out0, out1, ...
Outs pieces(const std::vector<Tensor>& ts) {
  std::vector<Record> r;
  for (size_t i = 0; i < ts.size(); ++i) r.push_back({"out" + std::to_string(i), ts[i]});
  return r;
}

Outs out_indices(const std::tuple<Tensor, Tensor>& oi) {
  return {{"out", std::get<0>(oi)}, {"indices", std::get<1>(oi)}};
}

// batch_norm updates the running statistics in place: run it on copies and
// report the copies, as the script does.
Outs batch_norm_train(const In& x) {
  Tensor rm = x["running_mean"].clone(), rv = x["running_var"].clone();
  Tensor y = F::batch_norm(x["x"], rm, rv, x["weight"], x["bias"], /*training=*/true, 0.1, 1e-5);
  return {{"out", y}, {"running_mean_new", rm}, {"running_var_new", rv}};
}

const std::map<std::string, Op>& registry() {
  using F::Reduction;
  static const std::map<std::string, Op> ops = {
      // elementwise
      {"add_bcast", [](const In& x) { return add(x["a"], x["b"]); }},
      {"sub_bcast", [](const In& x) { return sub(x["a"], x["b"]); }},
      {"mul_bcast", [](const In& x) { return mul(x["a"], x["b"]); }},
      {"div_bcast", [](const In& x) { return div(x["a"], x["b"]); }},
      {"add_bcast_f64", [](const In& x) { return add(x["a"], x["b"]); }},
      {"pow_tensor", [](const In& x) { return pow(x["a"], x["b"]); }},
      {"pow_scalar_2.5", [](const In& x) { return pow(x["x"], 2.5); }},
      {"neg", [](const In& x) { return neg(x["x"]); }},
      {"exp", [](const In& x) { return exp(x["x"]); }},
      {"exp_f64", [](const In& x) { return exp(x["x"]); }},
      {"log", [](const In& x) { return log(x["x"]); }},
      {"sqrt", [](const In& x) { return sqrt(x["x"]); }},
      {"rsqrt", [](const In& x) { return rsqrt(x["x"]); }},
      {"abs", [](const In& x) { return abs(x["x"]); }},
      {"clamp_-0.5_0.5", [](const In& x) { return clamp(x["x"], -0.5, 0.5); }},
      {"maximum", [](const In& x) { return maximum(x["a"], x["b"]); }},
      {"minimum", [](const In& x) { return minimum(x["a"], x["b"]); }},
      {"relu", [](const In& x) { return F::relu(x["x"]); }},
      {"leaky_relu_0.2", [](const In& x) { return F::leaky_relu(x["x"], 0.2); }},
      {"gelu", [](const In& x) { return F::gelu(x["x"]); }},
      {"gelu_tanh", [](const In& x) { return F::gelu(x["x"], GeluApproximation::Tanh); }},
      {"silu", [](const In& x) { return F::silu(x["x"]); }},
      {"sigmoid", [](const In& x) { return sigmoid(x["x"]); }},
      {"tanh", [](const In& x) { return tanh(x["x"]); }},
      {"softplus", [](const In& x) { return F::softplus(x["x"], 1.0, 20.0); }},
      {"where", [](const In& x) { return where(x["cond"], x["x"], x["y"]); }},
      {"add_alpha_-1.5", [](const In& x) { return add(x["a"], x["b"], -1.5); }},
      {"sub_alpha_2", [](const In& x) { return sub(x["a"], x["b"], 2.0); }},
      {"square", [](const In& x) { return square(x["x"]); }},
      {"sign", [](const In& x) { return sign(x["x"]); }},
      {"eq", [](const In& x) { return eq(x["a"], x["b"]); }},
      {"ne", [](const In& x) { return ne(x["a"], x["b"]); }},
      {"lt", [](const In& x) { return lt(x["a"], x["b"]); }},
      {"le", [](const In& x) { return le(x["a"], x["b"]); }},
      {"gt", [](const In& x) { return gt(x["a"], x["b"]); }},
      {"ge", [](const In& x) { return ge(x["a"], x["b"]); }},
      // reductions
      {"sum_dim1_keepdim", [](const In& x) { return sum(x["x"], {1}, true); }},
      {"sum_dims02", [](const In& x) { return sum(x["x"], {0, 2}); }},
      {"mean_dim1_keepdim", [](const In& x) { return mean(x["x"], {1}, true); }},
      {"mean_dims02", [](const In& x) { return mean(x["x"], {0, 2}); }},
      {"var_dim1", [](const In& x) { return var(x["x"], {1}, /*correction=*/1); }},
      {"std_dim1", [](const In& x) { return lucid::std(x["x"], {1}, /*correction=*/1); }},
      {"sum_all", [](const In& x) { return sum(x["x"]); }},
      {"mean_all", [](const In& x) { return mean(x["x"]); }},
      {"var_dims02_c0", [](const In& x) { return var(x["x"], {0, 2}, /*correction=*/0); }},
      {"std_dim1_keepdim_c0", [](const In& x) { return lucid::std(x["x"], {1}, /*correction=*/0, true); }},
      {"max_dim1", [](const In& x) { return values_indices(max(x["x"], 1)); }},
      {"min_dim1", [](const In& x) { return values_indices(min(x["x"], 1)); }},
      {"argmax_dim1", [](const In& x) { return argmax(x["x"], 1); }},
      {"argmin_dim1", [](const In& x) { return argmin(x["x"], 1); }},
      {"argmax_dim1_ties", [](const In& x) { return argmax(x["x"], 1); }},
      {"argmin_dim1_ties", [](const In& x) { return argmin(x["x"], 1); }},
      {"max_all", [](const In& x) { return max(x["x"]); }},
      {"min_all", [](const In& x) { return min(x["x"]); }},
      {"max_all_ties", [](const In& x) { return max(x["x"]); }},
      {"amax_dims02", [](const In& x) { return amax(x["x"], {0, 2}); }},
      {"amax_dim1_keepdim_ties", [](const In& x) { return amax(x["x"], {1}, true); }},
      {"logsumexp_dim1", [](const In& x) { return logsumexp(x["x"], {1}); }},
      // linear algebra
      {"matmul_2d", [](const In& x) { return matmul(x["a"], x["b"]); }},
      {"matmul_2d_f64", [](const In& x) { return matmul(x["a"], x["b"]); }},
      {"matmul_1d_2d", [](const In& x) { return matmul(x["a"], x["b"]); }},
      {"matmul_batched_bcast", [](const In& x) { return matmul(x["a"], x["b"]); }},
      {"mm", [](const In& x) { return mm(x["a"], x["b"]); }},
      {"bmm", [](const In& x) { return bmm(x["a"], x["b"]); }},
      {"linear", [](const In& x) { return F::linear(x["x"], x["weight"], x["bias"]); }},
      // softmax and losses
      {"softmax_dim-1", [](const In& x) { return F::softmax(x["x"], -1); }},
      {"log_softmax_dim-1", [](const In& x) { return F::log_softmax(x["x"], -1); }},
      {"log_softmax_dim-1_f64", [](const In& x) { return F::log_softmax(x["x"], -1); }},
      {"cross_entropy_mean", [](const In& x) { return F::cross_entropy(x["logits"], x["target"]); }},
      {"cross_entropy_weight",
       [](const In& x) { return F::cross_entropy(x["logits"], x["target"], x["weight"]); }},
      {"cross_entropy_ignore_index_2",
       [](const In& x) { return F::cross_entropy(x["logits"], x["target"], {}, /*ignore_index=*/2); }},
      {"cross_entropy_label_smoothing_0.1",
       [](const In& x) { return F::cross_entropy(x["logits"], x["target"], {}, -100, Reduction::Mean, 0.1); }},
      {"cross_entropy_none",
       [](const In& x) { return F::cross_entropy(x["logits"], x["target"], {}, -100, Reduction::None); }},
      {"cross_entropy_sum",
       [](const In& x) { return F::cross_entropy(x["logits"], x["target"], {}, -100, Reduction::Sum); }},
      {"nll_loss_mean", [](const In& x) { return F::nll_loss(x["input"], x["target"]); }},
      {"mse_loss_mean", [](const In& x) { return F::mse_loss(x["input"], x["target"]); }},
      {"bce_with_logits_mean",
       [](const In& x) { return F::binary_cross_entropy_with_logits(x["input"], x["target"]); }},
      {"bce_with_logits_pos_weight",
       [](const In& x) {
         return F::binary_cross_entropy_with_logits(x["input"], x["target"], {}, Reduction::Mean,
                                                    x["pos_weight"]);
       }},
      // embedding, convolution, pooling
      {"embedding", [](const In& x) { return F::embedding(x["indices"], x["weight"]); }},
      {"embedding_padding_idx_5", [](const In& x) { return F::embedding(x["indices"], x["weight"], 5); }},
      {"conv2d_s2_p1_d2_g2",
       [](const In& x) { return F::conv2d(x["x"], x["weight"], x["bias"], {2, 2}, {1, 1}, {2, 2}, 2); }},
      {"max_pool2d_k3_s2_p1", [](const In& x) { return F::max_pool2d(x["x"], {3, 3}, {2, 2}, {1, 1}); }},
      {"max_pool2d_with_indices_k2_s2",
       [](const In& x) { return out_indices(F::max_pool2d_with_indices(x["x"], {2, 2}, {2, 2})); }},
      // avg_pool2d(x, kernel, stride, padding, ceil_mode, count_include_pad)
      {"avg_pool2d_k3_s2_p1_incpad",
       [](const In& x) { return F::avg_pool2d(x["x"], {3, 3}, {2, 2}, {1, 1}, false, true); }},
      {"avg_pool2d_k3_s2_p1_excpad",
       [](const In& x) { return F::avg_pool2d(x["x"], {3, 3}, {2, 2}, {1, 1}, false, false); }},
      {"avg_pool2d_k3_s2_p1_ceil",
       [](const In& x) { return F::avg_pool2d(x["x"], {3, 3}, {2, 2}, {1, 1}, true, true); }},
      {"avg_pool2d_k3_s2_p1_ceil_excpad",
       [](const In& x) { return F::avg_pool2d(x["x"], {3, 3}, {2, 2}, {1, 1}, true, false); }},
      {"adaptive_avg_pool2d_3x2", [](const In& x) { return F::adaptive_avg_pool2d(x["x"], {3, 2}); }},
      // normalization
      {"batch_norm_train", batch_norm_train},
      {"batch_norm_eval",
       [](const In& x) {
         return F::batch_norm(x["x"], x["running_mean"], x["running_var"], x["weight"], x["bias"],
                              /*training=*/false, 0.1, 1e-5);
       }},
      {"layer_norm_last2", [](const In& x) { return F::layer_norm(x["x"], {4, 5}, x["weight"], x["bias"], 1e-5); }},
      // shape and indexing
      {"cat_dim1", [](const In& x) { return cat({x["a"], x["b"], x["c"]}, 1); }},
      {"stack_dim0", [](const In& x) { return stack({x["a"], x["b"], x["c"]}, 0); }},
      {"index_select_dim1", [](const In& x) { return index_select(x["x"], 1, x["index"]); }},
      {"gather_dim1", [](const In& x) { return gather(x["x"], 1, x["index"]); }},
      {"split_size2_dim1", [](const In& x) { return pieces(split(x["x"], 2, 1)); }},
      {"split_sizes_dim0", [](const In& x) { return pieces(split(x["x"], std::vector<int64_t>{1, 3, 2}, 0)); }},
      {"chunk_3_dim1", [](const In& x) { return pieces(chunk(x["x"], 3, 1)); }},
      {"chunk_4_dim0_fewer", [](const In& x) { return pieces(chunk(x["x"], 4, 0)); }},
      // views
      {"view_3_20", [](const In& x) { return x["x"].view({3, 20}); }},
      {"reshape_transposed", [](const In& x) { return x["x"].transpose(0, 2).reshape({-1, 6}); }},
      {"permute_201", [](const In& x) { return x["x"].permute({2, 0, 1}); }},
      {"transpose_02", [](const In& x) { return x["x"].transpose(0, 2); }},
      {"t_2d", [](const In& x) { return x["x"].t(); }},
      {"narrow_dim1_1_2", [](const In& x) { return x["x"].narrow(1, 1, 2); }},
      {"slice_dim2_1_5_2", [](const In& x) { return x["x"].slice(2, 1, 5, 2); }},
      {"select_dim1_2", [](const In& x) { return x["x"].select(1, 2); }},
      {"expand_2_3_4_5", [](const In& x) { return x["x"].expand({2, 3, 4, 5}); }},
      {"squeeze_all", [](const In& x) { return x["x"].squeeze(); }},
      {"squeeze_dim1", [](const In& x) { return x["x"].squeeze(1); }},
      {"unsqueeze_dim2", [](const In& x) { return x["x"].unsqueeze(2); }},
      {"flatten_1_2", [](const In& x) { return x["x"].flatten(1, 2); }},
      {"clone", [](const In& x) { return x["x"].clone(); }},
      {"dropout_eval_0.5", [](const In& x) { return F::dropout(x["x"], 0.5, /*training=*/false); }},
      // attention (goldens computed by hand in the script: torch 1.13 has no sdpa)
      {"sdpa", [](const In& x) { return F::scaled_dot_product_attention(x["q"], x["k"], x["v"]); }},
      {"sdpa_causal",
       [](const In& x) {
         return F::scaled_dot_product_attention(x["q"], x["k"], x["v"], {}, 0.0, /*is_causal=*/true);
       }},
  };
  return ops;
}

bool is_grad_name(const std::string& name) { return name.rfind("grad_", 0) == 0; }

void run_case(const GoldenCase& c, const Op& op) {
  // Fresh leaves each run; the ones with a golden gradient require grad.
  std::vector<Record> inputs;
  for (const Record& r : c.inputs) {
    Tensor t = r.value.clone();
    if (find(c.outputs, "grad_" + r.name)) t.requires_grad_(true);
    inputs.push_back({r.name, t});
  }
  Outs outs = op(In(inputs));

  // Forward: every golden output is produced, and nothing else.
  for (const Record& want : c.outputs) {
    if (is_grad_name(want.name)) continue;
    const Tensor* got = find(outs.records, want.name);
    if (!got) {
      FAIL_CHECK(c.name << ": lucid returned no output '" << want.name << "'");
      continue;
    }
    check_close(c.name + " " + want.name, *got, want.value, kOpsTolerance);
  }
  for (const Record& r : outs.records)
    if (!find(c.outputs, r.name)) FAIL_CHECK(c.name << ": output '" << r.name << "' has no golden");

  // Backward of sum_k sum(out_k * grad_<k>) over the outputs k with an upstream
  // gradient (split/chunk pieces out0, out1, ...); otherwise of sum(first output *
  // grad_out). Then each grad_<x> against x.grad().
  Tensor loss;
  for (const Record& r : outs.records)
    if (const Tensor* g = find(inputs, "grad_" + r.name))
      loss = loss.defined() ? loss + (r.value * *g).sum() : (r.value * *g).sum();
  if (!loss.defined()) {
    const Tensor* grad_out = find(inputs, "grad_out");
    if (!grad_out) return;
    loss = (outs.records.front().value * *grad_out).sum();
  }
  loss.backward();
  for (const Record& want : c.outputs) {
    if (!is_grad_name(want.name)) continue;
    check_close(c.name + " " + want.name, find(inputs, want.name.substr(5))->grad(), want.value,
                kOpsTolerance);
  }
}

}  // namespace

TEST_CASE("goldens: ops.txt reads back, and every case has a lucid op and vice versa") {
  check_cases_match("ops.txt", goldens(), registry(), "lucid op in the registry");
}

TEST_CASE("goldens: lucid outputs and gradients match PyTorch 1.13 on every case") {
  for (const GoldenCase& c : goldens()) {
    auto it = registry().find(c.name);
    if (it == registry().end()) continue;  // reported by the test above
    try {
      run_case(c, it->second);
    } catch (const Error& e) {
      FAIL_CHECK(c.name << ": " << std::string(e.what()));
    }
    autograd::clear_tape();
  }
}
