#include "studies/report.h"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <set>
#include <sstream>

#include "search/pareto.h"
#include "studies/front.h"

namespace autopeft::studies {

namespace {

std::string escape(const std::string& s) {
  std::string out;
  for (const char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      default: out += c;
    }
  }
  return out;
}

double seconds_between(const std::string& a, const std::string& b) {
  std::tm ta{}, tb{};
  if (a.empty() || b.empty() || !strptime(a.c_str(), "%Y-%m-%dT%H:%M:%S", &ta) ||
      !strptime(b.c_str(), "%Y-%m-%dT%H:%M:%S", &tb))
    return std::nan("");
  return std::difftime(timegm(&tb), timegm(&ta));
}

// The view of a study the report draws from.
struct View {
  std::vector<TrialRecord> trials, complete;
  std::vector<bool> on_front;  // per complete trial
  std::size_t x = 1, y = 0;    // objective indices of the main plot's axes
};

bool better(const Objective& o, double a, double b) { return o.direction == "maximize" ? a > b : a < b; }

View make_view(Storage& storage, const StudyRecord& study) {
  View v;
  v.trials = storage.trials(study.id);
  const auto m = study.objectives.size();
  v.complete = complete_with_values(v.trials, study);
  v.on_front.assign(v.complete.size(), false);
  for (const auto i : front_indices(v.complete, study)) v.on_front[i] = true;
  for (std::size_t k = 0; k < m; ++k)
    if (study.objectives[k].name == "params_percent") v.x = k;
  v.y = v.x == 0 ? 1 : 0;
  if (m < 2) v.x = v.y = 0;
  return v;
}

struct Axis {
  double lo, hi;
  double px(double v, double a, double b) const {
    return hi > lo ? a + (v - lo) / (hi - lo) * (b - a) : (a + b) / 2;
  }
};

Axis axis_of(const std::vector<double>& values) {
  double lo = *std::min_element(values.begin(), values.end()),
         hi = *std::max_element(values.begin(), values.end());
  const double pad = hi > lo ? 0.05 * (hi - lo) : (std::abs(lo) > 0 ? 0.05 * std::abs(lo) : 1.0);
  return {lo - pad, hi + pad};
}

std::string ticks(const Axis& ax, bool horizontal, double a, double b, double at) {
  std::string s;
  for (int i = 0; i <= 4; ++i) {
    const double v = ax.lo + (ax.hi - ax.lo) * i / 4.0;
    const double p = ax.px(v, a, b);
    s += horizontal
             ? fmt::format(
                   "<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\">{:.3g}</text>", p,
                   at + 16, v)
             : fmt::format("<text class=\"tick\" x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\">{:.3g}</text>",
                           at - 6, p + 4, v);
  }
  return s;
}

// A scatter of objective `xi` against `yi`; the main plot gets id "pareto".
std::string scatter(const View& v, const StudyRecord& study, std::size_t xi, std::size_t yi,
                    const std::string& attrs, const std::map<std::int64_t, std::string>& labels) {
  const double W = 640, H = 400, L = 70, R = 20, T = 20, B = 50;
  std::vector<double> xs, ys;
  for (const auto& t : v.complete) {
    xs.push_back(t.values[xi]);
    ys.push_back(t.values[yi]);
  }
  std::ostringstream s;
  s << "<svg " << attrs << fmt::format(" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\">", W, H, W, H);
  s << fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"frame\"/>", L, T, W - L - R,
                   H - T - B);
  s << fmt::format("<text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{} ({})</text>",
                   (L + W - R) / 2, H - 8, escape(study.objectives[xi].name), study.objectives[xi].direction);
  s << fmt::format(
      "<text class=\"axis-label\" transform=\"rotate(-90)\" x=\"{}\" y=\"16\" text-anchor=\"middle\">{} "
      "({})</text>",
      -(T + H - B) / 2, escape(study.objectives[yi].name), study.objectives[yi].direction);
  if (!v.complete.empty()) {
    const auto ax = axis_of(xs), ay = axis_of(ys);
    s << ticks(ax, true, L, W - R, H - B) << ticks(ay, false, H - B, T, L);
    // The front as a staircase line, then the points (dominated first, so the front is on top).
    for (const bool front : {false, true})
      for (std::size_t i = 0; i < v.complete.size(); ++i) {
        if (v.on_front[i] != front) continue;
        const auto& t = v.complete[i];
        const double px = ax.px(t.values[xi], L, W - R), py = ay.px(t.values[yi], H - B, T);
        std::string title = fmt::format("trial {}: ", t.number);
        for (std::size_t k = 0; k < t.values.size(); ++k)
          title += fmt::format("{}={:.5g} ", study.objectives[k].name, t.values[k]);
        title += t.params.dump();
        s << fmt::format(
            "<circle class=\"{}\" data-trial=\"{}\" cx=\"{:.1f}\" cy=\"{:.1f}\" "
            "r=\"{}\"><title>{}</title></circle>",
            front ? "front" : "dominated", t.number, px, py, front ? 5 : 4, escape(title));
        const auto it = labels.find(t.number);
        if (it != labels.end())
          s << fmt::format("<text class=\"point-label\" x=\"{:.1f}\" y=\"{:.1f}\">{}</text>", px + 7, py - 7,
                           escape(it->second));
      }
  }
  s << "</svg>";
  return s.str();
}

