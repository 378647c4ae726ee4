// lucid::nn models: small reference networks built from lucid::nn layers.
#pragma once
#include <lucid/nn/models/mlp.h>        // MLP: Linear layers with activations between
#include <lucid/nn/models/small_cnn.h>  // SmallCNN: 2 conv blocks + MLP head for 28x28 images
#include <lucid/nn/models/resnet.h>     // ResNet (BasicBlock): depth 6n+2 for 32x32 images
#include <lucid/nn/models/gpt.h>        // GPT (GPTConfig): decoder-only transformer LM
