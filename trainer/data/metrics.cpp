#include "trainer/data/metrics.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <numeric>
#include <set>
#include <tuple>

#include "core/errors.h"

namespace autopeft::trainer {

const std::vector<std::string>& metric_names() {
  static const std::vector<std::string> n = {"accuracy", "f1",        "macro_f1", "matthews", "pearson",
                                             "spearman", "entity_f1", "bleu",     "chrf",     "exact_match"};
  return n;
}

bool is_metric(const std::string& name) {
  const auto& n = metric_names();
  return std::find(n.begin(), n.end(), name) != n.end();
}

namespace {
template <typename A, typename B>
void same_size(const A& a, const B& b, const char* metric) {
  if (a.size() != b.size())
    throw std::invalid_argument(std::string(metric) + ": " + std::to_string(a.size()) + " predictions for " +
                                std::to_string(b.size()) + " labels");
}
}  // namespace

double accuracy(const std::vector<int>& p, const std::vector<int>& y) {
  same_size(p, y, "accuracy");
  if (p.empty()) return 0.0;
  std::size_t right = 0;
  for (std::size_t i = 0; i < p.size(); ++i) right += p[i] == y[i];
  return static_cast<double>(right) / static_cast<double>(p.size());
}

namespace {
double f1_of(std::size_t tp, std::size_t fp, std::size_t fn) {
  // sklearn's zero_division default gives 0 when precision or recall is undefined.
  if (tp == 0) return 0.0;
  const double precision = static_cast<double>(tp) / static_cast<double>(tp + fp);
  const double recall = static_cast<double>(tp) / static_cast<double>(tp + fn);
  return 2 * precision * recall / (precision + recall);
}
}  // namespace

double binary_f1(const std::vector<int>& p, const std::vector<int>& y, int positive) {
  same_size(p, y, "f1");
  std::size_t tp = 0, fp = 0, fn = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    tp += p[i] == positive && y[i] == positive;
    fp += p[i] == positive && y[i] != positive;
    fn += p[i] != positive && y[i] == positive;
  }
  return f1_of(tp, fp, fn);
}

double macro_f1(const std::vector<int>& p, const std::vector<int>& y) {
  same_size(p, y, "macro_f1");
  std::set<int> classes(p.begin(), p.end());
  classes.insert(y.begin(), y.end());
  if (classes.empty()) return 0.0;
  double sum = 0;
  for (int c : classes) sum += binary_f1(p, y, c);
  return sum / static_cast<double>(classes.size());
}

double matthews(const std::vector<int>& p, const std::vector<int>& y) {
  same_size(p, y, "matthews");
  // Multi-class form (Gorodkin): from the confusion matrix, as sklearn computes it.
  std::map<int, double> t, q;  // true counts, predicted counts
  double correct = 0;
  for (std::size_t i = 0; i < p.size(); ++i) {
    t[y[i]] += 1;
    q[p[i]] += 1;
    correct += p[i] == y[i];
  }
  const double s = static_cast<double>(p.size());
  double tq = 0, tt = 0, qq = 0;
  std::set<int> classes;
  for (const auto& [c, n] : t) classes.insert(c);
  for (const auto& [c, n] : q) classes.insert(c);
  for (int c : classes) {
    tq += t[c] * q[c];
    tt += t[c] * t[c];
    qq += q[c] * q[c];
  }
  const double denominator = std::sqrt((s * s - qq) * (s * s - tt));
  return denominator == 0 ? 0.0 : (correct * s - tq) / denominator;
}

double pearson(const std::vector<double>& x, const std::vector<double>& y) {
  same_size(x, y, "pearson");
  const double n = static_cast<double>(x.size());
  if (x.size() < 2) return 0.0;
  const double mx = std::accumulate(x.begin(), x.end(), 0.0) / n,
               my = std::accumulate(y.begin(), y.end(), 0.0) / n;
  double sxy = 0, sxx = 0, syy = 0;
  for (std::size_t i = 0; i < x.size(); ++i) {
    sxy += (x[i] - mx) * (y[i] - my);
    sxx += (x[i] - mx) * (x[i] - mx);
    syy += (y[i] - my) * (y[i] - my);
  }
  return sxx == 0 || syy == 0 ? 0.0 : sxy / std::sqrt(sxx * syy);
}

