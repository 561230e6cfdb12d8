#include "trainer/data/metrics.h"

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>
#include <map>
#include <numeric>
#include <set>
#include <tuple>
#include <unordered_map>

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

// ---- BLEU and chrF (sacrebleu 2.x semantics) ----

namespace {

// UTF-8 to code points; a byte that does not start a valid sequence becomes U+DC00 + byte (as
// Python's surrogateescape), so it is one character of its own and turns back into itself.
std::u32string decode_utf8(const std::string& s) {
  std::u32string out;
  out.reserve(s.size());
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(s[i]); };
  const auto cont = [&](std::size_t i) { return i < s.size() && (byte(i) & 0xC0) == 0x80; };
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char b = byte(i);
    std::size_t len = 0;
    char32_t cp = 0;
    if (b < 0x80) {
      len = 1;
      cp = b;
    } else if (b >= 0xC2 && b <= 0xDF && cont(i + 1)) {
      len = 2;
      cp = static_cast<char32_t>(((b & 0x1F) << 6) | (byte(i + 1) & 0x3F));
    } else if (b >= 0xE0 && b <= 0xEF && cont(i + 1) && cont(i + 2) && !(b == 0xE0 && byte(i + 1) < 0xA0) &&
               !(b == 0xED && byte(i + 1) > 0x9F)) {
      len = 3;
      cp = static_cast<char32_t>(((b & 0x0F) << 12) | ((byte(i + 1) & 0x3F) << 6) | (byte(i + 2) & 0x3F));
    } else if (b >= 0xF0 && b <= 0xF4 && cont(i + 1) && cont(i + 2) && cont(i + 3) &&
               !(b == 0xF0 && byte(i + 1) < 0x90) && !(b == 0xF4 && byte(i + 1) > 0x8F)) {
      len = 4;
      cp = static_cast<char32_t>(((b & 0x07) << 18) | ((byte(i + 1) & 0x3F) << 12) |
                                 ((byte(i + 2) & 0x3F) << 6) | (byte(i + 3) & 0x3F));
    } else {
      len = 1;
      cp = 0xDC00 + b;
    }
    out.push_back(cp);
    i += len;
  }
  return out;
}