std::string line_plot(const std::string& attrs,
                      const std::vector<std::vector<std::pair<double, double>>>& series,
                      const std::vector<std::string>& names, const std::string& xlabel,
                      const std::string& ylabel) {
  const double W = 640, H = 300, L = 70, R = 20, T = 20, B = 50;
  std::vector<double> xs, ys;
  for (const auto& s : series)
    for (const auto& [x, y] : s) {
      xs.push_back(x);
      ys.push_back(y);
    }
  std::ostringstream o;
  o << "<svg " << attrs << fmt::format(" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\">", W, H, W, H);
  o << fmt::format("<rect x=\"{}\" y=\"{}\" width=\"{}\" height=\"{}\" class=\"frame\"/>", L, T, W - L - R,
                   H - T - B);
  o << fmt::format("<text class=\"axis-label\" x=\"{}\" y=\"{}\" text-anchor=\"middle\">{}</text>",
                   (L + W - R) / 2, H - 8, escape(xlabel));
  o << fmt::format(
      "<text class=\"axis-label\" transform=\"rotate(-90)\" x=\"{}\" y=\"16\" "
      "text-anchor=\"middle\">{}</text>",
      -(T + H - B) / 2, escape(ylabel));
  if (!xs.empty()) {
    const auto ax = axis_of(xs), ay = axis_of(ys);
    o << ticks(ax, true, L, W - R, H - B) << ticks(ay, false, H - B, T, L);
    for (std::size_t k = 0; k < series.size(); ++k) {
      std::string pts;
      for (const auto& [x, y] : series[k])
        pts += fmt::format("{:.1f},{:.1f} ", ax.px(x, L, W - R), ay.px(y, H - B, T));
      o << fmt::format("<polyline class=\"series s{}\" points=\"{}\"><title>{}</title></polyline>", k % 5,
                       pts, escape(names[k]));
    }
  }
  o << "</svg>";
  return o.str();
}

