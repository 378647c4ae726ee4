#pragma once
// A StateDict's small entries as JSON, exactly: how trainer_state.json holds
// the optimizer's hyper-parameters, the scheduler's state and the loader's
// position so that a person can read them, and a resume gets every bit back.
//
//   state_to_json(dict, who)       StateDict -> JSON object, one member per key
//   state_from_json(value, ...)    the inverse; raises naming the source and key
//
// The forms (what lucid's state_dicts hold):
//   0-dim int64                 12                   (an Integer)
//   0-dim float64               0.001                (a Number, shortest exact form;
//                                                     "NaN", "Infinity", "-Infinity"
//                                                     as strings: JSON has no such numbers)
//   1-D int64, not empty        [0, 1, 2]            (Integers)
//   1-D float64, not empty      [0.001, 0.002]       (Numbers or the strings above)
//   anything else               {"dtype": "float32", "shape": [2, 2], "values": [...]}
//                               (row-major; int64, int32, uint8, bool, float32, float64)
// Every value comes back with the same dtype, shape and bits (float32 values
// are exact as doubles). Large tensors belong in safetensors, not here:
// state_to_json refuses entries of more than kMaxJsonElements elements.

#include <cstdint>
#include <string>

#include <lucid/data/text/json.h>
#include <lucid/kernels/ordered_dict.h>

namespace lucid::train {

inline constexpr int64_t kMaxJsonElements = 4096;

data::text::json::Value state_to_json(const StateDict& dict, const std::string& who);
StateDict state_from_json(const data::text::json::Value& object, const std::string& what,
                          const std::string& source);

// A double as state_to_json writes it (a Number, or "NaN"/"Infinity"/"-Infinity").
data::text::json::Value double_to_json(double v);
double double_from_json(const data::text::json::Value& v, const std::string& what, const std::string& source);

}  // namespace lucid::train
