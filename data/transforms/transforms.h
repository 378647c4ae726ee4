#pragma once
// lucid::data transforms, table of contents (the pipeline design is in image.h).
#include <lucid/data/transforms/image.h>      // Image (uint8 HWC), Size2
#include <lucid/data/transforms/transform.h>  // Transform, Sample, Kind, Randomness
#include <lucid/data/transforms/compose.h>    // Compose (+ eval()), Lambda
#include <lucid/data/transforms/geometric.h>  // flip, crops, Resize, RandomResizedCrop
#include <lucid/data/transforms/color.h>      // ColorJitter
#include <lucid/data/transforms/tensor.h>     // ToTensor, Normalize
