#include <lucid/autograd/tape.h>

#include <algorithm>
#include <unordered_map>
#include <unordered_set>

#include <lucid/kernels/factory.h>

namespace lucid {

namespace {
thread_local bool g_grad_enabled = true;
}
bool GradMode::is_enabled() { return g_grad_enabled; }
void GradMode::set_enabled(bool e) { g_grad_enabled = e; }

namespace autograd {

namespace {

// One input as the tape remembers it: its id, and for a leaf that requires
// grad a strong reference so backward can write its .grad().
struct InputRef {
  uint64_t id;
  bool requires_grad;
  std::shared_ptr<TensorImpl> leaf;
};

struct Entry {
  const char* name;
  std::vector<InputRef> inputs;
  std::vector<uint64_t> output_ids;
  std::vector<std::weak_ptr<TensorImpl>> outputs;  // weak: the tape must not keep them alive
  std::vector<Shape> output_sizes;
  std::vector<ScalarType> output_dtypes;
  std::vector<uint32_t> saved_versions;
  Context ctx;
  BackwardFn backward;
};

struct Tape {
  std::vector<Entry> entries;
  size_t size_after_prune = 0;
  // Outputs of entries an earlier backward freed, by id -> op name, kept while
  // the tensor lives or an entry still takes it as input: a later backward that
  // reaches one raises instead of silently dropping that gradient.
  std::unordered_map<uint64_t, std::pair<const char*, std::weak_ptr<TensorImpl>>> freed;
};
thread_local Tape g_tape;

// An alias: same storage/sizes/strides, new handle without history.
Tensor alias_of(const Tensor& t) {
  auto impl = std::make_shared<TensorImpl>();
  impl->storage = t.storage();
  impl->sizes = t.sizes();
  impl->strides = t.strides();
  impl->offset = t.storage_offset();
  impl->dtype = t.dtype();
  return Tensor(std::move(impl));
}

// Drops entries that no live tensor depends on (walk from the end, keeping an
// entry if one of its outputs is alive or is an input of a kept entry).
void prune(Tape& tape) {
  std::unordered_set<uint64_t> needed;
  std::vector<bool> keep(tape.entries.size(), false);
  for (size_t i = tape.entries.size(); i-- > 0;) {
    const Entry& e = tape.entries[i];
    bool alive = false;
    for (size_t k = 0; k < e.outputs.size() && !alive; ++k)
      alive = !e.outputs[k].expired() || needed.count(e.output_ids[k]);
    if (!alive) continue;
    keep[i] = true;
    for (const InputRef& in : e.inputs) needed.insert(in.id);
  }
  std::vector<Entry> kept;
  kept.reserve(tape.entries.size());
  for (size_t i = 0; i < tape.entries.size(); ++i)
    if (keep[i]) kept.push_back(std::move(tape.entries[i]));
  tape.entries = std::move(kept);
  tape.size_after_prune = tape.entries.size();
  std::erase_if(tape.freed, [&](const auto& f) {
    return f.second.second.expired() && !needed.count(f.first);
  });
}

void accumulate_grad(TensorImpl& impl, const Tensor& g) {
  std::lock_guard<std::mutex> lock(impl.grad_mutex);
  if (!impl.grad) {
    impl.grad = g.clone().impl_ptr();  // a fresh packed copy: never alias a caller's tensor
  } else {
    Tensor(impl.grad).add_(g);
  }
}

}  // namespace

bool needs_grad(std::initializer_list<const Tensor*> inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor* t : inputs)
    if (t->defined() && t->requires_grad()) return true;
  return false;
}

bool needs_grad(const std::vector<Tensor>& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

void record(const char* name, const std::vector<Tensor>& inputs,
            const std::vector<Tensor*>& outputs, const std::vector<Tensor>& saved,
            BackwardFn backward) {
  Tape& tape = g_tape;
  Entry e;
  e.name = name;
  for (const Tensor& in : inputs) {
    bool rg = in.defined() && in.requires_grad();
    e.inputs.push_back({in.defined() ? in.unsafe_impl()->id : 0, rg,
                        rg && in.is_leaf() ? in.impl_ptr() : nullptr});
    e.ctx.input_sizes_.push_back(in.defined() ? in.sizes() : Shape{});
    e.ctx.input_dtypes_.push_back(in.defined() ? in.dtype() : kFloat32);
    e.ctx.needs_input_grad_.push_back(rg);
  }
  for (Tensor* out : outputs) {
    TensorImpl* impl = out->unsafe_impl();
    impl->requires_grad = true;
    impl->is_leaf = false;
    impl->grad_fn = name;
    e.output_ids.push_back(impl->id);
    e.outputs.push_back(out->impl_ptr());
    e.output_sizes.push_back(out->sizes());
    e.output_dtypes.push_back(out->dtype());
  }
  for (const Tensor& s : saved) {
    e.ctx.saved_.push_back(s.defined() ? alias_of(s) : Tensor());
    e.saved_versions.push_back(s.defined() ? s.storage()->version() : 0);
  }
  e.backward = std::move(backward);
  tape.entries.push_back(std::move(e));
  // Amortized O(1): prune when the tape has doubled since the last prune.
  if (tape.entries.size() > 2 * tape.size_after_prune + 256) prune(tape);
}

void run_backward(const Tensor& root, const Tensor& gradient, bool retain_graph) {
  LUCID_CHECK(root.defined(), "backward: called on an undefined tensor");
  NoGradGuard no_grad;  // nothing backward does is recorded, not even copying `gradient` into .grad
  LUCID_CHECK(root.requires_grad(), "backward: tensor of shape ", root.sizes(),
              " does not require grad and has no grad_fn (did you forget requires_grad, or run "
              "under NoGradGuard?)");
  Tensor g0 = gradient;
  if (!g0.defined()) {
    LUCID_CHECK(root.numel() == 1, "backward: grad can be implicitly created only for a tensor "
                "with one element, got shape ", root.sizes(), "; pass a gradient");
    g0 = ones_like(root);
  }
  LUCID_CHECK(g0.sizes() == root.sizes(), "backward: gradient has shape ", g0.sizes(),
              " but the tensor has shape ", root.sizes());
  LUCID_CHECK(g0.dtype() == root.dtype() && g0.device() == root.device(),
              "backward: gradient is ", g0.dtype(), " on ", g0.device().str(), " but the tensor is ",
              root.dtype(), " on ", root.device().str());
  if (root.is_leaf()) {
    accumulate_grad(*root.unsafe_impl(), g0);
    return;
  }

  Tape& tape = g_tape;
  const uint64_t root_id = root.unsafe_impl()->id;
  bool found = false;
  for (const Entry& e : tape.entries)
    for (uint64_t id : e.output_ids) found = found || id == root_id;
  LUCID_CHECK(found, "backward: the ops that produced this tensor (grad_fn=",
              root.grad_fn_name() ? root.grad_fn_name() : "?",
              ") are no longer on this thread's tape: backward already ran through them "
              "(pass retain_graph=true to backward twice) or they were recorded on another thread");

  std::unordered_map<uint64_t, Tensor> grads;
  std::unordered_map<uint64_t, std::shared_ptr<TensorImpl>> leaves;
  grads[root_id] = g0;
  std::vector<bool> used(tape.entries.size(), false);

  for (size_t i = tape.entries.size(); i-- > 0;) {
    Entry& e = tape.entries[i];
    bool any = false;
    for (uint64_t id : e.output_ids) any = any || grads.count(id);
    if (!any) continue;
    used[i] = true;

    std::vector<Tensor> gouts;
    for (size_t k = 0; k < e.output_ids.size(); ++k) {
      auto it = grads.find(e.output_ids[k]);
      if (it == grads.end()) {
        gouts.push_back(zeros(e.output_sizes[k], dtype(e.output_dtypes[k])));
        continue;
      }
      gouts.push_back(it->second);
      if (auto out = e.outputs[k].lock(); out && out->retains_grad) accumulate_grad(*out, it->second);
      grads.erase(it);  // consumed: frees memory early
    }
    for (size_t s = 0; s < e.ctx.saved_.size(); ++s) {
      const Tensor& t = e.ctx.saved_[s];
      if (!t.defined()) continue;
      LUCID_CHECK(t.storage()->version() == e.saved_versions[s],
                  "backward: a tensor of shape ", t.sizes(), " saved by '", e.name,
                  "' was modified by an in-place operation after it was saved (version ",
                  t.storage()->version(), ", expected ", e.saved_versions[s],
                  "); use an out-of-place op or clone() it first");
    }
    std::vector<Tensor> gins = e.backward(e.ctx, gouts);
    LUCID_CHECK(gins.size() == e.inputs.size(), "backward of '", e.name, "' returned ",
                gins.size(), " gradients for ", e.inputs.size(), " inputs");
    for (size_t j = 0; j < e.inputs.size(); ++j) {
      const InputRef& in = e.inputs[j];
      if (!in.requires_grad || !gins[j].defined()) continue;
      LUCID_CHECK(gins[j].sizes() == e.ctx.input_sizes_[j], "backward of '", e.name,
                  "' produced a gradient of shape ", gins[j].sizes(), " for input ", j,
                  " of shape ", e.ctx.input_sizes_[j]);
      if (in.leaf) leaves.emplace(in.id, in.leaf);
      auto it = grads.find(in.id);
      if (it == grads.end())
        grads.emplace(in.id, gins[j]);
      else
        it->second = it->second + gins[j];
    }
  }
  // A gradient left over for a non-leaf means its producer is not on the tape.
  for (const auto& [id, g] : grads) {
    auto f = tape.freed.find(id);
    LUCID_CHECK(f == tape.freed.end(), "backward: trying to backward through the graph a second "
                "time: the ops behind a tensor produced by '", f->second.first, "' (shape ",
                g.sizes(), ") were freed by an earlier backward; pass retain_graph=true to it");
    LUCID_CHECK(leaves.count(id), "backward: a tensor of shape ", g.sizes(), " in this graph was "
                "produced by ops that are not on this thread's tape (recorded on another thread, "
                "or removed by clear_tape()); its gradient cannot flow further. detach() it if "
                "that is intended");
  }
  for (auto& [id, leaf] : leaves) {
    auto it = grads.find(id);
    if (it != grads.end()) accumulate_grad(*leaf, it->second);
  }
  if (!retain_graph) {
    std::vector<Entry> kept;
    for (size_t i = 0; i < tape.entries.size(); ++i) {
      if (!used[i]) {
        kept.push_back(std::move(tape.entries[i]));
        continue;
      }
      const Entry& e = tape.entries[i];
      for (size_t k = 0; k < e.output_ids.size(); ++k)
        tape.freed[e.output_ids[k]] = {e.name, e.outputs[k]};
    }
    tape.entries = std::move(kept);
  }
  prune(tape);
}

size_t tape_size() { return g_tape.entries.size(); }

std::vector<std::pair<std::string, size_t>> tape_op_counts() {
  std::unordered_map<std::string, size_t> counts;
  for (const Entry& e : g_tape.entries) ++counts[e.name];
  std::vector<std::pair<std::string, size_t>> out(counts.begin(), counts.end());
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  return out;
}

void clear_tape() {
  g_tape.entries.clear();
  g_tape.freed.clear();
  g_tape.size_after_prune = 0;
}

void dump_tape(std::ostream& os) {
  const Tape& tape = g_tape;
  os << "tape: " << tape.entries.size() << " entries\n";
  for (size_t i = 0; i < tape.entries.size(); ++i) {
    const Entry& e = tape.entries[i];
    os << "  #" << i << ' ' << e.name << "  inputs:";
    for (size_t j = 0; j < e.inputs.size(); ++j)
      os << (j ? ", " : " ") << e.ctx.input_sizes_[j]
         << (e.inputs[j].leaf ? " (leaf)" : e.inputs[j].requires_grad ? "" : " (const)");
    os << "  outputs:";
    for (size_t k = 0; k < e.output_sizes.size(); ++k) os << (k ? ", " : " ") << e.output_sizes[k];
    os << "  saved:";
    if (e.ctx.saved_.empty()) os << " none";
    for (size_t s = 0; s < e.ctx.saved_.size(); ++s)
      os << (s ? ", " : " ")
         << (e.ctx.saved_[s].defined() ? shape_str(e.ctx.saved_[s].sizes()) : "-");
    os << '\n';
  }
}

}  // namespace autograd
}  // namespace lucid
