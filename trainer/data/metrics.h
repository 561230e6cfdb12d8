#pragma once
// Task metrics, on a 0-1 scale, with the semantics of the usual references: accuracy; binary F1
// of the positive class (label 1, as GLUE's MRPC/QQP); macro-F1 (sklearn, average="macro");
// Matthews correlation (sklearn: 0 when undefined); Pearson and Spearman (scipy; Spearman with
// average ranks for ties; 0 when a side is constant, where scipy gives nan); entity-level F1
// (seqeval's default: conlleval chunking of IOB tags, micro-averaged); exact match.
// The single list of metric names lives here: metric_names(), is_metric(), higher_is_better().
// Torch-free.
#include <string>
#include <vector>

namespace autopeft::trainer {

const std::vector<std::string>& metric_names();
bool is_metric(const std::string& name);

double accuracy(const std::vector<int>& predictions, const std::vector<int>& labels);
double binary_f1(const std::vector<int>& predictions, const std::vector<int>& labels, int positive = 1);
double macro_f1(const std::vector<int>& predictions, const std::vector<int>& labels);
double matthews(const std::vector<int>& predictions, const std::vector<int>& labels);
double pearson(const std::vector<double>& x, const std::vector<double>& y);
double spearman(const std::vector<double>& x, const std::vector<double>& y);
// Sequences of IOB tags ("B-per", "I-per", "O"), one vector per sentence.
double entity_f1(const std::vector<std::vector<std::string>>& predictions,
                 const std::vector<std::vector<std::string>>& labels);
double exact_match(const std::vector<std::string>& predictions, const std::vector<std::string>& references);

// Average ranks (1-based), ties sharing the mean of their positions.
std::vector<double> average_ranks(const std::vector<double>& values);

}  // namespace autopeft::trainer
