// CaseState accessors and its canonical JSON form (the byte-for-byte comparable state).
#include "alur/sync/case_state.h"

#include <algorithm>
#include <set>

#include "alur/shared/error.h"

namespace alur::sync {

using nlohmann::json;

std::vector<std::string> Draft::heads() const {
  std::set<std::string> parents;
  for (const auto& [id, r] : revisions)
    for (const auto& p : r.parents) parents.insert(p);
  std::vector<const Revision*> hs;
  for (const auto& [id, r] : revisions)
    if (!parents.count(id)) hs.push_back(&r);
  std::sort(hs.begin(), hs.end(), [](const Revision* a, const Revision* b) {
    return a->at != b->at ? a->at < b->at : a->id < b->id;
  });
  std::vector<std::string> out;
  for (const auto* r : hs) out.push_back(r->id);
  return out;
}

std::string Correction::state() const {
  if (status.siblings().empty()) return "open";
  bool all_resolved = true;
  for (const auto& s : status.siblings()) {
    if (s.value.status == "reopened") return "reopened";
    if (s.value.status != "resolved") all_resolved = false;
  }
  return all_resolved ? "resolved" : "open";
}

TaskState* CaseState::task(const std::string& key) {
  for (auto& t : tasks)
    if (t.key == key) return &t;
  return nullptr;
}

const TaskState* CaseState::task(const std::string& key) const {
  return const_cast<CaseState*>(this)->task(key);
}

void StateAccess::put_template(const std::string& sop, int version, const std::string&) {
  throw Error("unsupported", "Penyimpanan ini tidak menyimpan templat SOP (" + sop + " versi " +
                                 std::to_string(version) + ").");
}

std::string task_id(const std::string& case_id, const std::string& key) {
  return case_id + "." + key;
}

std::pair<std::string, std::string> split_task_id(const std::string& id) {
  auto dot = id.find('.');
  if (dot == std::string::npos || dot == 0 || dot + 1 == id.size())
    throw Error("bad_task_id", "Nomor tugas tidak valid: \"" + id + "\" (contoh: <kasus>.5)");
  return {id.substr(0, dot), id.substr(dot + 1)};
}

namespace {

json vv_to_json(const VersionVector& vv) {
  json j = json::object();
  for (const auto& [r, c] : vv.entries()) j[r] = c;
  return j;
}

VersionVector vv_from_json(const json& j) {
  VersionVector vv;
  for (auto it = j.begin(); it != j.end(); ++it)
    vv.add({it.key(), it.value().get<std::uint64_t>()});
  return vv;
}

json dot_to_json(const Dot& d) { return json::array({d.replica, d.counter}); }
Dot dot_from_json(const json& j) {
  return {j.at(0).get<std::string>(), j.at(1).get<std::uint64_t>()};
}

json opt(const std::optional<std::string>& s) { return s ? json(*s) : json(); }

// Fields added after the first release appear only when set, so that the canonical form of
// a case that uses none of them is what it always was.
void put_if(json& j, const char* key, const std::string& value) {
  if (!value.empty()) j[key] = value;
}

}  // namespace

json case_to_json(const CaseState& c) {
  json j;
  j["id"] = c.id;
  j["sop"] = c.sop;
  j["version"] = c.version;
  j["period"] = c.period;
  j["title"] = c.title;
  j["opened_by"] = c.opened_by;
  j["opened_at"] = c.opened_at;
  j["state"] = c.state;
  j["tasks"] = json::array();
  for (const auto& t : c.tasks) {
    json task = {{"key", t.key},           {"step", t.step},   {"bidang", opt(t.bidang)},
                 {"role", t.role},         {"state", t.state}, {"round", t.round},
                 {"ready_at", t.ready_at}, {"by", t.by},       {"at", t.at},
                 {"change", t.change},     {"text", t.text},   {"revision", t.revision}};
    put_if(task, "acting", t.acting);
    put_if(task, "acted_as", t.acted_as);
    put_if(task, "outcome", t.outcome);
    j["tasks"].push_back(std::move(task));
  }
  j["drafts"] = json::object();
  for (const auto& [name, d] : c.drafts) {
    json revs = json::object();
    for (const auto& [id, r] : d.revisions)
      revs[id] = {{"draft", r.draft},
                  {"parents", r.parents},
                  {"by", r.by},
                  {"at", r.at},
                  {"sha256", r.sha256},
                  {"size", r.size},
                  {"filename", r.filename},
                  {"media", r.media},
                  {"step", r.step}};
    j["drafts"][name] = revs;
  }
  j["dispositions"] = json::object();
  for (const auto& [key, d] : c.dispositions) {
    json sibs = json::array();
    for (const auto& s : d.value.siblings())
      sibs.push_back({{"dot", dot_to_json(s.dot)},
                      {"text", s.value.text},
                      {"by", s.value.by},
                      {"at", s.value.at}});
    j["dispositions"][key] = {{"vv", vv_to_json(d.value.vv())}, {"siblings", sibs}};
  }
  j["corrections"] = json::object();
  for (const auto& [id, k] : c.corrections) {
    json sibs = json::array();
    for (const auto& s : k.status.siblings())
      sibs.push_back({{"dot", dot_to_json(s.dot)},
                      {"status", s.value.status},
                      {"by", s.value.by},
                      {"at", s.value.at}});
    j["corrections"][id] = {
        {"draft", k.draft}, {"revision", k.revision},          {"text", k.text},  {"by", k.by},
        {"at", k.at},       {"vv", vv_to_json(k.status.vv())}, {"siblings", sibs}};
  }
  j["approvals"] = json::array();
  for (const auto& a : c.approvals) {
    json approval = {{"kind", a.kind},
                     {"task", a.task},
                     {"step", a.step},
                     {"draft", a.draft},
                     {"revision", a.revision},
                     {"sha256", a.sha256},
                     {"by", a.by},
                     {"role", a.role},
                     {"at", a.at},
                     {"change", a.change},
                     {"superseded", a.superseded}};
    put_if(approval, "acting", a.acting);
    put_if(approval, "statement", a.statement);
    put_if(approval, "public_key", a.public_key);
    put_if(approval, "signature", a.signature);
    j["approvals"].push_back(std::move(approval));
  }
  j["returns"] = json::array();
  for (const auto& r : c.returns) {
    json ret = {{"from_task", r.from_task},
                {"to_step", r.to_step},
                {"reason", r.reason},
                {"by", r.by},
                {"at", r.at},
                {"change", r.change}};
    put_if(ret, "acting", r.acting);
    put_if(ret, "outcome", r.outcome);
    j["returns"].push_back(std::move(ret));
  }
  return j;
}

CaseState case_from_json(const json& j) {
  CaseState c;
  c.id = j.at("id");
  c.sop = j.at("sop");
  c.version = j.at("version");
  c.period = j.at("period");
  c.title = j.at("title");
  c.opened_by = j.at("opened_by");
  c.opened_at = j.at("opened_at");
  c.state = j.at("state");
  for (const auto& t : j.at("tasks")) {
    TaskState s;
    s.key = t.at("key");
    s.step = t.at("step");
    if (!t.at("bidang").is_null()) s.bidang = t.at("bidang").get<std::string>();
    s.role = t.at("role");
    s.state = t.at("state");
    s.round = t.at("round");
    s.ready_at = t.at("ready_at");
    s.by = t.at("by");
    s.at = t.at("at");
    s.change = t.at("change");
    s.text = t.at("text");
    s.revision = t.at("revision");
    s.acting = t.value("acting", "");
    s.acted_as = t.value("acted_as", "");
    s.outcome = t.value("outcome", "");
    c.tasks.push_back(std::move(s));
  }
  for (auto it = j.at("drafts").begin(); it != j.at("drafts").end(); ++it) {
    Draft d;
    d.name = it.key();
    for (auto rit = it.value().begin(); rit != it.value().end(); ++rit) {
      const auto& r = rit.value();
      Revision rev{rit.key(),    r.at("draft"),    r.at("parents").get<std::vector<std::string>>(),
                   r.at("by"),   r.at("at"),       r.at("sha256"),
                   r.at("size"), r.at("filename"), r.at("media"),
                   r.at("step")};
      d.revisions.emplace(rev.id, std::move(rev));
    }
    c.drafts.emplace(d.name, std::move(d));
  }
  for (auto it = j.at("dispositions").begin(); it != j.at("dispositions").end(); ++it) {
    Disposition d;
    d.task = it.key();
    d.value.mutable_vv() = vv_from_json(it.value().at("vv"));
    for (const auto& s : it.value().at("siblings"))
      d.value.mutable_siblings().push_back(
          {dot_from_json(s.at("dot")), {s.at("text"), s.at("by"), s.at("at")}});
    c.dispositions.emplace(d.task, std::move(d));
  }
  for (auto it = j.at("corrections").begin(); it != j.at("corrections").end(); ++it) {
    const auto& k = it.value();
    Correction corr;
    corr.id = it.key();
    corr.draft = k.at("draft");
    corr.revision = k.at("revision");
    corr.text = k.at("text");
    corr.by = k.at("by");
    corr.at = k.at("at");
    corr.status.mutable_vv() = vv_from_json(k.at("vv"));
    for (const auto& s : k.at("siblings"))
      corr.status.mutable_siblings().push_back(
          {dot_from_json(s.at("dot")), {s.at("status"), s.at("by"), s.at("at")}});
    c.corrections.emplace(corr.id, std::move(corr));
  }
  for (const auto& a : j.at("approvals"))
    c.approvals.push_back({a.at("kind"), a.at("task"), a.at("step"), a.at("draft"),
                           a.at("revision"), a.at("sha256"), a.at("by"), a.at("role"), a.at("at"),
                           a.at("change"), a.at("superseded"), a.value("acting", ""),
                           a.value("statement", ""), a.value("public_key", ""),
                           a.value("signature", "")});
  for (const auto& r : j.at("returns"))
    c.returns.push_back({r.at("from_task"), r.at("to_step"), r.at("reason"), r.at("by"), r.at("at"),
                         r.at("change"), r.value("acting", ""), r.value("outcome", "")});
  return c;
}

}  // namespace alur::sync
