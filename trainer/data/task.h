#pragma once
// A task: a small JSON file naming the data files, their format and columns, the label set and
// the metric. Paths are relative to the task file. Torch-free.
//   {"name": "rte", "type": "pair-classification",
//    "train": "train.tsv", "dev": "dev.tsv", "format": "tsv", "header": true,
//    "text": "sentence1", "text_pair": "sentence2", "label": "label",
//    "metric": "accuracy", "max_length": 128}
// Columns are names (with a header, or keys of JSON Lines) or 0-based indices. More keys:
//   "labels": [...]        fixes the label order (default: sorted training labels)
//   "on_error": "fail" | "skip"   malformed rows: a UserError with file and line (default), or
//                          skipped and counted
//   "delimiter": ","       for csv
//   "source", "target"     for seq2seq and causal-lm (a prompt and its completion); with format
//                          "text", "train" is {"source": f, "target": g}
//   "max_target_length"    seq2seq / causal-lm: target tokens kept in training (EOS included) and
//                          the most tokens generated in evaluation (default: max_length)
// Types: classification, pair-classification, regression, token-classification, seq2seq,
// causal-lm, mlm. Formats: tsv (tab split, no quote processing: GLUE files have stray quotes;
// a UTF-8 BOM is dropped), csv (RFC 4180 quoting), jsonl, conll (token and tag columns, a blank
// line between sentences), text (one example per line).
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <vector>

namespace autopeft::trainer {

struct Example {
  std::string text;                 // the text (or source of seq2seq)
  std::string text_pair;            // second text of a pair
  std::string label;                // class name, or the number as written for regression
  std::vector<std::string> tokens;  // token classification
  std::vector<std::string> tags;
  std::string target;    // seq2seq / causal-lm target (the completion)
  std::size_t line = 0;  // 1-based line (first line of a CoNLL sentence)
};

struct Dataset {
  std::vector<Example> examples;
  std::size_t skipped = 0;  // malformed rows skipped under on_error = skip
  std::string source;       // the file(s) read
};

struct TaskSpec {
  std::string name;
  std::string type;
  std::string format = "tsv";
  bool header = true;
  nlohmann::json text = "sentence";  // column name or index
  nlohmann::json text_pair;          // null for single texts
  nlohmann::json label = "label";
  nlohmann::json train, dev;  // paths (strings, or {"source", "target"} for text seq2seq)
  std::string metric = "accuracy";
  std::int64_t max_length = 128;
  std::int64_t max_target_length = 128;  // generative tasks
  std::vector<std::string> labels;       // fixed order, or empty
  std::string on_error = "fail";
  char delimiter = ',';
  std::string base_dir;  // folder of the task file

  static TaskSpec from_json(const nlohmann::json& j, const std::string& source, const std::string& base_dir);
  static TaskSpec from_file(const std::string& path);
  nlohmann::json to_json() const;

  bool classification() const { return type == "classification" || type == "pair-classification"; }
  bool pair() const { return !text_pair.is_null(); }
  bool generative() const { return type == "seq2seq" || type == "causal-lm"; }
};

// Reads one split ("train" or "dev").
Dataset read_split(const TaskSpec& task, const std::string& split);

// The label vocabulary: task.labels when given, else the sorted set of training labels (for
// token classification, of training tags).
std::vector<std::string> label_vocabulary(const TaskSpec& task, const Dataset& train);
// Checks every label (tag) of a split against the vocabulary (classification and token tasks)
// or that it is a number (regression); UserError with file and line otherwise.
void check_labels(const TaskSpec& task, const Dataset& data, const std::vector<std::string>& vocabulary);

}  // namespace autopeft::trainer
