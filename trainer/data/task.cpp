#include "trainer/data/task.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include "core/errors.h"
#include "core/json_file.h"
#include "core/logging.h"
#include "trainer/data/metrics.h"

namespace autopeft::trainer {

namespace fs = std::filesystem;

namespace {

const std::vector<std::string> kTypes = {
    "classification", "pair-classification", "regression", "token-classification",
    "seq2seq",        "causal-lm",           "mlm"};
const std::vector<std::string> kFormats = {"tsv", "csv", "jsonl", "conll", "text"};

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

std::string choice(const nlohmann::json& j, const char* key, const std::string& fallback,
                   const std::vector<std::string>& choices, const std::string& source) {
  if (!j.contains(key)) return fallback;
  if (!j[key].is_string()) throw_user_error(source + ": " + key, "must be a string");
  const auto v = j[key].get<std::string>();
  if (std::find(choices.begin(), choices.end(), v) == choices.end())
    throw_user_error(source + ": " + key, "'" + v + "' is not one of " + join(choices));
  return v;
}

// A malformed row: fail with file and line, or count it.
struct RowErrors {
  const TaskSpec& task;
  Dataset& out;
  bool handle(const std::string& file, std::size_t line, const std::string& what) {
    if (task.on_error == "skip") {
      ++out.skipped;
      return true;
    }
    throw_user_error(file + ":" + std::to_string(line),
                     what + " (set \"on_error\": \"skip\" to skip such rows)");
  }
};

std::string read_all(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw_user_error(path, "cannot open data file");
  std::ostringstream s;
  s << in.rdbuf();
  std::string text = s.str();
  if (text.rfind("\xEF\xBB\xBF", 0) == 0) text.erase(0, 3);  // UTF-8 BOM
  return text;
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    std::string line = text.substr(start, end - start);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    out.push_back(std::move(line));
    start = end + 1;
  }
  return out;
}

std::vector<std::string> split_tabs(const std::string& line) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    const auto tab = line.find('\t', start);
    out.push_back(line.substr(start, tab == std::string::npos ? std::string::npos : tab - start));
    if (tab == std::string::npos) break;
    start = tab + 1;
  }
  return out;
}

// RFC 4180 records (quoted fields may hold delimiters, doubled quotes and newlines); each with
// the line it starts on.
std::vector<std::pair<std::size_t, std::vector<std::string>>> csv_records(const std::string& text, char delim,
                                                                          const std::string& file) {
  std::vector<std::pair<std::size_t, std::vector<std::string>>> out;
  std::vector<std::string> record;
  std::string field;
  bool quoted = false, any = false;
  std::size_t line = 1, start_line = 1;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && field.empty()) {
      quoted = any = true;
    } else if (c == delim) {
      record.push_back(std::move(field));
      field.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !field.empty()) {
        record.push_back(std::move(field));
        out.emplace_back(start_line, std::move(record));
      }
      record.clear();
      field.clear();
      any = false;
      ++line;
      start_line = line;
    } else {
      field += c;
      any = true;
    }
  }
  if (quoted) throw_user_error(file + ":" + std::to_string(start_line), "a quoted field is not closed");
  if (any || !field.empty()) {
    record.push_back(std::move(field));
    out.emplace_back(start_line, std::move(record));
  }
  return out;
}

// Column position from a name (header) or an index.
long column_index(const nlohmann::json& column, const std::vector<std::string>& header,
                  const std::string& file, const char* role) {
  if (column.is_number_integer()) return column.get<long>();
  const auto name = column.get<std::string>();
  auto it = std::find(header.begin(), header.end(), name);
  if (it == header.end())
    throw_user_error(file + ":1",
                     std::string("no column '") + name + "' (" + role + ") in the header: " + join(header));
  return static_cast<long>(it - header.begin());
}

