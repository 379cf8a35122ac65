// TEMPORARY stand-ins used by the demo pipeline until the engine-backed
// inspector and aligner trainers land (see docs/ARCHITECTURE.md): a
// bag-of-words logistic-regression inspector and an identity "aligner".
// They let the pipeline, its resumability and its report be built and tested
// end to end now; the real models replace them stage by stage.
#pragma once
#include <string>
#include <vector>

#include "train/demo/datasets.h"

namespace aligners::demo {


class BowInspector {
public:
    // Trains with plain SGD over `epochs` passes in a fixed (seeded) order;
    // appends (epoch, mean log-loss) to `curve`.
    void train(const std::vector<InspectorItem>& data, int epochs, double lr, uint64_t seed,
               std::vector<std::pair<double, double>>* curve);
    // P(aligned)
    double score(const std::string& question, const std::string& answer) const;

    json::Value to_json() const;
    static BowInspector from_json(const json::Value& v, const std::string& where);

private:
    static std::vector<std::string> features(const std::string& question, const std::string& answer);
    std::vector<std::string> vocab_;
    std::vector<double> weights_;
    double bias_ = 0;
};

}  // namespace aligners::demo
