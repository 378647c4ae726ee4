#pragma once
// lucid::data, table of contents.
#include <lucid/data/dataset.h>                  // Example, Dataset, sample_generator, SampleScope
#include <lucid/data/transforms/transforms.h>    // Image pipeline: Compose, ToTensor, Normalize, ...
#include <lucid/data/image_decode.h>             // decode_image, read_image (stb_image)
#include <lucid/data/image_encode.h>             // encode_png, write_png (stb_image_write)
#include <lucid/data/datasets/idx.h>             // read_idx, parse_idx
#include <lucid/data/datasets/mnist.h>           // MNIST, FashionMNIST
#include <lucid/data/datasets/cifar10.h>         // CIFAR10
#include <lucid/data/datasets/image_folder.h>    // ImageFolder
#include <lucid/data/datasets/tensor_dataset.h>  // TensorDataset, Subset, random_split
#include <lucid/data/stats.h>                    // channel_stats (mean/std for Normalize)
#include <lucid/data/sampler.h>                  // Sequential/Random/WeightedRandom/DistributedSampler
#include <lucid/data/collate.h>                  // default_collate
#include <lucid/data/dataloader.h>               // DataLoader, DataLoaderOptions
#include <lucid/data/text/text.h>                // tokenizers, TextDataset
