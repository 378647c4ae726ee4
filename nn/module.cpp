// Module: registration, traversal, modes, conversion, state and printing.
#include <lucid/nn/module.h>

#include <cxxabi.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <sstream>
#include <typeinfo>

#include <lucid/autograd/grad_mode.h>

namespace lucid::nn {

namespace {

void check_name(const std::string& what, const std::string& name) {
  LUCID_CHECK(!name.empty(), "Module: ", what, " name can't be empty");
  LUCID_CHECK(name.find('.') == std::string::npos, "Module: ", what, " name '", name,
              "' can't contain '.' (dots separate the levels of nested names)");
}

std::string join(const std::string& prefix, const std::string& name) {
  return prefix.empty() ? name : prefix + "." + name;
}

// "lucid::nn::LinearImpl" -> "Linear"; "(anonymous namespace)::NetImpl" -> "Net".
std::string type_name(const std::type_info& type) {
  int status = 0;
  char* demangled = abi::__cxa_demangle(type.name(), nullptr, nullptr, &status);
  std::string full = status == 0 && demangled ? demangled : type.name();
  std::free(demangled);
  // Drop namespaces, but not the "::" inside template arguments.
  const size_t open = full.find('<');
  const size_t colon = full.rfind("::", open == std::string::npos ? std::string::npos : open);
  std::string name = colon == std::string::npos ? full : full.substr(colon + 2);
  if (name.size() > 4 && name.ends_with("Impl")) name.resize(name.size() - 4);
  return name;
}

// PyTorch's _addindent: every line but the first gets `spaces` more.
std::string indent(const std::string& text, int spaces) {
  std::string out;
  for (char c : text) {
    out += c;
    if (c == '\n') out.append(static_cast<size_t>(spaces), ' ');
  }
  return out;
}

std::string describe(const Tensor& t) {
  std::ostringstream os;
  os << t.sizes() << ", " << dtype_name(t.dtype());
  return os.str();
}

// Point the TensorImpl behind `t` at the data of `converted`: every handle to
// `t` sees the new storage and dtype; id, requires_grad and leaf status stay.
void assign_in_place(const Tensor& t, const Tensor& converted) {
  TensorImpl& dst = *t.unsafe_impl();
  const TensorImpl& src = *converted.unsafe_impl();
  if (&dst == &src) return;
  dst.storage = src.storage;
  dst.sizes = src.sizes;
  dst.strides = src.strides;
  dst.offset = src.offset;
  dst.dtype = src.dtype;
}

}  // namespace

Module::Module(std::string name) : name_(std::move(name)) {}

// ---- registration --------------------------------------------------------------

Tensor Module::register_parameter(std::string name, Tensor tensor, bool requires_grad) {
  check_name("parameter", name);
  LUCID_CHECK(!buffers_.contains(name) && !children_.contains(name), "register_parameter: '",
              name, "' is already a ", buffers_.contains(name) ? "buffer" : "submodule", " of ",
              this->name());
  if (tensor.defined()) {
    // A parameter is a leaf: a tensor produced by recorded ops is detached.
    if (!tensor.is_leaf()) tensor = tensor.detach();
    LUCID_CHECK(!requires_grad || tensor.is_floating_point(), "register_parameter: '", name,
                "' has dtype ", dtype_name(tensor.dtype()),
                "; only floating-point parameters can require grad");
    tensor.requires_grad_(requires_grad);
  }
  return parameters_.insert(std::move(name), std::move(tensor));
}

Tensor Module::register_buffer(std::string name, Tensor tensor) {
  check_name("buffer", name);
  LUCID_CHECK(!parameters_.contains(name) && !children_.contains(name), "register_buffer: '",
              name, "' is already a ", parameters_.contains(name) ? "parameter" : "submodule",
              " of ", this->name());
  return buffers_.insert(std::move(name), std::move(tensor));
}

void Module::add_child(std::string name, std::shared_ptr<Module> module) {
  check_name("submodule", name);
  LUCID_CHECK(module != nullptr, "register_module: submodule '", name, "' is empty (nullptr)");
  LUCID_CHECK(module.get() != this, "register_module: a module can't be its own submodule ('",
              name, "')");
  LUCID_CHECK(!parameters_.contains(name) && !buffers_.contains(name), "register_module: '",
              name, "' is already a ", parameters_.contains(name) ? "parameter" : "buffer", " of ",
              this->name());
  children_.insert(std::move(name), std::move(module));
}

void Module::replace_child(const std::string& name, std::shared_ptr<Module> module,
                           const TensorForward& forward) {
  LUCID_CHECK(children_.contains(name), "replace_module: ", this->name(),
              " has no submodule named '", name, "'");
  LUCID_CHECK(module != nullptr, "replace_module: submodule '", name, "' is empty (nullptr)");
  LUCID_CHECK(module.get() != this, "replace_module: a module can't be its own submodule ('",
              name, "')");
  replacing_child(name, module, forward);
  children_[name] = std::move(module);
}

// ---- access ----------------------------------------------------------------------

void Module::collect_named(const std::string& prefix, bool params, bool recurse,
                           OrderedDict<std::string, Tensor>& out) const {
  for (const auto& item : params ? parameters_ : buffers_)
    if (item.value().defined()) out.insert(join(prefix, item.key()), item.value());
  if (!recurse) return;
  for (const auto& child : children_)
    child.value()->collect_named(join(prefix, child.key()), params, recurse, out);
}

OrderedDict<std::string, Tensor> Module::named_parameters(bool recurse) const {
  OrderedDict<std::string, Tensor> out("parameter");
  collect_named("", /*params=*/true, recurse, out);
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  return named_parameters(recurse).values();
}

OrderedDict<std::string, Tensor> Module::named_buffers(bool recurse) const {
  OrderedDict<std::string, Tensor> out("buffer");
  collect_named("", /*params=*/false, recurse, out);
  return out;
}

std::vector<Tensor> Module::buffers(bool recurse) const { return named_buffers(recurse).values(); }

std::vector<std::shared_ptr<Module>> Module::children() const { return children_.values(); }

OrderedDict<std::string, std::shared_ptr<Module>> Module::named_children() const {
  return children_;
}

OrderedDict<std::string, std::shared_ptr<Module>> Module::named_modules(bool include_self) {
  OrderedDict<std::string, std::shared_ptr<Module>> out("module");
  if (include_self) {
    std::shared_ptr<Module> self = weak_from_this().lock();
    LUCID_CHECK(self != nullptr, "named_modules: ", name(), " is not owned by a shared_ptr "
                "(make it through a module handle or std::make_shared), so it can't list itself; "
                "pass include_self=false");
    out.insert("", self);
  }
  // Pre-order walk with dotted names.
  std::function<void(const std::string&, const Module&)> walk = [&](const std::string& prefix,
                                                                    const Module& m) {
    for (const auto& child : m.children_) {
      const std::string name = join(prefix, child.key());
      out.insert(name, child.value());
      walk(name, *child.value());
    }
  };
  walk("", *this);
  return out;
}

std::vector<std::shared_ptr<Module>> Module::modules(bool include_self) {
  return named_modules(include_self).values();
}

void Module::apply(const std::function<void(Module&)>& fn) {
  for (const auto& child : children_) child.value()->apply(fn);
  fn(*this);
}

// ---- modes -------------------------------------------------------------------------

void Module::train(bool on) {
  training_ = on;
  for (const auto& child : children_) child.value()->train(on);
}

// ---- device and dtype ------------------------------------------------------------------

void Module::convert(const std::function<Tensor(const Tensor&)>& fn) {
  NoGradGuard no_grad;
  for (auto* dict : {&parameters_, &buffers_}) {
    for (auto& item : *dict) {
      const Tensor& t = item.value();
      if (!t.defined()) continue;
      assign_in_place(t, fn(t.detach()));
      if (Tensor g = t.grad(); g.defined()) t.set_grad(fn(g));
    }
  }
  for (const auto& child : children_) child.value()->convert(fn);
}

void Module::to(Device device) {
  convert([&](const Tensor& t) { return t.to(device); });
}

void Module::to(ScalarType dtype) {
  LUCID_CHECK(lucid::is_floating_point(dtype), "Module::to: ", name(),
              " can only be converted to a floating-point dtype, got ", dtype_name(dtype));
  convert([&](const Tensor& t) { return t.is_floating_point() ? t.to(dtype) : t; });
}

void Module::to(Device device, ScalarType dtype) {
  to(device);
  to(dtype);
}

// ---- gradients -----------------------------------------------------------------------

void Module::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (const Tensor& p : parameters()) {
    if (set_to_none) {
      p.set_grad(Tensor());
    } else if (Tensor g = p.grad(); g.defined()) {
      g.zero_();
    }
  }
}

