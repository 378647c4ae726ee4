#pragma once
// lucid::data::text: tokenizers and datasets for language modelling.
//
//   tokenizer.h        Tokenizer interface, load_tokenizer(path)
//   char_tokenizer.h   CharTokenizer: one token per Unicode code point
//   bpe_tokenizer.h    BpeTokenizer: byte-level BPE, trainable, JSON save/load
//   pre_split.h        how BPE cuts text into chunks before merging
//   text_dataset.h     TextDataset: (tokens, next tokens) windows of block_size
//   read_text.h        read_text_file, fortune_files, read_fortunes
//   json.h, utf8.h     the small JSON and UTF-8 helpers the above use

#include <lucid/data/text/bpe_tokenizer.h>
#include <lucid/data/text/char_tokenizer.h>
#include <lucid/data/text/pre_split.h>
#include <lucid/data/text/read_text.h>
#include <lucid/data/text/text_dataset.h>
#include <lucid/data/text/tokenizer.h>