void read_delimited(const TaskSpec& task, const std::string& file, Dataset& out) {
  const auto text = read_all(file);
  std::vector<std::pair<std::size_t, std::vector<std::string>>> rows;
  if (task.format == "tsv") {
    const auto lines = lines_of(text);
    for (std::size_t i = 0; i < lines.size(); ++i)
      if (!lines[i].empty()) rows.emplace_back(i + 1, split_tabs(lines[i]));
  } else {
    rows = csv_records(text, task.delimiter, file);
  }
  std::vector<std::string> header;
  std::size_t first = 0;
  if (task.header) {
    if (rows.empty()) throw_user_error(file, "empty file (a header was expected)");
    header = rows[0].second;
    first = 1;
  } else {
    for (const auto* c : {&task.text, &task.text_pair, &task.label})
      if (!c->is_null() && !c->is_number_integer())
        throw_user_error(file, "without a header, columns are 0-based indices (got " + c->dump() + ")");
  }
  const long text_col = column_index(task.text, header, file, "text");
  const long pair_col = task.pair() ? column_index(task.text_pair, header, file, "text_pair") : -1;
  const bool has_label = task.type != "mlm";
  const long label_col = has_label ? column_index(task.label, header, file, "label") : -1;
  const long needed = std::max({text_col, pair_col, label_col}) + 1;
  RowErrors errors{task, out};
  for (std::size_t r = first; r < rows.size(); ++r) {
    const auto& [line, fields] = rows[r];
    if (static_cast<long>(fields.size()) < needed) {
      errors.handle(
          file, line,
          std::to_string(fields.size()) + " fields, column " + std::to_string(needed - 1) + " needed");
      continue;
    }
    Example e;
    e.line = line;
    e.text = fields[static_cast<std::size_t>(text_col)];
    if (pair_col >= 0) e.text_pair = fields[static_cast<std::size_t>(pair_col)];
    if (label_col >= 0) {
      e.label = fields[static_cast<std::size_t>(label_col)];
      if (e.label.empty()) {
        errors.handle(file, line, "empty label");
        continue;
      }
    }
    if (task.generative()) e.target = e.label;
    out.examples.push_back(std::move(e));
  }
}

std::string json_text(const nlohmann::json& v) {
  if (v.is_string()) return v.get<std::string>();
  if (v.is_boolean()) return v.get<bool>() ? "true" : "false";
  return v.dump();
}

void read_jsonl(const TaskSpec& task, const std::string& file, Dataset& out) {
  const auto lines = lines_of(read_all(file));
  RowErrors errors{task, out};
  const auto key = [](const nlohmann::json& c) { return c.is_string() ? c.get<std::string>() : c.dump(); };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find_first_not_of(" \t") == std::string::npos) continue;
    nlohmann::json j;
    try {
      j = nlohmann::json::parse(lines[i]);
    } catch (const nlohmann::json::parse_error& e) {
      errors.handle(file, i + 1, std::string("invalid JSON: ") + e.what());
      continue;
    }
    Example e;
    e.line = i + 1;
    const auto get = [&](const nlohmann::json& column, const char* role, std::string& into) {
      if (column.is_null()) return true;
      if (!j.is_object() || !j.contains(key(column))) {
        errors.handle(file, i + 1, std::string("no field '") + key(column) + "' (" + role + ")");
        return false;
      }
      into = json_text(j[key(column)]);
      return true;
    };
    if (!get(task.text, "text", e.text)) continue;
    if (task.pair() && !get(task.text_pair, "text_pair", e.text_pair)) continue;
    if (task.type != "mlm" && !get(task.label, "label", e.label)) continue;
    if (task.generative()) e.target = e.label;
    out.examples.push_back(std::move(e));
  }
}

void read_conll(const TaskSpec& task, const std::string& file, Dataset& out) {
  const auto lines = lines_of(read_all(file));
  const long token_col = task.text.is_number_integer() ? task.text.get<long>() : 0;
  const long tag_col = task.label.is_number_integer() ? task.label.get<long>() : -1;  // -1: last column
  RowErrors errors{task, out};
  Example current;
  auto flush = [&]() {
    if (!current.tokens.empty()) out.examples.push_back(std::move(current));
    current = Example{};
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto& l = lines[i];
    if (l.find_first_not_of(" \t") == std::string::npos) {
      flush();
      continue;
    }
    if (l.rfind("-DOCSTART-", 0) == 0 || l.rfind("# ", 0) == 0) continue;
    std::vector<std::string> cols;
    std::istringstream s(l);
    for (std::string c; s >> c;) cols.push_back(c);
    const long tc = tag_col < 0 ? static_cast<long>(cols.size()) - 1 : tag_col;
    if (static_cast<long>(cols.size()) <= std::max(token_col, tc) || tc == token_col) {
      errors.handle(file, i + 1, std::to_string(cols.size()) + " columns, a token and a tag column needed");
      continue;
    }
    if (current.tokens.empty()) current.line = i + 1;
    current.tokens.push_back(cols[static_cast<std::size_t>(token_col)]);
    current.tags.push_back(cols[static_cast<std::size_t>(tc)]);
  }
  flush();
}

