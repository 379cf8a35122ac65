// A small SVG line-plot writer for training curves: several series, axes
// with "nice" tick values, axis labels, a title and a legend. Output is a
// self-contained SVG 1.1 document (no scripts, no external fonts).
//
//     PlotOptions o; o.title = "pre-training"; o.x_label = "step"; o.y_label = "loss";
//     std::string svg = line_plot_svg({{"train", {{0, 5.1}, {10, 3.2}}}}, o);
#pragma once
#include <string>
#include <utility>
#include <vector>

namespace aligners::demo {

struct Series {
    std::string name;
    std::vector<std::pair<double, double>> points;  // (x, y); non-finite points are skipped
};

struct PlotOptions {
    std::string title, x_label, y_label;
    int width = 640, height = 400;
};

// Axis range rounded out to "nice" numbers (1, 2, 5 x 10^k steps) with the
// tick values inside it.
struct Axis {
    double lo = 0, hi = 1;
    std::vector<double> ticks;
};
Axis nice_axis(double lo, double hi, int target_ticks = 5);

// The plotting area inside the margins, in SVG pixels.
struct PlotArea {
    double left, top, right, bottom;
};
PlotArea plot_area(const PlotOptions& o);

// Pixel position of a data value on an axis (x grows right, y grows up).
double map_x(double x, const Axis& ax, const PlotArea& a);
double map_y(double y, const Axis& ay, const PlotArea& a);

std::string line_plot_svg(const std::vector<Series>& series, const PlotOptions& options);

// Escapes &, <, >, " and ' for XML text and attribute values.
std::string xml_escape(const std::string& s);

}  // namespace aligners::demo
