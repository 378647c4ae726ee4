// The tape: what autograd records, and how backward() walks it.
//
// Every op that runs with grad mode on and an input that requires grad appends
// one Entry: its name, the tensors it saved, its inputs and outputs (by id),
// and its backward function. backward() walks the tape from the end:
//
//   grads[root] = 1
//   for entry in reversed(tape):
//     if no output of entry has a grad: skip
//     input_grads = entry.backward(saved, output_grads)   // chain rule, one op
//     grads[input] += input_grad                          // leaves: into .grad()
//
// Each thread records on its own tape (thread_local): two threads can train
// two models at once. A backward on thread B that reaches a tensor whose ops
// were recorded on thread A raises (detach() it to use it as a constant).
//
// Memory: entries used by a backward are dropped (unless retain_graph), and
// entries that no live tensor can reach any more are pruned, so the tape does
// not grow across training steps. Saved tensors are held through aliases
// (same storage, separate handle) so that saving an op's own output does not
// keep that output "alive" as far as pruning can tell.
#pragma once
#include <functional>
#include <ostream>
#include <string>
#include <utility>
#include <vector>

#include <lucid/autograd/grad_mode.h>
#include <lucid/kernels/tensor.h>

namespace lucid::autograd {

// What a backward function sees: saved tensors (version-checked before the
// call) and the shapes/dtypes of the op's inputs.
struct Context {
  std::vector<Tensor> saved_;
  std::vector<Shape> input_sizes_;
  std::vector<ScalarType> input_dtypes_;
  std::vector<bool> needs_input_grad_;

  const Tensor& saved(size_t i) const { return saved_[i]; }
  const Shape& input_sizes(size_t i) const { return input_sizes_[i]; }
  ScalarType input_dtype(size_t i) const { return input_dtypes_[i]; }
  bool needs_input_grad(size_t i) const { return needs_input_grad_[i]; }
};

// backward(ctx, grad_outputs) -> one gradient per input (undefined = none).
// grad_outputs[k] is never undefined: missing output grads are zeros.
// Runs with grad mode off: lucid computes first derivatives only.
using BackwardFn =
    std::function<std::vector<Tensor>(const Context&, const std::vector<Tensor>&)>;

// True when an op on these inputs must be recorded.
bool needs_grad(std::initializer_list<const Tensor*> inputs);
bool needs_grad(const std::vector<Tensor>& inputs);

// Records an op. Marks each output as requiring grad and produced by `name`.
// `saved` are the tensors backward needs; their versions are checked then.
void record(const char* name, const std::vector<Tensor>& inputs,
            const std::vector<Tensor*>& outputs, const std::vector<Tensor>& saved,
            BackwardFn backward);

// Runs backward from `root` (see Tensor::backward).
void run_backward(const Tensor& root, const Tensor& gradient, bool retain_graph);

// Teaching aids: the number of entries on this thread's tape, and a listing
//   #0 matmul  inputs: [4, 3] (leaf), [3, 2]  outputs: [4, 2]  saved: [4, 3], [3, 2]
size_t tape_size();
void dump_tape(std::ostream& os);
// How many entries of each op this thread's tape holds, most frequent first
// (ties by name): what a leak detector names when the tape keeps growing.
std::vector<std::pair<std::string, size_t>> tape_op_counts();
void clear_tape();  // drop everything this thread recorded

}  // namespace lucid::autograd