void read_text(const TaskSpec& task, const nlohmann::json& files, Dataset& out) {
  const auto path = [&](const nlohmann::json& f) {
    return (fs::path(task.base_dir) / f.get<std::string>()).string();
  };
  if (files.is_object()) {  // parallel text: source and target, line by line
    const auto src_file = path(files.at("source")), tgt_file = path(files.at("target"));
    const auto src = lines_of(read_all(src_file)), tgt = lines_of(read_all(tgt_file));
    if (src.size() != tgt.size())
      throw_user_error(tgt_file, std::to_string(tgt.size()) + " lines, but " + src_file + " has " +
                                     std::to_string(src.size()));
    for (std::size_t i = 0; i < src.size(); ++i) {
      Example e;
      e.line = i + 1;
      e.text = src[i];
      e.target = tgt[i];
      out.examples.push_back(std::move(e));
    }
    out.source = src_file + " + " + tgt_file;
    return;
  }
  const auto file = path(files);
  const auto lines = lines_of(read_all(file));
  for (std::size_t i = 0; i < lines.size(); ++i) {
    if (lines[i].find_first_not_of(" \t") == std::string::npos) continue;
    Example e;
    e.line = i + 1;
    e.text = lines[i];
    out.examples.push_back(std::move(e));
  }
  out.source = file;
}

}  // namespace

TaskSpec TaskSpec::from_json(const nlohmann::json& j, const std::string& source,
                             const std::string& base_dir) {
  if (!j.is_object()) throw_user_error(source, "a task must be a JSON object");
  static const std::set<std::string> known = {
      "name",     "type",      "train",  "dev",    "format",           "header",
      "text",     "text_pair", "label",  "metric", "max_length",       "labels",
      "on_error", "delimiter", "source", "target", "max_target_length"};
  for (auto it = j.begin(); it != j.end(); ++it)
    if (!known.count(it.key())) throw_user_error(source + ": " + it.key(), "unknown key");
  TaskSpec t;
  t.base_dir = base_dir;
  t.name = j.value("name", fs::path(source).stem().string());
  if (!j.contains("type")) throw_user_error(source + ": type", "required (" + join(kTypes) + ")");
  t.type = choice(j, "type", "", kTypes, source);
  t.format = choice(j, "format", "tsv", kFormats, source);
  if (j.contains("header")) {
    if (!j["header"].is_boolean()) throw_user_error(source + ": header", "must be true or false");
    t.header = j["header"].get<bool>();
  }
  for (const auto& [key, field, fallback] :
       {std::make_tuple("text", &t.text, nlohmann::json(t.generative() ? "source" : "sentence")),
        std::make_tuple("text_pair", &t.text_pair, nlohmann::json(nullptr)),
        std::make_tuple("label", &t.label, nlohmann::json(t.generative() ? "target" : "label"))}) {
    nlohmann::json v = j.contains(key) ? j[key] : fallback;
    if (t.generative() && std::string(key) == "text" && j.contains("source")) v = j["source"];
    if (t.generative() && std::string(key) == "label" && j.contains("target")) v = j["target"];
    if (!v.is_null() && !v.is_string() && !(v.is_number_integer() && v.get<long>() >= 0))
      throw_user_error(source + ": " + key, "must be a column name or a 0-based index, got " + v.dump());
    *field = v;
  }
  if (t.type == "pair-classification" && t.text_pair.is_null())
    throw_user_error(source + ": text_pair", "required for pair-classification");
  if (!j.contains("train")) throw_user_error(source + ": train", "required");
  t.train = j["train"];
  t.dev = j.value("dev", nlohmann::json(nullptr));
  const auto default_metric = t.type == "regression"             ? "pearson"
                              : t.type == "token-classification" ? "entity_f1"
                              : t.generative()                   ? "bleu"
                                                                 : "accuracy";
  t.metric = j.value("metric", std::string(default_metric));
  if (!is_metric(t.metric))
    throw_user_error(source + ": metric", "'" + t.metric + "' is not one of " + join(metric_names()));
  if (j.contains("max_length")) {
    if (!j["max_length"].is_number_integer() || j["max_length"].get<std::int64_t>() < 4)
      throw_user_error(source + ": max_length", "must be an integer >= 4");
    t.max_length = j["max_length"];
  }
  t.max_target_length = t.max_length;
  if (j.contains("max_target_length")) {
    if (!t.generative())
      throw_user_error(source + ": max_target_length", "only for seq2seq and causal-lm tasks");
    if (!j["max_target_length"].is_number_integer() || j["max_target_length"].get<std::int64_t>() < 1)
      throw_user_error(source + ": max_target_length", "must be an integer >= 1");
    t.max_target_length = j["max_target_length"];
  }
  if (j.contains("labels")) {
    if (!j["labels"].is_array() || j["labels"].empty())
      throw_user_error(source + ": labels", "must be a non-empty list");
    for (const auto& l : j["labels"]) t.labels.push_back(json_text(l));
    if (std::set<std::string>(t.labels.begin(), t.labels.end()).size() != t.labels.size())
      throw_user_error(source + ": labels", "repeats a label");
  }
  t.on_error = choice(j, "on_error", "fail", {"fail", "skip"}, source);
  if (j.contains("delimiter")) {
    const auto d = j["delimiter"].get<std::string>();
    if (d.size() != 1) throw_user_error(source + ": delimiter", "must be one character");
    t.delimiter = d[0];
  }
  if (t.format == "conll" && t.type != "token-classification")
    throw_user_error(source + ": format", "conll holds token classification data");
  return t;
}

