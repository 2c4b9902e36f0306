#include "engine/metrics/roc_svg.h"

#include <algorithm>
#include <cstdio>

namespace dlrm {

namespace {

constexpr double k_left = 70, k_top = 70, k_side = 500;  // plot square in SVG user units

std::string escape_xml(const std::string& s) {
    std::string out;
    for (char ch : s) {
        switch (ch) {
            case '&': out += "&amp;"; break;
            case '<': out += "&lt;"; break;
            case '>': out += "&gt;"; break;
            case '"': out += "&quot;"; break;
            default:
                // Control characters are not allowed in XML 1.0 text.
                if (static_cast<unsigned char>(ch) >= 0x20 || ch == '\t') out += ch;
        }
    }
    return out;
}

std::string fmt(const char* f, double v) {
    char buf[64];
    std::snprintf(buf, sizeof buf, f, v);
    return buf;
}

double px(double fpr) { return k_left + std::clamp(fpr, 0.0, 1.0) * k_side; }
double py(double tpr) { return k_top + (1.0 - std::clamp(tpr, 0.0, 1.0)) * k_side; }

}  // namespace

std::string roc_svg(const roc_curve& curve, const binary_metrics& m, const std::string& source) {
    const double w = k_left + k_side + 30, h = k_top + k_side + 60;
    std::string s;
    s += "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n";
    s += "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"" + fmt("%.0f", w) + "\" height=\"" + fmt("%.0f", h) +
         "\" viewBox=\"0 0 " + fmt("%.0f", w) + " " + fmt("%.0f", h) + "\" font-family=\"sans-serif\">\n";
    s += "<title>ROC curve, AUC " + fmt("%.6f", m.auc) + "</title>\n";
    s += "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>\n";
    s += "<text x=\"" + fmt("%.1f", k_left) + "\" y=\"28\" font-size=\"18\">ROC curve: AUC " + fmt("%.6f", m.auc) +
         "</text>\n";
    s += "<text x=\"" + fmt("%.1f", k_left) + "\" y=\"50\" font-size=\"12\" fill=\"#555\">" + escape_xml(source) +
         " (" + std::to_string(m.rows) + " rows, " + std::to_string(m.positives) + " positive)</text>\n";
    // Grid and tick labels every 0.1.
    s += "<g stroke=\"#e4e4e4\" stroke-width=\"1\">\n";
    for (int i = 0; i <= 10; ++i) {
        const double v = i / 10.0;
        s += "<line x1=\"" + fmt("%.1f", px(v)) + "\" y1=\"" + fmt("%.1f", py(0)) + "\" x2=\"" + fmt("%.1f", px(v)) +
             "\" y2=\"" + fmt("%.1f", py(1)) + "\"/>";
        s += "<line x1=\"" + fmt("%.1f", px(0)) + "\" y1=\"" + fmt("%.1f", py(v)) + "\" x2=\"" + fmt("%.1f", px(1)) +
             "\" y2=\"" + fmt("%.1f", py(v)) + "\"/>\n";
    }
    s += "</g>\n<g font-size=\"11\" fill=\"#333\">\n";
    for (int i = 0; i <= 10; i += 2) {
        const double v = i / 10.0;
        s += "<text x=\"" + fmt("%.1f", px(v)) + "\" y=\"" + fmt("%.1f", py(0) + 16) + "\" text-anchor=\"middle\">" +
             fmt("%.1f", v) + "</text>";
        s += "<text x=\"" + fmt("%.1f", px(0) - 6) + "\" y=\"" + fmt("%.1f", py(v) + 4) + "\" text-anchor=\"end\">" +
             fmt("%.1f", v) + "</text>\n";
    }
    s += "</g>\n";
    s += "<text x=\"" + fmt("%.1f", k_left + k_side / 2) + "\" y=\"" + fmt("%.1f", py(0) + 40) +
         "\" font-size=\"13\" text-anchor=\"middle\">false positive rate</text>\n";
    s += "<text transform=\"translate(24 " + fmt("%.1f", k_top + k_side / 2) +
         ") rotate(-90)\" font-size=\"13\" text-anchor=\"middle\">true positive rate</text>\n";
    s += "<rect x=\"" + fmt("%.1f", k_left) + "\" y=\"" + fmt("%.1f", k_top) + "\" width=\"" + fmt("%.1f", k_side) +
         "\" height=\"" + fmt("%.1f", k_side) + "\" fill=\"none\" stroke=\"#333\"/>\n";
    s += "<line x1=\"" + fmt("%.1f", px(0)) + "\" y1=\"" + fmt("%.1f", py(0)) + "\" x2=\"" + fmt("%.1f", px(1)) +
         "\" y2=\"" + fmt("%.1f", py(1)) + "\" stroke=\"#999\" stroke-dasharray=\"5 4\"/>\n";
    s += "<polyline fill=\"none\" stroke=\"#1f5fbf\" stroke-width=\"2\" stroke-linejoin=\"round\" points=\"";
    const size_t k = std::min(curve.fpr.size(), curve.tpr.size());
    for (size_t i = 0; i < k; ++i) {
        s += fmt("%.2f", px(curve.fpr[i])) + "," + fmt("%.2f", py(curve.tpr[i]));
        s += (i + 1 < k) ? (i % 8 == 7 ? "\n" : " ") : "";
    }
    s += "\"/>\n</svg>\n";
    return s;
}

}  // namespace dlrm
