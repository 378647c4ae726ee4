#pragma once
// OrderedDict<Key, Value>: a map that remembers insertion order, as LibTorch's
// torch::OrderedDict. Modules return their parameters in one, and every
// state_dict in lucid (module, optimizer, scheduler, data loader) is a
// StateDict = OrderedDict<std::string, Tensor>, so a checkpoint only has to
// know how to write named tensors.
//
//   insert(key, value)   append; a duplicate key is an error
//   operator[](key)      the value (error if missing); find(key) -> pointer or nullptr
//   contains, size, is_empty, keys(), values(), items(), erase, clear
//   for (auto& item : dict) item.key(), item.value()

#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include <lucid/kernels/error.h>
#include <lucid/kernels/tensor.h>

namespace lucid {

template <class Key, class Value>
class OrderedDict {
 public:
  class Item {
   public:
    Item(Key key, Value value) : pair_(std::move(key), std::move(value)) {}
    const Key& key() const { return pair_.first; }
    Value& value() { return pair_.second; }
    const Value& value() const { return pair_.second; }
    const std::pair<Key, Value>& pair() const { return pair_; }

   private:
    std::pair<Key, Value> pair_;
  };

  // `what` names the contents in error messages ("parameter", "buffer", ...).
  OrderedDict() = default;
  explicit OrderedDict(std::string what) : what_(std::move(what)) {}

  Value& insert(Key key, Value value) {
    LUCID_CHECK(index_.count(key) == 0, "OrderedDict: ", what_, " '", key, "' already exists");
    index_.emplace(key, items_.size());
    items_.emplace_back(std::move(key), std::move(value));
    return items_.back().value();
  }
  // Insert, or overwrite the value of an existing key (keeps its position).
  Value& insert_or_assign(const Key& key, Value value) {
    if (Value* v = find(key)) return *v = std::move(value);
    return insert(key, std::move(value));
  }
  void update(const OrderedDict& other) {
    for (const Item& item : other) insert_or_assign(item.key(), item.value());
  }

  Value* find(const Key& key) {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].value();
  }
  const Value* find(const Key& key) const {
    auto it = index_.find(key);
    return it == index_.end() ? nullptr : &items_[it->second].value();
  }
  bool contains(const Key& key) const { return index_.count(key) != 0; }

  Value& operator[](const Key& key) {
    Value* v = find(key);
    LUCID_CHECK(v != nullptr, "OrderedDict: no ", what_, " named '", key, "'");
    return *v;
  }
  const Value& operator[](const Key& key) const {
    const Value* v = find(key);
    LUCID_CHECK(v != nullptr, "OrderedDict: no ", what_, " named '", key, "'");
    return *v;
  }
  Item& operator[](size_t i) { return items_.at(i); }
  const Item& operator[](size_t i) const { return items_.at(i); }

  void erase(const Key& key) {
    auto it = index_.find(key);
    LUCID_CHECK(it != index_.end(), "OrderedDict: no ", what_, " named '", key, "'");
    items_.erase(items_.begin() + static_cast<std::ptrdiff_t>(it->second));
    rebuild_index();
  }
  void clear() {
    items_.clear();
    index_.clear();
  }

  size_t size() const { return items_.size(); }
  bool is_empty() const { return items_.empty(); }

  std::vector<Key> keys() const {
    std::vector<Key> out;
    out.reserve(items_.size());
    for (const Item& item : items_) out.push_back(item.key());
    return out;
  }
  std::vector<Value> values() const {
    std::vector<Value> out;
    out.reserve(items_.size());
    for (const Item& item : items_) out.push_back(item.value());
    return out;
  }
  std::vector<std::pair<Key, Value>> pairs() const {
    std::vector<std::pair<Key, Value>> out;
    out.reserve(items_.size());
    for (const Item& item : items_) out.push_back(item.pair());
    return out;
  }
  const std::vector<Item>& items() const { return items_; }

  auto begin() { return items_.begin(); }
  auto end() { return items_.end(); }
  auto begin() const { return items_.begin(); }
  auto end() const { return items_.end(); }

 private:
  void rebuild_index() {
    index_.clear();
    for (size_t i = 0; i < items_.size(); ++i) index_.emplace(items_[i].key(), i);
  }

  std::string what_ = "key";
  std::vector<Item> items_;
  std::unordered_map<Key, size_t> index_;
};

// Every state_dict in lucid: named tensors. Scalars (a learning rate, a step
// count, an epoch) are stored as 0-dim float64 / int64 tensors, so they
// round-trip exactly and a checkpoint writer needs nothing but tensors.
using StateDict = OrderedDict<std::string, Tensor>;

// Reading and writing the scalars of a state_dict. The readers name `who`
// (e.g. "SGD.load_state_dict") and the key in their errors.
Tensor state_double(double value);    // 0-dim float64
Tensor state_int(int64_t value);      // 0-dim int64
double read_double(const StateDict& dict, const std::string& key, const std::string& who);
int64_t read_int(const StateDict& dict, const std::string& key, const std::string& who);

}  // namespace lucid
