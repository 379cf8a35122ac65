// The multi-node rendezvous: node 0 hands one small payload (NCCL's unique
// id) to every other node over TCP, and checks that the nodes agree on the
// layout before any of them starts NCCL.
//
//   node 0:  rendezvous_serve("HOST:PORT", nodes, id)   listens on HOST:PORT
//   node r:  rendezvous_fetch("HOST:PORT", r, nodes)    connects to it
//
// Protocol (one line each way, then the payload):
//   client -> "aligners-rendezvous 1 <node_rank> <nodes>\n"
//   server -> "ok <bytes>\n" + payload      once every node 1..nodes-1 checked in
//           | "error <message>\n"           to a node whose line is wrong
// The server answers nobody until all nodes have checked in (so a fetch
// returning means the whole layout was seen); a node rank given twice, a
// different node count or a malformed line is refused with a message naming
// both sides' values. Clients retry refused connections until the deadline
// (node 0 may start later); every wait is bounded by timeout_ms, and a
// timeout names who was still missing.
#pragma once
#include <string>

namespace aligners {

struct HostPort {
    std::string host;
    int port = 0;
};
// "HOST:PORT" or "[v6]:PORT"; throws UsageError naming `flag` and the value.
HostPort parse_host_port(const std::string& flag, const std::string& text);

// Node 0. Returns when every other node has received `payload`.
void rendezvous_serve(const std::string& host_port, int nodes, const std::string& payload, int timeout_ms);
// Node `node_rank` (1..nodes-1): the payload node 0 served.
std::string rendezvous_fetch(const std::string& host_port, int node_rank, int nodes, int timeout_ms);

}  // namespace aligners
