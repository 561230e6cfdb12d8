#pragma once
// Task metrics, on a 0-1 scale, with the semantics of the usual references: accuracy; binary F1
// of the positive class (label 1, as GLUE's MRPC/QQP); macro-F1 (sklearn, average="macro");
// Matthews correlation (sklearn: 0 when undefined); Pearson and Spearman (scipy; Spearman with
// average ranks for ties; 0 when a side is constant, where scipy gives nan); entity-level F1
// (seqeval's default: conlleval chunking of IOB tags, micro-averaged); exact match. BLEU and chrF
// follow sacrebleu 2.x's corpus_bleu and corpus_chrf with their defaults and, like sacrebleu, are on
// a 0-100 scale (see below).
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

// Corpus BLEU, 0-100, as sacrebleu's BLEU() (tokenize="13a", max_ngram_order 4, smooth_method "exp",
// effective_order off, mixed case): n-gram matches, totals and lengths are summed over the corpus
// before the precisions (clipped by the reference counts) and the brevity penalty are taken; an order
// with no match counts as 1 / (2^k * total) for the k-th such order; a corpus with no match at all
// scores 0, and so does one whose hypotheses have no 4-gram (sacrebleu without effective order).
// Text is Unicode (UTF-8); an invalid byte counts as one character of its own.
double bleu(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references);
// Several references per hypothesis, sacrebleu's layout: reference_streams[k][i] is the k-th
// reference of hypothesis i. N-gram counts are clipped by their largest count in any reference, the
// reference length is the closest one (the shorter on a tie); empty references are left out, as
// sacrebleu does (where a hypothesis has none, sacrebleu fails; here it counts with length 0).
double corpus_bleu(const std::vector<std::string>& hypotheses,
                   const std::vector<std::vector<std::string>>& reference_streams);
// The 13a tokenization (mteval-v13a), as sacrebleu's Tokenizer13a after its rstrip: unescapes
// &quot; &amp; &lt; &gt;, splits off ASCII punctuation and symbols but the apostrophe and hyphen,
// periods and commas unless inside a number, and a hyphen after a digit; splits on Unicode white
// space (as Python's str.split()).
std::vector<std::string> tokenize_13a(const std::string& line);

// Corpus chrF, 0-100, as sacrebleu's CHRF() (char_order 6, word_order 0, beta 2, whitespace and
// eps_smoothing off, mixed case): character n-grams (Unicode code points, white space removed) of
// orders 1..6; per order the hypothesis, reference and matching counts are summed over the corpus
// (an order the reference is too short for adds no hypothesis count); precision and recall are
// averaged over the orders where both counts are positive, then combined as F-beta. With several
// references, each hypothesis takes the statistics of the reference with the best sentence chrF.
double chrf(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references);
double corpus_chrf(const std::vector<std::string>& hypotheses,
                   const std::vector<std::vector<std::string>>& reference_streams);

// Average ranks (1-based), ties sharing the mean of their positions.
std::vector<double> average_ranks(const std::vector<double>& values);

}  // namespace autopeft::trainer
