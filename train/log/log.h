#pragma once
// lucid::train::log, table of contents (docs/logging.md: the files and how to view them).
#include <lucid/train/log/summary_writer.h>   // SummaryWriter: TensorBoard event files
#include <lucid/train/log/jsonl.h>            // ScalarJsonlWriter: one JSON line per scalar
#include <lucid/train/log/prediction_grid.h>  // prediction_grid, tensor_to_image, overlay_mask
#include <lucid/train/log/draw.h>             // draw_text, draw_frame, fill_rect on data::Image
// Their building blocks: crc32c.h (TFRecord checksums), protobuf.h (the wire format).
