// The benchmarks' workload: devices with their own hash chain, and the changes of one busy
// official, built the way the real client builds them (client/src/replica.cpp next_change).
#pragma once

#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "alur/shared/clock.h"
#include "alur/shared/crypto.h"
#include "alur/sync/change.h"

namespace alur::bench {

// A device a benchmark enrols by writing it into the server's database.
struct Device {
  std::string replica, token, username;
  std::string unit;  // the unit (dinas) it belongs to; "" for the data folder's own
  crypto::Ed25519Key key = crypto::Ed25519Key::generate();
  std::uint64_t counter = 0;
  std::string last_hash;
};

// The next change of a device's chain.
inline sync::Change next_change(Device& d, HybridClock& hlc, std::string record, std::string op,
                         const nlohmann::json& body) {
  sync::Change c;
  c.record = std::move(record);
  c.op = std::move(op);
  c.dot = {d.replica, ++d.counter};
  c.author = d.username;
  c.hlc = hlc.now();
  c.body = body.dump();
  c.prev = d.last_hash;
  d.last_hash = c.hash();
  return c;
}

// The attachment every draft revision of the workload names (uploaded once).
inline const std::string kDraftText = "Draft LAKIP untuk uji beban.\n";

// The workload of one busy official: cases of LAKIP opened for successive quarters, each
// with a draft revision and then corrections on it (per_case changes per case), so that a
// case grows the way a real one does while a batch writes it. Cases are numbered from
// first_case (a second official's workload beside the first one's: other cases, other periods).
inline std::vector<sync::Change> office_workload(Device& d, std::size_t n,
                                                 std::size_t per_case = 100,
                                                 std::size_t first_case = 0) {
  HybridClock hlc(Clock::system());
  std::vector<sync::Change> out;
  out.reserve(n);
  const std::string sha = crypto::sha256_hex(kDraftText);
  std::string revision;
  for (std::size_t i = 0; out.size() < n; ++i) {
    std::size_t k = i % per_case, cas = first_case + i / per_case;
    std::string id = "b" + std::to_string(cas);
    if (k == 0) {
      std::string period = std::to_string(2199 - cas / 4) + "-Q" + std::to_string(cas % 4 + 1);
      out.push_back(next_change(d, hlc, "case/" + id, sync::op::kCaseOpen,
                                {{"sop", "LAKIP"}, {"version", 1}, {"period", period}}));
    } else if (k == 1) {
      out.push_back(next_change(d, hlc, "draft/" + id + "/laporan", sync::op::kDraftRevise,
                                {{"sha256", sha},
                                 {"size", kDraftText.size()},
                                 {"filename", "laporan.txt"},
                                 {"media", "text"},
                                 {"parents", nlohmann::json::array()}}));
      revision = out.back().id();
    } else {
      std::string change_id = d.replica + ":" + std::to_string(d.counter + 1);
      out.push_back(next_change(d, hlc, "corr/" + id + "/" + change_id, sync::op::kCorrectionAdd,
                                {{"draft", "laporan"},
                                 {"revision", revision},
                                 {"text", "Koreksi nomor " + std::to_string(k) +
                                              ": periksa angka capaian IKU pada tabel."}}));
    }
  }
  return out;
}

}  // namespace alur::bench
