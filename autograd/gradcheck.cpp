#include <lucid/autograd/gradcheck.h>

#include <cmath>
#include <sstream>

#include <lucid/autograd/ops/elementwise.h>
#include <lucid/autograd/ops/reduce.h>
#include <lucid/autograd/tape.h>
#include <lucid/kernels/factory.h>

namespace lucid::autograd {

namespace {

// Address of the k-th element (row-major order) of a float64 view.
double* element(const Tensor& t, int64_t k) {
  int64_t off = 0;
  for (int64_t d = t.dim() - 1; d >= 0; --d) {
    off += (k % t.size(d)) * t.stride(d);
    k /= t.size(d);
  }
  return static_cast<double*>(t.storage()->data()) + t.storage_offset() + off;
}

double project(const std::vector<Tensor>& outs, const std::vector<Tensor>& vs) {
  double s = 0;
  for (size_t k = 0; k < outs.size(); ++k)
    if (outs[k].is_floating_point()) s += sum(outs[k].to(kFloat64) * vs[k]).item<double>();
  return s;
}

}  // namespace

bool gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs, GradcheckOptions opt) {
  for (size_t i = 0; i < inputs.size(); ++i)
    if (inputs[i].defined() && inputs[i].requires_grad())
    {
      LUCID_CHECK(inputs[i].dtype() == kFloat64, "gradcheck: input ", i, " has dtype ",
                  inputs[i].dtype(), "; finite differences need float64 inputs");
      LUCID_CHECK(inputs[i].is_cpu(), "gradcheck: input ", i, " is on ", inputs[i].device().str(),
                  "; finite differences perturb elements on the host: pass CPU inputs and move them "
                  "inside fn");
      LUCID_CHECK(inputs[i].is_leaf(), "gradcheck: input ", i, " (shape ", inputs[i].sizes(),
                  ") is not a leaf; pass leaf tensors (detach().requires_grad_())");
    }

  // analytic: backward of <v, f(x)>
  std::vector<Tensor> outs = fn(inputs);
  std::vector<Tensor> vs;
  for (const Tensor& o : outs) vs.push_back(randn(o.sizes(), kFloat64));
  for (const Tensor& x : inputs)
    if (x.defined() && x.requires_grad()) x.set_grad(Tensor());
  Tensor total;
  for (size_t k = 0; k < outs.size(); ++k) {
    if (!outs[k].requires_grad()) continue;
    Tensor term = sum(outs[k].to(kFloat64) * vs[k]);
    total = total.defined() ? total + term : term;
  }
  LUCID_CHECK(total.defined(), "gradcheck: no output requires grad");
  total.backward();

  // numeric: central differences, one input element at a time
  NoGradGuard no_grad;
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& x = inputs[i];
    if (!x.defined() || !x.requires_grad()) continue;
    Tensor analytic = (x.grad().defined() ? x.grad() : zeros_like(x)).contiguous();
    for (int64_t k = 0; k < x.numel(); ++k) {
      double* p = element(x, k);
      const double orig = *p;
      *p = orig + opt.eps;
      const double plus = project(fn(inputs), vs);
      *p = orig - opt.eps;
      const double minus = project(fn(inputs), vs);
      *p = orig;
      const double numeric = (plus - minus) / (2 * opt.eps);
      const double a = analytic.data_ptr<double>()[k];
      if (!(std::fabs(a - numeric) <= opt.atol + opt.rtol * std::fabs(numeric))) {
        std::ostringstream os;
        os << "gradcheck: input " << i << " (shape " << x.sizes() << ") element " << k
           << ": analytic " << a << " vs numeric " << numeric;
        throw Error(os.str());
      }
    }
  }
  return true;
}

bool gradcheck(const std::function<Tensor(const std::vector<Tensor>&)>& fn,
               const std::vector<Tensor>& inputs, GradcheckOptions options) {
  return gradcheck(GradcheckFn([&fn](const std::vector<Tensor>& in) {
                     return std::vector<Tensor>{fn(in)};
                   }),
                   inputs, options);
}

}  // namespace lucid::autograd
