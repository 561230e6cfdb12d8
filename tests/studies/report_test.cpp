// The HTML study report: its structure, and the page as headless Chromium renders it.
#include "studies/report.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <regex>

#include "studies/controller.h"
#include "studies/study_spec.h"
#include "tests/support/test_support.h"

namespace autopeft::studies {
namespace {

using autopeft::testing::run_command;
using autopeft::testing::TempDir;

// An external study with per-layer-named dimensions: 12 complete trials (some dominated), one
// failed, one enqueued; values a known function of the point.
StudyRecord make_study(SqliteStorage& st) {
  const nlohmann::json spec = {
      {"study", "report"},
      {"runner", "external"},
      {"space",
       {{{"name", "layer.0.lora.r"}, {"type", "ordinal"}, {"values", {0, 1, 2, 4, 8}}},
        {{"name", "layer.1.lora.r"}, {"type", "ordinal"}, {"values", {0, 1, 2, 4, 8}}}}},
      {"objectives",
       {{{"name", "accuracy"}, {"direction", "maximize"}},
        {{"name", "params_percent"}, {"direction", "minimize"}}}},
      {"sampler", {{"type", "random"}}},
      {"budget", {{"trials", 20}}},
      {"seed", 1}};
  const auto s = StudySpec::from_json(spec, "spec", "/");
  auto study = st.create_study(s.name, s.definition, s.objectives, s.seed);
  for (int i = 0; i < 13; ++i) {
    const auto t = ask(st, study, "w");
    const double r0 = t.params["layer.0.lora.r"], r1 = t.params["layer.1.lora.r"];
    if (i == 5) {
      tell(st, study, t.number, TrialState::failed, {}, "NaN loss");
      continue;
    }
    st.report(t.id, 1, 0.4 + 0.01 * r0);
    st.report(t.id, 2, 0.5 + 0.02 * (r0 + r1));
    tell(st, study, t.number, TrialState::complete,
         {0.5 + 0.02 * (r0 + r1) - 0.001 * r0 * r1, 0.1 * (r0 + r1)}, "");
  }
  st.enqueue_trial(study.id, {{"layer.0.lora.r", 8}, {"layer.1.lora.r", 8}});
  return study;
}

// The non-dominated complete trials, counted independently of the report code.
int front_size(SqliteStorage& st, const StudyRecord& study) {
  std::vector<TrialRecord> c;
  for (const auto& t : st.trials(study.id))
    if (t.state == TrialState::complete) c.push_back(t);
  int n = 0;
  for (const auto& a : c) {
    bool dominated = false;
    for (const auto& b : c)
      dominated = dominated || (b.values[0] >= a.values[0] && b.values[1] <= a.values[1] &&
                                (b.values[0] > a.values[0] || b.values[1] < a.values[1]));
    n += !dominated;
  }
  return n;
}

int count(const std::string& text, const std::string& pattern) {
  const std::regex re(pattern);
  return static_cast<int>(
      std::distance(std::sregex_iterator(text.begin(), text.end(), re), std::sregex_iterator()));
}

TEST(ReportTest, PageHoldsEveryPartAndNothingExternal) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st);
  const auto html = render_report(st, study);
  EXPECT_EQ(count(html, "<circle class=\"front\""), front_size(st, study));
  EXPECT_EQ(count(html, "<circle class=\"(front|dominated)\""), 12);
  EXPECT_EQ(count(html, "<tr class=\"trial "), 14);  // 12 complete, 1 failed, 1 waiting
  EXPECT_NE(html.find("id=\"hypervolume\""), std::string::npos);
  EXPECT_NE(html.find("id=\"heatmap\""), std::string::npos);
  EXPECT_NE(html.find("id=\"curves\""), std::string::npos);
  EXPECT_NE(html.find("NaN loss"), std::string::npos);
  EXPECT_EQ(html.find("http"), std::string::npos);  // nothing fetched
  EXPECT_EQ(html.find("src="), std::string::npos);
  const auto plot = text_front_plot(st, study);
  EXPECT_NE(plot.find('o'), std::string::npos);
  EXPECT_NE(plot.find("params_percent"), std::string::npos);
}