TaskSpec TaskSpec::from_file(const std::string& path) {
  const nlohmann::json j = read_json_file(path, "task file");
  return from_json(j, path, fs::absolute(path).parent_path().string());
}

nlohmann::json TaskSpec::to_json() const {
  nlohmann::ordered_json j = {{"name", name},        {"type", type},     {"format", format},
                              {"header", header},    {"text", text},     {"label", label},
                              {"train", train},      {"metric", metric}, {"max_length", max_length},
                              {"on_error", on_error}};
  if (!text_pair.is_null()) j["text_pair"] = text_pair;
  if (!dev.is_null()) j["dev"] = dev;
  if (!labels.empty()) j["labels"] = labels;
  if (format == "csv") j["delimiter"] = std::string(1, delimiter);
  if (generative()) j["max_target_length"] = max_target_length;
  return j;
}

Dataset read_split(const TaskSpec& task, const std::string& split) {
  const auto& files = split == "train" ? task.train : task.dev;
  if (files.is_null()) throw_user_error(task.name, "the task has no " + split + " split");
  Dataset out;
  if (task.format == "text") {
    read_text(task, files, out);
  } else {
    if (!files.is_string()) throw_user_error(task.name + ": " + split, "must be a file name");
    const auto file = (fs::path(task.base_dir) / files.get<std::string>()).string();
    out.source = file;
    if (task.format == "tsv" || task.format == "csv")
      read_delimited(task, file, out);
    else if (task.format == "jsonl")
      read_jsonl(task, file, out);
    else
      read_conll(task, file, out);
  }
  if (out.skipped > 0) log::warn("{}: skipped {} malformed rows", out.source, out.skipped);
  if (out.examples.empty()) throw_user_error(out.source, "no examples");
  return out;
}

std::vector<std::string> label_vocabulary(const TaskSpec& task, const Dataset& train) {
  if (!task.labels.empty()) return task.labels;
  std::set<std::string> seen;
  for (const auto& e : train.examples) {
    if (task.type == "token-classification")
      seen.insert(e.tags.begin(), e.tags.end());
    else
      seen.insert(e.label);
  }
  return {seen.begin(), seen.end()};
}

void check_labels(const TaskSpec& task, const Dataset& data, const std::vector<std::string>& vocabulary) {
  const std::set<std::string> known(vocabulary.begin(), vocabulary.end());
  for (const auto& e : data.examples) {
    const std::string where = data.source + ":" + std::to_string(e.line);
    if (task.type == "regression") {
      std::size_t used = 0;
      try {
        std::stod(e.label, &used);
      } catch (const std::exception&) {
        used = 0;
      }
      if (used == 0 || used != e.label.size())
        throw_user_error(where, "label '" + e.label + "' is not a number");
    } else if (task.type == "token-classification") {
      for (const auto& t : e.tags)
        if (!known.count(t))
          throw_user_error(where, "tag '" + t + "' is not in the label set (" + join(vocabulary) + ")");
    } else if (task.classification() && !known.count(e.label)) {
      throw_user_error(where, "label '" + e.label + "' is not in the label set (" + join(vocabulary) + ")");
    }
  }
}

}  // namespace autopeft::trainer