// ---- state ------------------------------------------------------------------------------

StateDict Module::state_dict() const {
  StateDict out("state_dict entry");
  // Per module: its parameters, then its buffers, then its children (PyTorch's order).
  std::function<void(const std::string&, const Module&)> walk = [&](const std::string& prefix,
                                                                    const Module& m) {
    for (auto* dict : {&m.parameters_, &m.buffers_})
      for (const auto& item : *dict)
        if (item.value().defined()) out.insert(join(prefix, item.key()), item.value().detach());
    for (const auto& child : m.children_) walk(join(prefix, child.key()), *child.value());
  };
  walk("", *this);
  return out;
}

LoadResult Module::load_state_dict(const StateDict& dict, LoadStrictness strictness) {
  // The model's own entries, with the handles to copy into.
  StateDict mine = state_dict();
  LoadResult result;
  std::vector<std::string> problems;
  const bool strict = strictness == LoadStrictness::Strict;
  for (const auto& item : mine) {
    const Tensor& dst = item.value();
    const Tensor* src = dict.find(item.key());
    if (src == nullptr) {
      result.missing_keys.push_back(item.key());
      if (strict)
        problems.push_back("missing key '" + item.key() + "' (the model has " + describe(dst) + ")");
      continue;
    }
    if (!src->defined()) {
      problems.push_back("'" + item.key() + "': the state_dict holds an undefined tensor");
      continue;
    }
    if (src->sizes() != dst.sizes()) {
      std::ostringstream os;
      os << "'" << item.key() << "': shape mismatch: the state_dict has " << src->sizes()
         << ", the model has " << dst.sizes();
      problems.push_back(os.str());
    }
    if (src->dtype() != dst.dtype())
      problems.push_back("'" + item.key() + "': dtype mismatch: the state_dict has " +
                         dtype_name(src->dtype()) + ", the model has " + dtype_name(dst.dtype()));
    if (src->device() != dst.device())
      problems.push_back("'" + item.key() + "': device mismatch: the state_dict has " +
                         src->device().str() + ", the model has " + dst.device().str());
  }
  for (const auto& item : dict) {
    if (mine.contains(item.key())) continue;
    result.unexpected_keys.push_back(item.key());
    if (strict) {
      const std::string what = item.value().defined() ? " (" + describe(item.value()) + ")" : "";
      problems.push_back("unexpected key '" + item.key() + "'" + what);
    }
  }
  if (!problems.empty()) {
    std::ostringstream os;
    os << "load_state_dict: " << problems.size() << (problems.size() == 1 ? " problem" : " problems")
       << " loading into " << name() << "; nothing was changed:";
    for (const std::string& p : problems) os << "\n  " << p;
    throw Error(os.str());
  }
  NoGradGuard no_grad;
  for (const auto& item : mine)
    if (const Tensor* src = dict.find(item.key())) Tensor(item.value()).copy_(*src);
  return result;
}