TEST(ReportTest, ThreeObjectivesGetPairwisePlotsWithTheirOwnNames) {
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const nlohmann::json spec = {{"study", "three"},
                               {"runner", "external"},
                               {"space", {{{"name", "x"}, {"type", "float"}, {"low", 0}, {"high", 1}}}},
                               {"objectives",
                                {{{"name", "speed"}, {"direction", "maximize"}},
                                 {{"name", "cost"}, {"direction", "minimize"}},
                                 {{"name", "size"}, {"direction", "minimize"}}}},
                               {"sampler", {{"type", "random"}}},
                               {"seed", 0}};
  const auto s = StudySpec::from_json(spec, "spec", "/");
  const auto study = st.create_study(s.name, s.definition, s.objectives, s.seed);
  for (int i = 0; i < 6; ++i) {
    const auto t = ask(st, study, "w");
    const double x = t.params["x"];
    tell(st, study, t.number, TrialState::complete, {x, x * x, 1 - x}, "");
  }
  const auto html = render_report(st, study);
  EXPECT_EQ(count(html, "<svg id=\"pareto\""), 1);
  EXPECT_EQ(count(html, "<svg class=\"pairwise\""), 2);  // three pairs, one of them the main plot
  for (const char* name : {"speed (maximize)", "cost (minimize)", "size (minimize)"})
    EXPECT_NE(html.find(name), std::string::npos) << name;
}

std::string chromium() {
  for (const char* p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (std::filesystem::exists(p)) return p;
  return "";
}

TEST(ReportBrowserIntegrationTest, ChromiumRendersTheFrontTheTrialsAndTheAxes) {
  const auto browser = chromium();
  if (browser.empty()) GTEST_SKIP() << "chromium is not installed (scripts/setup installs it)";
  TempDir tmp;
  SqliteStorage st((tmp / "s.db").string());
  const auto study = make_study(st);
  const auto page = tmp / "report.html";
  std::ofstream(page) << render_report(st, study);
  const std::string flags =
      " --headless --no-sandbox --disable-gpu --no-first-run --disable-background-networking "
      "--disable-component-update --disable-sync --user-data-dir='" +
      (tmp / "profile").string() + "' ";
  const auto r = run_command(browser + flags + "--dump-dom 'file://" + page.string() + "' 2>/dev/null");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const auto& dom = r.out;
  // The rendered DOM: circles inside svg#pareto, rows inside table#trials, the axis labels.
  const auto pareto =
      dom.substr(dom.find("<svg id=\"pareto\""),
                 dom.find("</svg>", dom.find("<svg id=\"pareto\"")) - dom.find("<svg id=\"pareto\""));
  EXPECT_EQ(count(pareto, "<circle class=\"front\""), front_size(st, study));
  const auto table_at = dom.find("<table id=\"trials\"");
  ASSERT_NE(table_at, std::string::npos);
  const auto table = dom.substr(table_at, dom.find("</table>", table_at) - table_at);
  EXPECT_EQ(count(table, "<tr class=\"trial "), 14);
  EXPECT_NE(pareto.find("accuracy (maximize)"), std::string::npos);
  EXPECT_NE(pareto.find("params_percent (minimize)"), std::string::npos);
  const auto shot = tmp / "report.png";
  const auto s = run_command(browser + flags + "--window-size=1100,1800 --screenshot='" + shot.string() +
                             "' 'file://" + page.string() + "' 2>/dev/null");
  EXPECT_EQ(s.exit_code, 0);
  EXPECT_GT(std::filesystem::file_size(shot), 10000u);
}

}  // namespace
}  // namespace autopeft::studies