std::vector<double> average_ranks(const std::vector<double>& v) {
  std::vector<std::size_t> order(v.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return v[a] < v[b]; });
  std::vector<double> ranks(v.size());
  for (std::size_t i = 0; i < order.size();) {
    std::size_t j = i;
    while (j + 1 < order.size() && v[order[j + 1]] == v[order[i]]) ++j;
    const double rank = (static_cast<double>(i) + static_cast<double>(j)) / 2.0 + 1.0;
    for (std::size_t k = i; k <= j; ++k) ranks[order[k]] = rank;
    i = j + 1;
  }
  return ranks;
}

double spearman(const std::vector<double>& x, const std::vector<double>& y) {
  same_size(x, y, "spearman");
  return pearson(average_ranks(x), average_ranks(y));
}

namespace {
// conlleval chunking (seqeval's default mode): a chunk ends when the next tag starts a new one.
std::set<std::tuple<std::size_t, std::size_t, std::size_t, std::string>> chunks(
    const std::vector<std::vector<std::string>>& sentences) {
  std::set<std::tuple<std::size_t, std::size_t, std::size_t, std::string>> out;
  for (std::size_t s = 0; s < sentences.size(); ++s) {
    const auto& tags = sentences[s];
    std::string prev_prefix = "O", prev_type;
    std::size_t start = 0;
    bool open = false;
    auto split = [](const std::string& tag) -> std::pair<std::string, std::string> {
      if (tag == "O" || tag.size() < 2 || tag[1] != '-') return {tag.empty() ? "O" : tag.substr(0, 1), ""};
      return {tag.substr(0, 1), tag.substr(2)};
    };
    for (std::size_t i = 0; i <= tags.size(); ++i) {
      const auto [prefix, type] =
          i < tags.size() ? split(tags[i]) : std::make_pair(std::string("O"), std::string());
      // end of chunk (conlleval's endOfChunk)
      const bool end = open && (prefix == "B" || prefix == "O" || prefix == "S" || type != prev_type ||
                                prev_prefix == "E" || prev_prefix == "S");
      if (end) {
        out.emplace(s, start, i, prev_type);
        open = false;
      }
      // start of chunk (conlleval's startOfChunk)
      const bool begin = prefix == "B" || prefix == "S" ||
                         ((prefix == "I" || prefix == "E") && (!open || type != prev_type));
      if (begin && prefix != "O") {
        start = i;
        open = true;
      }
      prev_prefix = prefix;
      prev_type = type;
    }
  }
  return out;
}
}  // namespace

double entity_f1(const std::vector<std::vector<std::string>>& p,
                 const std::vector<std::vector<std::string>>& y) {
  same_size(p, y, "entity_f1");
  for (std::size_t i = 0; i < p.size(); ++i)
    if (p[i].size() != y[i].size())
      throw std::invalid_argument("entity_f1: sentence " + std::to_string(i) + " has " +
                                  std::to_string(p[i].size()) + " predicted and " +
                                  std::to_string(y[i].size()) + " gold tags");
  const auto pc = chunks(p), yc = chunks(y);
  std::size_t tp = 0;
  for (const auto& c : pc) tp += yc.count(c);
  return f1_of(tp, pc.size() - tp, yc.size() - tp);
}

double exact_match(const std::vector<std::string>& p, const std::vector<std::string>& r) {
  same_size(p, r, "exact_match");
  if (p.empty()) return 0.0;
  std::size_t same = 0;
  for (std::size_t i = 0; i < p.size(); ++i) same += p[i] == r[i];
  return static_cast<double>(same) / static_cast<double>(p.size());
}

}  // namespace autopeft::trainer
