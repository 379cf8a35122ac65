// The squad file: which criteria a squad corrects, with which models.
//
//   {
//     "mode": "gated",            // or "unconditional" (Ji: apply every aligner to every answer)
//     "stack": 1,                 // unconditional mode: apply each aligner this many times
//     "batch_size": 16,           // samples per squad batch (batch means order the aligners)
//     "criteria": [
//       {"name": "ethical",
//        "inspector": "models/ethical-inspector",   // directory (train inspector output)
//        "aligner": "models/ethical-aligner",       // directory (train aligner output)
//        "threshold": 0.5,                          // optional: default = the inspector's calibrated one, else 0.5
//        "instruction": ""}                         // optional extra text for the aligner prompt
//     ]
//   }
//
// Relative paths are resolved against the squad file's directory. The
// inspector is optional in unconditional mode.
#pragma once
#include <string>
#include <vector>

#include "serve/squad.h"

namespace aligners::serve {

struct SquadFileMember {
    std::string name;
    std::string inspector_dir;  // "" when absent
    std::string aligner_dir;
    double threshold = 0.5;
    bool threshold_given = false;
    std::string instruction;
};

struct SquadFile {
    std::string path;
    SquadOptions options;
    int batch_size = 16;
    std::vector<SquadFileMember> members;
};

SquadFile parse_squad_file(const std::string& text, const std::string& path);
SquadFile load_squad_file(const std::string& path);

}  // namespace aligners::serve