const char* kStyle = R"(
body{font:14px/1.4 system-ui,sans-serif;margin:24px;color:#222;max-width:1100px}
h1{font-size:22px}h2{font-size:17px;margin-top:28px}
svg{background:#fff;border:1px solid #ddd;margin:4px 0}
.frame{fill:none;stroke:#999}.tick{font-size:11px;fill:#555}.axis-label{font-size:13px;fill:#222}
circle.front{fill:#d62728;stroke:#7a1010}circle.dominated{fill:#bbb;stroke:#888}
circle:hover{stroke-width:3}.point-label{font-size:11px;fill:#1f4e99}
polyline.series{fill:none;stroke-width:2}.s0{stroke:#1f77b4}.s1{stroke:#d62728}.s2{stroke:#2ca02c}.s3{stroke:#9467bd}.s4{stroke:#ff7f0e}
table{border-collapse:collapse;font-size:12px}th,td{border:1px solid #ddd;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f4f4f4;cursor:pointer}td.params{font-family:monospace;max-width:520px;word-break:break-all}
.failed{color:#a00}.pruned{color:#a60}.summary td{border:none;padding:1px 10px 1px 0}
)";

const char* kScript = R"(
document.querySelectorAll('table.sortable th').forEach(function(th, col){
  th.addEventListener('click', function(){
    var body = th.closest('table').tBodies[0], rows = Array.from(body.rows), asc = th.dataset.asc !== '1';
    rows.sort(function(a, b){
      var x = a.cells[col].dataset.v || a.cells[col].textContent, y = b.cells[col].dataset.v || b.cells[col].textContent;
      var nx = parseFloat(x), ny = parseFloat(y);
      var c = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return asc ? c : -c;
    });
    th.dataset.asc = asc ? '1' : '0';
    rows.forEach(function(r){ body.appendChild(r); });
  });
});
)";

}  // namespace

std::string render_report(Storage& storage, const StudyRecord& study) {
  const auto v = make_view(storage, study);
  const auto m = study.objectives.size();
  std::ostringstream h;
  h << "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>autopeft study "
    << escape(study.name) << "</title><style>" << kStyle << "</style></head><body>";
  h << "<h1>Study <code>" << escape(study.name) << "</code></h1>";
  std::map<std::string, int> counts;
  for (const auto& t : v.trials) ++counts[std::string(state_name(t.state))];
  h << "<table class=\"summary\"><tr><td>created</td><td>" << escape(study.created) << "</td></tr>";
  h << "<tr><td>trials</td><td>";
  for (const auto& [state, n] : counts) h << n << " " << state << " &nbsp;";
  h << "</td></tr><tr><td>objectives</td><td>";
  for (const auto& o : study.objectives) h << escape(o.name) << " (" << o.direction << ") &nbsp;";
  h << "</td></tr>";
  // Labels: enqueued baselines, best (first objective) and knee.
  std::map<std::int64_t, std::string> labels;
  for (const auto& t : v.complete)
    if (t.params.contains("config"))
      labels[t.number] =
          "baseline " + t.params["config"].value("name", std::string("#") + std::to_string(t.number));
  if (!v.complete.empty()) {
    std::size_t best = 0;
    for (std::size_t i = 1; i < v.complete.size(); ++i)
      if (better(study.objectives[v.y], v.complete[i].values[v.y], v.complete[best].values[v.y])) best = i;
    labels[v.complete[best].number] +=
        (labels.count(v.complete[best].number) ? ", " : "") + std::string("best");
    h << "<tr><td>best " << escape(study.objectives[v.y].name) << "</td><td>"
      << fmt::format("{:.5g}", v.complete[best].values[v.y]) << " (trial " << v.complete[best].number
      << ")</td></tr>";
    if (m >= 2) {  // the knee as `study export --pick knee` finds it
      std::vector<TrialRecord> front;
      for (std::size_t i = 0; i < v.complete.size(); ++i)
        if (v.on_front[i]) front.push_back(v.complete[i]);
      if (const auto k = knee_index(front, study)) {
        const auto knee = front[*k].number;
        labels[knee] += (labels.count(knee) && !labels[knee].empty() ? ", " : "") + std::string("knee");
      }
    }
  }
  h << "</table>";

  h << "<h2>Pareto front</h2>";
  if (m >= 2) {
    h << scatter(v, study, v.x, v.y, "id=\"pareto\"", labels);
    for (std::size_t a = 0; a < m; ++a)
      for (std::size_t b = a + 1; b < m; ++b)
        if (!((a == v.x && b == v.y) || (a == v.y && b == v.x)))
          h << scatter(v, study, a, b, "class=\"pairwise\"", labels);
  } else {
    h << "<p>One objective: no front.</p>";
  }

  h << "<h2>Hypervolume by trial</h2>";
  const auto trace = hypervolume_trace(v.complete, study);
  if (!trace.empty()) {
    std::vector<std::pair<double, double>> pts;
    for (const auto& [n, hv] : trace) pts.emplace_back(static_cast<double>(n), hv);
    h << line_plot("id=\"hypervolume\"", {pts}, {"hypervolume"}, "trial",
                   "hypervolume (reference: worst observed)");
  } else {
    h << "<p>Needs two or more objectives and a complete trial.</p>";
  }

  // Per-layer heat map of the Pareto-optimal configurations.
  std::map<std::pair<int, std::string>, std::pair<int, double>> cells;  // (layer, method) -> (uses, size sum)
  std::set<int> layers;
  std::set<std::string> methods;
  int front_count = 0;
  for (std::size_t i = 0; i < v.complete.size(); ++i) {
    if (!v.on_front[i]) continue;
    ++front_count;
    for (auto it = v.complete[i].params.begin(); it != v.complete[i].params.end(); ++it) {
      const auto& key = it.key();
      if (key.rfind("layer.", 0) != 0 || !it->is_number()) continue;
      const auto d1 = key.find('.', 6), d2 = d1 == std::string::npos ? d1 : key.find('.', d1 + 1);
      if (d2 == std::string::npos) continue;
      const int layer = std::atoi(key.substr(6, d1 - 6).c_str());
      const std::string method = key.substr(d1 + 1, d2 - d1 - 1);
      layers.insert(layer);
      methods.insert(method);
      auto& c = cells[{layer, method}];
      if (it->get<double>() > 0) {
        ++c.first;
        c.second += it->get<double>();
      }
    }
  }
  h << "<h2>Modules of the Pareto-optimal configurations, per layer</h2>";
  if (!layers.empty() && front_count > 0) {
    h << "<table id=\"heatmap\"><thead><tr><th>layer</th>";
    for (const auto& mth : methods) h << "<th>" << escape(mth) << "</th>";
    h << "</tr></thead><tbody>";
    for (const int l : layers) {
      h << "<tr><td>" << l << "</td>";
      for (const auto& mth : methods) {
        const auto c = cells[{l, mth}];
        const double share = static_cast<double>(c.first) / front_count;
        const int shade = static_cast<int>(255 - 150 * share);
        h << fmt::format("<td style=\"background:rgb({},{},255)\" title=\"used by {} of {}\">{:.0f} %{}</td>",
                         shade, shade, c.first, front_count, 100 * share,
                         c.first ? fmt::format(", mean {:.3g}", c.second / c.first) : "");
      }
      h << "</tr>";
    }
    h << "</tbody></table>";
  } else {
    h << "<p>No per-layer dimensions (layer.I.METHOD.OPTION) in this study's front.</p>";
  }

  h << "<h2>Trials</h2><table id=\"trials\" class=\"sortable\"><thead><tr><th>#</th><th>state</th>";
  for (const auto& o : study.objectives) h << "<th>" << escape(o.name) << "</th>";
  h << "<th>seconds</th><th>reason</th><th>parameters</th></tr></thead><tbody>";
  for (const auto& t : v.trials) {
    const std::string state(state_name(t.state));
    h << "<tr class=\"trial " << state << "\"><td>" << t.number << "</td><td>" << state << "</td>";
    for (std::size_t k = 0; k < m; ++k)
      h << "<td>" << (k < t.values.size() ? fmt::format("{:.5g}", t.values[k]) : "") << "</td>";
    const double secs = seconds_between(t.started, t.finished);
    h << "<td>" << (std::isnan(secs) ? "" : fmt::format("{:.0f}", secs)) << "</td><td>" << escape(t.reason)
      << "</td><td class=\"params\">" << escape(t.params.dump()) << "</td></tr>";
  }
  h << "</tbody></table>";

  h << "<h2>Learning curves of the best trials</h2>";
  std::vector<TrialRecord> best = v.complete;
  std::sort(best.begin(), best.end(), [&](const auto& a, const auto& b) {
    return better(study.objectives[v.y], a.values[v.y], b.values[v.y]);
  });
  if (best.size() > 5) best.resize(5);
  std::vector<std::vector<std::pair<double, double>>> curves;
  std::vector<std::string> names;
  for (const auto& t : best) {
    std::vector<std::pair<double, double>> c;
    for (const auto& [step, value] : storage.intermediate_values(t.id))
      c.emplace_back(static_cast<double>(step), value);
    if (c.empty()) continue;
    curves.push_back(std::move(c));
    names.push_back("trial " + std::to_string(t.number));
  }
  if (!curves.empty())
    h << line_plot("id=\"curves\"", curves, names, "step", "intermediate value");
  else
    h << "<p>No intermediate values recorded.</p>";
  h << "<script>" << kScript << "</script></body></html>\n";
  return h.str();
}

std::string text_front_plot(Storage& storage, const StudyRecord& study, int width, int height) {
  const auto v = make_view(storage, study);
  if (study.objectives.size() < 2 || v.complete.empty()) return "";
  std::vector<double> xs, ys;
  for (const auto& t : v.complete) {
    xs.push_back(t.values[v.x]);
    ys.push_back(t.values[v.y]);
  }
  const auto ax = axis_of(xs), ay = axis_of(ys);
  std::vector<std::string> grid(static_cast<std::size_t>(height),
                                std::string(static_cast<std::size_t>(width), ' '));
  for (const bool front : {false, true})
    for (std::size_t i = 0; i < v.complete.size(); ++i) {
      if (v.on_front[i] != front) continue;
      const int c = std::clamp(static_cast<int>(std::lround(ax.px(xs[i], 0, width - 1))), 0, width - 1);
      const int r = std::clamp(static_cast<int>(std::lround(ay.px(ys[i], height - 1, 0))), 0, height - 1);
      grid[static_cast<std::size_t>(r)][static_cast<std::size_t>(c)] = front ? 'o' : '.';
    }
  std::ostringstream s;
  s << fmt::format("{} ({:.4g} .. {:.4g}) up; o on the front, . dominated\n", study.objectives[v.y].name,
                   ay.lo, ay.hi);
  for (const auto& row : grid) s << "|" << row << "\n";
  s << "+" << std::string(static_cast<std::size_t>(width), '-') << "\n";
  s << fmt::format("{} ({:.4g} .. {:.4g}) right\n", study.objectives[v.x].name, ax.lo, ax.hi);
  return s.str();
}

}  // namespace autopeft::studies