std::string encode_utf8(const std::u32string& s) {
  std::string out;
  out.reserve(s.size());
  for (const char32_t c : s) {
    if (c >= 0xDC80 && c <= 0xDCFF) {  // an escaped invalid byte
      out.push_back(static_cast<char>(c - 0xDC00));
    } else if (c < 0x80) {
      out.push_back(static_cast<char>(c));
    } else if (c < 0x800) {
      out.push_back(static_cast<char>(0xC0 | (c >> 6)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else if (c < 0x10000) {
      out.push_back(static_cast<char>(0xE0 | (c >> 12)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    } else {
      out.push_back(static_cast<char>(0xF0 | (c >> 18)));
      out.push_back(static_cast<char>(0x80 | ((c >> 12) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | ((c >> 6) & 0x3F)));
      out.push_back(static_cast<char>(0x80 | (c & 0x3F)));
    }
  }
  return out;
}

// White space as Python's str.isspace() and str.split() see it.
bool is_space(char32_t c) {
  return (c >= 0x09 && c <= 0x0D) || (c >= 0x1C && c <= 0x20) || c == 0x85 || c == 0xA0 || c == 0x1680 ||
         (c >= 0x2000 && c <= 0x200A) || c == 0x2028 || c == 0x2029 || c == 0x202F || c == 0x205F ||
         c == 0x3000;
}

bool is_digit(char32_t c) { return c >= U'0' && c <= U'9'; }

std::vector<std::u32string> split_space(const std::u32string& s) {
  std::vector<std::u32string> out;
  std::u32string word;
  for (const char32_t c : s) {
    if (is_space(c)) {
      if (!word.empty()) out.push_back(std::move(word));
      word.clear();
    } else {
      word.push_back(c);
    }
  }
  if (!word.empty()) out.push_back(std::move(word));
  return out;
}

void replace_all(std::u32string& s, const std::u32string& from, const std::u32string& to) {
  std::u32string out;
  std::size_t start = 0;
  for (auto hit = s.find(from); hit != std::u32string::npos; hit = s.find(from, start)) {
    out.append(s, start, hit - start);
    out += to;
    start = hit + from.size();
  }
  out.append(s, start, std::u32string::npos);
  s = std::move(out);
}

// mteval-v13a's symbol class: { | } ~ [ \ ] ^ _ ` space ! " # $ % & ( ) * + : ; < = > ? @ /
bool is_13a_symbol(char32_t c) {
  return (c >= 0x7B && c <= 0x7E) || (c >= 0x5B && c <= 0x60) || (c >= 0x20 && c <= 0x26) ||
         (c >= 0x28 && c <= 0x2B) || (c >= 0x3A && c <= 0x40) || c == 0x2F;
}

// One left-to-right pass of a two-character pattern without overlapping matches (as re.sub):
// where first(a) and second(b) hold for neighbours a b, they are replaced by replace(a, b).
template <typename First, typename Second, typename Replace>
std::u32string pair_pass(const std::u32string& s, First first, Second second, Replace replace) {
  std::u32string out;
  out.reserve(s.size() + s.size() / 4);
  std::size_t i = 0;
  while (i < s.size()) {
    if (i + 1 < s.size() && first(s[i]) && second(s[i + 1])) {
      out += replace(s[i], s[i + 1]);
      i += 2;
    } else {
      out.push_back(s[i]);
      ++i;
    }
  }
  return out;
}

std::vector<std::u32string> tokens_13a(const std::string& text) {
  std::u32string line = decode_utf8(text);
  while (!line.empty() && is_space(line.back())) line.pop_back();  // sacrebleu's rstrip()
  replace_all(line, U"<skipped>", U"");
  replace_all(line, U"-\n", U"");
  replace_all(line, U"\n", U" ");
  replace_all(line, U"&quot;", U"\"");
  replace_all(line, U"&amp;", U"&");
  replace_all(line, U"&lt;", U"<");
  replace_all(line, U"&gt;", U">");
  std::u32string spaced = U" ";
  for (const char32_t c : line) {
    if (is_13a_symbol(c)) {
      spaced.push_back(U' ');
      spaced.push_back(c);
      spaced.push_back(U' ');
    } else {
      spaced.push_back(c);
    }
  }
  spaced.push_back(U' ');
  const auto period_or_comma = [](char32_t c) { return c == U'.' || c == U','; };
  const auto not_digit = [](char32_t c) { return !is_digit(c); };
  // period and comma unless after a digit: "\1 \2 "
  spaced = pair_pass(spaced, not_digit, period_or_comma, [](char32_t a, char32_t b) {
    return std::u32string{a, U' ', b, U' '};
  });
  // period and comma unless before a digit: " \1 \2"
  spaced = pair_pass(spaced, period_or_comma, not_digit, [](char32_t a, char32_t b) {
    return std::u32string{U' ', a, U' ', b};
  });
  // a dash after a digit: "\1 \2 "
  spaced = pair_pass(
      spaced, is_digit, [](char32_t c) { return c == U'-'; },
      [](char32_t a, char32_t b) {
        return std::u32string{a, U' ', b, U' '};
      });
  return split_space(spaced);
}

using NgramCounts = std::unordered_map<std::u32string, long>;
constexpr int kBleuOrder = 4;

// Word n-grams of orders 1..4 (tokens hold no space, so a space joins them unambiguously).
std::array<NgramCounts, kBleuOrder> word_ngrams(const std::vector<std::u32string>& tokens) {
  std::array<NgramCounts, kBleuOrder> out;
  for (std::size_t n = 1; n <= kBleuOrder; ++n)
    for (std::size_t i = 0; i + n <= tokens.size(); ++i) {
      std::u32string key = tokens[i];
      for (std::size_t k = i + 1; k < i + n; ++k) key += U' ' + tokens[k];
      ++out[n - 1][key];
    }
  return out;
}

template <typename Streams>
void check_streams(const std::vector<std::string>& hypotheses, const Streams& streams, const char* metric) {
  if (streams.empty()) throw std::invalid_argument(std::string(metric) + ": no reference stream");
  for (const auto& s : streams) same_size(hypotheses, s, metric);
}

// sacrebleu's my_log: log, with log(0) taken as -9999999999.
double sacre_log(double x) { return x == 0.0 ? -9999999999.0 : std::log(x); }

constexpr int kChrfOrder = 6;
constexpr double kChrfBeta = 2.0;
using ChrfStats = std::array<long, 3 * kChrfOrder>;  // per order: hypothesis, reference, matching

std::array<NgramCounts, kChrfOrder> char_ngrams(const std::string& text) {
  std::u32string chars;
  for (const char32_t c : decode_utf8(text))
    if (!is_space(c)) chars.push_back(c);
  std::array<NgramCounts, kChrfOrder> out;
  for (std::size_t n = 1; n <= kChrfOrder; ++n)
    for (std::size_t i = 0; i + n <= chars.size(); ++i) ++out[n - 1][chars.substr(i, n)];
  return out;
}

double chrf_score(const ChrfStats& stats) {
  double precision = 0, recall = 0;
  int effective = 0;
  for (int n = 0; n < kChrfOrder; ++n) {
    const auto hyp = stats[3 * n], ref = stats[3 * n + 1], match = stats[3 * n + 2];
    if (hyp > 0 && ref > 0) {
      precision += static_cast<double>(match) / static_cast<double>(hyp);
      recall += static_cast<double>(match) / static_cast<double>(ref);
      ++effective;
    }
  }
  if (effective == 0) return 0.0;
  precision /= effective;
  recall /= effective;
  if (precision + recall == 0) return 0.0;
  const double b2 = kChrfBeta * kChrfBeta;
  return 100.0 * (1 + b2) * precision * recall / (b2 * precision + recall);
}

}  // namespace

std::vector<std::string> tokenize_13a(const std::string& line) {
  std::vector<std::string> out;
  for (const auto& t : tokens_13a(line)) out.push_back(encode_utf8(t));
  return out;
}

double corpus_bleu(const std::vector<std::string>& hypotheses,
                   const std::vector<std::vector<std::string>>& reference_streams) {
  check_streams(hypotheses, reference_streams, "bleu");
  std::array<long, kBleuOrder> correct{}, total{};
  long sys_len = 0, ref_len = 0;
  for (std::size_t i = 0; i < hypotheses.size(); ++i) {
    const auto hyp_tokens = tokens_13a(hypotheses[i]);
    const long hyp_len = static_cast<long>(hyp_tokens.size());
    std::array<NgramCounts, kBleuOrder> ref_max;  // largest count of each n-gram in any reference
    long closest = -1;
    for (const auto& stream : reference_streams) {
      if (stream[i].empty()) continue;  // sacrebleu leaves empty references out
      const auto ref_tokens = tokens_13a(stream[i]);
      const long len = static_cast<long>(ref_tokens.size());
      if (closest < 0 || std::labs(hyp_len - len) < std::labs(hyp_len - closest) ||
          (std::labs(hyp_len - len) == std::labs(hyp_len - closest) && len < closest))
        closest = len;
      const auto grams = word_ngrams(ref_tokens);
      for (int n = 0; n < kBleuOrder; ++n)
        for (const auto& [g, c] : grams[n]) ref_max[n][g] = std::max(ref_max[n][g], c);
    }
    sys_len += hyp_len;
    ref_len += std::max(closest, 0L);
    const auto grams = word_ngrams(hyp_tokens);
    for (int n = 0; n < kBleuOrder; ++n)
      for (const auto& [g, c] : grams[n]) {
        total[n] += c;
        const auto it = ref_max[n].find(g);
        if (it != ref_max[n].end()) correct[n] += std::min(c, it->second);
      }
  }
  const double bp =
      sys_len < ref_len
          ? (sys_len > 0 ? std::exp(1.0 - static_cast<double>(ref_len) / static_cast<double>(sys_len)) : 0.0)
          : 1.0;
  if (std::all_of(correct.begin(), correct.end(), [](long c) { return c == 0; })) return 0.0;
  std::array<double, kBleuOrder> precisions{};
  double smooth = 1.0;  // 'exp' smoothing (mteval's): 1 / 2^k for the k-th order without a match
  for (int n = 0; n < kBleuOrder; ++n) {
    if (total[n] == 0) break;  // the remaining precisions stay 0: the score is 0
    if (correct[n] == 0) {
      smooth *= 2;
      precisions[n] = 100.0 / (smooth * static_cast<double>(total[n]));
    } else {
      precisions[n] = 100.0 * static_cast<double>(correct[n]) / static_cast<double>(total[n]);
    }
  }
  double log_sum = 0;
  for (const double p : precisions) log_sum += sacre_log(p);
  return bp * std::exp(log_sum / kBleuOrder);
}

double bleu(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references) {
  same_size(hypotheses, references, "bleu");
  return corpus_bleu(hypotheses, {references});
}

double corpus_chrf(const std::vector<std::string>& hypotheses,
                   const std::vector<std::vector<std::string>>& reference_streams) {
  check_streams(hypotheses, reference_streams, "chrf");
  ChrfStats corpus{};
  for (std::size_t i = 0; i < hypotheses.size(); ++i) {
    const auto hyp = char_ngrams(hypotheses[i]);
    ChrfStats best{};
    double best_score = -1.0;
    for (const auto& stream : reference_streams) {
      if (stream[i].empty()) continue;  // sacrebleu leaves empty references out
      const auto ref = char_ngrams(stream[i]);
      ChrfStats stats{};
      for (int n = 0; n < kChrfOrder; ++n) {
        long hyp_count = 0, ref_count = 0, match = 0;
        for (const auto& [g, c] : hyp[n]) {
          hyp_count += c;
          const auto it = ref[n].find(g);
          if (it != ref[n].end()) match += std::min(c, it->second);
        }
        for (const auto& [g, c] : ref[n]) ref_count += c;
        // sacrebleu counts no hypothesis n-grams of an order the reference has none of.
        stats[3 * n] = ref[n].empty() ? 0 : hyp_count;
        stats[3 * n + 1] = ref_count;
        stats[3 * n + 2] = match;
      }
      const double score = chrf_score(stats);
      if (score > best_score) {
        best_score = score;
        best = stats;
      }
    }
    for (std::size_t k = 0; k < corpus.size(); ++k) corpus[k] += best[k];
  }
  return chrf_score(corpus);
}

double chrf(const std::vector<std::string>& hypotheses, const std::vector<std::string>& references) {
  same_size(hypotheses, references, "chrf");
  return corpus_chrf(hypotheses, {references});
}

}  // namespace autopeft::trainer
