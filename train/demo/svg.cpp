#include "train/demo/svg.h"

#include <algorithm>
#include <cmath>
#include <cstdio>

namespace aligners::demo {

std::string xml_escape(const std::string& s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s) {
        switch (c) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            case '\'': out += "&apos;"; break;
            default: out += c;
        }
    }
    return out;
}

// The smallest "nice" step (1, 2, 5 x 10^k) giving at most ~target intervals.
static double nice_step(double span, int target) {
    double raw = span / std::max(1, target);
    double mag = std::pow(10.0, std::floor(std::log10(raw)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
        if (m * mag >= raw) return m * mag;
    return 10 * mag;
}

Axis nice_axis(double lo, double hi, int target_ticks) {
    if (!std::isfinite(lo) || !std::isfinite(hi)) lo = 0, hi = 1;
    if (lo > hi) std::swap(lo, hi);
    if (hi - lo < 1e-12) {  // a flat series: open a unit-sized window around it
        double pad = std::max(std::fabs(lo) * 0.1, 0.5);
        lo -= pad;
        hi += pad;
    }
    double step = nice_step(hi - lo, target_ticks);
    Axis a;
    a.lo = std::floor(lo / step) * step;
    a.hi = std::ceil(hi / step) * step;
    for (int i = 0;; ++i) {
        double t = a.lo + i * step;
        if (t > a.hi + step * 1e-9) break;
        a.ticks.push_back(std::fabs(t) < step * 1e-9 ? 0.0 : t);
    }
    return a;
}

PlotArea plot_area(const PlotOptions& o) {
    // Margins: room for tick labels and the y label on the left, the x label
    // below, the title above, and the legend on the right.
    return {70.0, 40.0, double(o.width) - 150.0, double(o.height) - 55.0};
}

double map_x(double x, const Axis& ax, const PlotArea& a) {
    return a.left + (x - ax.lo) / (ax.hi - ax.lo) * (a.right - a.left);
}

double map_y(double y, const Axis& ay, const PlotArea& a) {
    return a.bottom - (y - ay.lo) / (ay.hi - ay.lo) * (a.bottom - a.top);
}

static std::string num(double v) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", v);
    return buf;
}

static std::string tick_label(double v, double step) {
    char buf[32];
    int decimals = step >= 1 ? 0 : std::min(6, int(std::ceil(-std::log10(step) - 1e-9)));
    std::snprintf(buf, sizeof buf, "%.*f", decimals, v);
    return buf;
}

std::string line_plot_svg(const std::vector<Series>& series, const PlotOptions& o) {
    static const char* kColors[] = {"#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2"};
    double xlo = INFINITY, xhi = -INFINITY, ylo = INFINITY, yhi = -INFINITY;
    for (const auto& s : series)
        for (auto [x, y] : s.points) {
            if (!std::isfinite(x) || !std::isfinite(y)) continue;
            xlo = std::min(xlo, x), xhi = std::max(xhi, x);
            ylo = std::min(ylo, y), yhi = std::max(yhi, y);
        }
    if (xlo > xhi) xlo = 0, xhi = 1, ylo = 0, yhi = 1;  // no data at all
    const Axis ax = nice_axis(xlo, xhi), ay = nice_axis(ylo, yhi);
    const PlotArea a = plot_area(o);

    std::string svg;
    svg += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    svg += "<svg xmlns=\"http://www.w3.org/2000/svg\" version=\"1.1\" width=\"" + std::to_string(o.width) +
           "\" height=\"" + std::to_string(o.height) + "\" viewBox=\"0 0 " + std::to_string(o.width) + " " +
           std::to_string(o.height) + "\" font-family=\"sans-serif\" font-size=\"12\">\n";
    svg += "<rect x=\"0\" y=\"0\" width=\"" + std::to_string(o.width) + "\" height=\"" + std::to_string(o.height) +
           "\" fill=\"white\"/>\n";
    svg += "<text x=\"" + num(double(o.width) / 2) + "\" y=\"22\" text-anchor=\"middle\" font-size=\"15\">" +
           xml_escape(o.title) + "</text>\n";

    // Grid lines and tick labels.
    const double xstep = ax.ticks.size() > 1 ? ax.ticks[1] - ax.ticks[0] : 1;
    const double ystep = ay.ticks.size() > 1 ? ay.ticks[1] - ay.ticks[0] : 1;
    svg += "<g class=\"grid\" stroke=\"#dddddd\" stroke-width=\"1\">\n";
    for (double t : ax.ticks) {
        double px = map_x(t, ax, a);
        svg += "<line x1=\"" + num(px) + "\" y1=\"" + num(a.top) + "\" x2=\"" + num(px) + "\" y2=\"" + num(a.bottom) + "\"/>\n";
    }
    for (double t : ay.ticks) {
        double py = map_y(t, ay, a);
        svg += "<line x1=\"" + num(a.left) + "\" y1=\"" + num(py) + "\" x2=\"" + num(a.right) + "\" y2=\"" + num(py) + "\"/>\n";
    }
    svg += "</g>\n<g class=\"ticks\" fill=\"#333333\">\n";
    for (double t : ax.ticks)
        svg += "<text x=\"" + num(map_x(t, ax, a)) + "\" y=\"" + num(a.bottom + 16) + "\" text-anchor=\"middle\">" +
               tick_label(t, xstep) + "</text>\n";
    for (double t : ay.ticks)
        svg += "<text x=\"" + num(a.left - 6) + "\" y=\"" + num(map_y(t, ay, a) + 4) + "\" text-anchor=\"end\">" +
               tick_label(t, ystep) + "</text>\n";
    svg += "</g>\n";

    // Axes and their labels.
    svg += "<g class=\"axes\" stroke=\"#000000\" stroke-width=\"1\">\n";
    svg += "<line x1=\"" + num(a.left) + "\" y1=\"" + num(a.bottom) + "\" x2=\"" + num(a.right) + "\" y2=\"" + num(a.bottom) + "\"/>\n";
    svg += "<line x1=\"" + num(a.left) + "\" y1=\"" + num(a.top) + "\" x2=\"" + num(a.left) + "\" y2=\"" + num(a.bottom) + "\"/>\n";
    svg += "</g>\n";
    svg += "<text x=\"" + num((a.left + a.right) / 2) + "\" y=\"" + num(double(o.height) - 12) +
           "\" text-anchor=\"middle\">" + xml_escape(o.x_label) + "</text>\n";
    svg += "<text x=\"18\" y=\"" + num((a.top + a.bottom) / 2) + "\" text-anchor=\"middle\" transform=\"rotate(-90 18 " +
           num((a.top + a.bottom) / 2) + ")\">" + xml_escape(o.y_label) + "</text>\n";

    // Series and legend.
    for (size_t i = 0; i < series.size(); ++i) {
        const char* color = kColors[i % (sizeof kColors / sizeof kColors[0])];
        std::string pts;
        for (auto [x, y] : series[i].points) {
            if (!std::isfinite(x) || !std::isfinite(y)) continue;
            if (!pts.empty()) pts += ' ';
            pts += num(map_x(x, ax, a)) + "," + num(map_y(y, ay, a));
        }
        svg += "<polyline class=\"series\" data-name=\"" + xml_escape(series[i].name) + "\" fill=\"none\" stroke=\"" +
               color + "\" stroke-width=\"1.5\" points=\"" + pts + "\"/>\n";
        double ly = a.top + 10 + 18 * double(i);
        svg += "<line x1=\"" + num(a.right + 12) + "\" y1=\"" + num(ly) + "\" x2=\"" + num(a.right + 32) + "\" y2=\"" +
               num(ly) + "\" stroke=\"" + color + "\" stroke-width=\"2\"/>\n";
        svg += "<text x=\"" + num(a.right + 38) + "\" y=\"" + num(ly + 4) + "\">" + xml_escape(series[i].name) + "</text>\n";
    }
    svg += "</svg>\n";
    return svg;
}

}  // namespace aligners::demo
