#pragma once
// The study report: one self-contained HTML page (inline SVG, CSS and a few lines of inline
// script for sorting; nothing fetched) with
//   svg#pareto       the task metric against the cost objective (params_percent when the study
//                    has it, else the second objective): circle.front for non-dominated complete
//                    trials, circle.dominated (grey) for the others, enqueued baselines and the
//                    best / knee picks labelled, the configuration on hover (<title>); studies with
//                    more objectives get one svg.pairwise per further pair
//   svg#hypervolume  the 2-D hypervolume of the complete trials against the trial number
//   table#heatmap    per layer and PEFT method, how often the Pareto-optimal configurations use it
//                    and their mean size (per-layer spaces: layer.I.METHOD.OPTION)
//   table#trials     one tr.trial per trial: number, state, values, duration, reason, parameters;
//                    click a header to sort
//   svg#curves       the learning curves (intermediate values) of the best five trials
// and a small text plot of the front for the terminal (`study status`). Torch-free.
#include <string>

#include "studies/storage.h"

namespace autopeft::studies {

std::string render_report(Storage& storage, const StudyRecord& study);

// A width x height character plot of the complete trials ('o' non-dominated, '.' the others),
// with the axis ranges written beside it; empty when the study has fewer than two objectives.
std::string text_front_plot(Storage& storage, const StudyRecord& study, int width = 60, int height = 14);

}  // namespace autopeft::studies