// ---- printing -----------------------------------------------------------------------------

const std::string& Module::name() const {
  if (name_.empty()) name_ = type_name(typeid(*this));
  return name_;
}

std::string Module::repr() const {
  std::vector<std::string> lines;
  const std::string extra = extra_repr();
  size_t extra_lines = 0;
  if (!extra.empty()) {
    std::istringstream in(extra);
    for (std::string line; std::getline(in, line);) lines.push_back(line), ++extra_lines;
  }
  for (const auto& child : children_)
    lines.push_back("(" + child.key() + "): " + indent(child.value()->repr(), 2));
  std::string out = name() + "(";
  if (extra_lines == 1 && children_.is_empty()) {
    out += lines[0];
  } else if (!lines.empty()) {
    out += "\n";
    for (const std::string& line : lines) out += "  " + line + "\n";
  }
  return out + ")";
}

std::ostream& operator<<(std::ostream& os, const Module& module) { return os << module.repr(); }

// Python's float repr: the shortest round-trip digits, positional when the
// decimal exponent is in [-4, 16), else scientific with a 2-digit exponent.
std::string repr_float(double value) {
  if (std::isnan(value)) return "nan";
  if (std::isinf(value)) return value > 0 ? "inf" : "-inf";
  char buf[64];
  auto sci = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::scientific);
  std::string s(buf, sci.ptr);
  const int exponent = std::stoi(s.substr(s.find('e') + 1));
  if (exponent >= -4 && exponent < 16) {
    auto fixed = std::to_chars(buf, buf + sizeof buf, value, std::chars_format::fixed);
    s.assign(buf, fixed.ptr);
    if (s.find('.') == std::string::npos) s += ".0";
    return s;
  }
  // "1e-05" / "1.5e+20": to_chars already writes at least two exponent digits.
  return s;
}

int64_t parameter_count(const Module& module) {
  int64_t n = 0;
  for (const Tensor& p : module.parameters()) n += p.numel();
  return n;
}

std::string summary(Module& module) {
  struct Row {
    std::string name, type;
    int64_t params;
  };
  std::vector<Row> rows{{"(root)", module.name(), parameter_count(module)}};
  for (const auto& item : module.named_modules(/*include_self=*/false))
    rows.push_back({item.key(), item.value()->name(), parameter_count(*item.value())});
  size_t wname = 6, wtype = 4, wparams = 6;  // "module", "type", "params"
  for (const Row& r : rows) {
    wname = std::max(wname, r.name.size());
    wtype = std::max(wtype, r.type.size());
    wparams = std::max(wparams, std::to_string(r.params).size());
  }
  std::ostringstream os;
  os << std::left << std::setw(static_cast<int>(wname)) << "module" << "  "
     << std::setw(static_cast<int>(wtype)) << "type" << "  " << std::right
     << std::setw(static_cast<int>(wparams)) << "params" << "\n";
  for (const Row& r : rows)
    os << std::left << std::setw(static_cast<int>(wname)) << r.name << "  "
       << std::setw(static_cast<int>(wtype)) << r.type << "  " << std::right
       << std::setw(static_cast<int>(wparams)) << r.params << "\n";
  int64_t trainable = 0, buffer_elems = 0;
  for (const Tensor& p : module.parameters())
    if (p.requires_grad()) trainable += p.numel();
  for (const Tensor& b : module.buffers()) buffer_elems += b.numel();
  const int64_t total = parameter_count(module);
  os << "total params: " << total << " (trainable " << trainable << ", non-trainable "
     << total - trainable << "), buffers: " << buffer_elems << " elements\n";
  return os.str();
}

}  // namespace lucid::nn
