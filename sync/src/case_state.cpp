// CaseState accessors and its canonical JSON form (the byte-for-byte comparable state).
#include "alur/sync/case_state.h"

#include <algorithm>
#include <charconv>
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

namespace {

// Writes JSON as nlohmann's dump() does (no spaces; strings escaped the same way) into one
// string. The caller writes an object's keys in byte order, as std::map keeps them there.
class TextWriter {
 public:
  std::string out;

  TextWriter& obj() { return open('{'); }
  TextWriter& end_obj() { return close('}'); }
  TextWriter& arr() { return open('['); }
  TextWriter& end_arr() { return close(']'); }
  // The next member of an object, or the next element of an array.
  TextWriter& key(std::string_view k) {
    item();
    str(k);
    out += ':';
    return *this;
  }
  TextWriter& item() {
    if (more_) out += ',';
    more_ = true;
    return *this;
  }
  // A field written only when set (put_if).
  TextWriter& key_if(std::string_view k, const std::string& v) {
    if (!v.empty()) key(k).str(v);
    return *this;
  }

  TextWriter& str(std::string_view s) {
    const auto plain = [](char ch) {
      const auto b = static_cast<unsigned char>(ch);
      return b >= 0x20 && b < 0x80 && b != '"' && b != '\\';
    };
    out += '"';
    if (std::all_of(s.begin(), s.end(), plain)) {  // most text: copied at once
      out += s;
      out += '"';
      return *this;
    }
    out.pop_back();
    // dump() checks UTF-8 and copies it through unescaped: text outside ASCII (rare here)
    // is left to it, so that both agree on every byte and on every error.
    if (std::any_of(s.begin(), s.end(), [](char ch) { return static_cast<unsigned char>(ch) >= 0x80; })) {
      out += json(std::string(s)).dump();
      return *this;
    }
    out += '"';
    for (char ch : s) {
      switch (ch) {
        case '"': out += "\\\""; break;
        case '\\': out += "\\\\"; break;
        case '\b': out += "\\b"; break;
        case '\f': out += "\\f"; break;
        case '\n': out += "\\n"; break;
        case '\r': out += "\\r"; break;
        case '\t': out += "\\t"; break;
        default:
          if (static_cast<unsigned char>(ch) < 0x20) {
            static constexpr char kHex[] = "0123456789abcdef";
            out += "\\u00";
            out += kHex[(ch >> 4) & 0xF];
            out += kHex[ch & 0xF];
          } else {
            out += ch;
          }
      }
    }
    out += '"';
    return *this;
  }
  template <class Int>
  TextWriter& num(Int v) {
    char buf[24];
    out.append(buf, std::to_chars(buf, buf + sizeof buf, v).ptr);
    return *this;
  }
  TextWriter& boolean(bool v) {
    out += v ? "true" : "false";
    return *this;
  }
  TextWriter& null() {
    out += "null";
    return *this;
  }
  TextWriter& vv(const VersionVector& vv) {
    obj();
    for (const auto& [r, c] : vv.entries()) key(r).num(c);
    return end_obj();
  }
  TextWriter& dot(const Dot& d) { return arr().item().str(d.replica).item().num(d.counter).end_arr(); }

 private:
  TextWriter& open(char ch) {
    out += ch;
    more_ = false;
    return *this;
  }
  TextWriter& close(char ch) {
    out += ch;
    more_ = true;
    return *this;
  }
  bool more_ = false;  // the next member or element needs a comma before it
};

}  // namespace

// Every object's members in byte order of their keys (as case_to_json's std::map puts
// them); a test compares the two texts over cases with every kind of field.
std::string case_json_text(const CaseState& c) {
  TextWriter w;
  w.out.reserve(4096);
  w.obj().key("approvals").arr();
  for (const Approval& a : c.approvals) {
    w.item().obj().key_if("acting", a.acting).key("at").num(a.at).key("by").str(a.by);
    w.key("change").str(a.change).key("draft").str(a.draft).key("kind").str(a.kind);
    w.key_if("public_key", a.public_key).key("revision").str(a.revision).key("role").str(a.role);
    w.key("sha256").str(a.sha256).key_if("signature", a.signature);
    w.key_if("statement", a.statement).key("step").num(a.step);
    w.key("superseded").boolean(a.superseded).key("task").str(a.task).end_obj();
  }
  w.end_arr().key("corrections").obj();
  for (const auto& [id, k] : c.corrections) {
    w.key(id).obj().key("at").num(k.at).key("by").str(k.by).key("draft").str(k.draft);
    w.key("revision").str(k.revision).key("siblings").arr();
    for (const auto& s : k.status.siblings()) {
      w.item().obj().key("at").num(s.value.at).key("by").str(s.value.by);
      w.key("dot").dot(s.dot).key("status").str(s.value.status).end_obj();
    }
    w.end_arr().key("text").str(k.text).key("vv").vv(k.status.vv()).end_obj();
  }
  w.end_obj().key("dispositions").obj();
  for (const auto& [task, d] : c.dispositions) {
    w.key(task).obj().key("siblings").arr();
    for (const auto& s : d.value.siblings()) {
      w.item().obj().key("at").num(s.value.at).key("by").str(s.value.by);
      w.key("dot").dot(s.dot).key("text").str(s.value.text).end_obj();
    }
    w.end_arr().key("vv").vv(d.value.vv()).end_obj();
  }
  w.end_obj().key("drafts").obj();
  for (const auto& [name, d] : c.drafts) {
    w.key(name).obj();
    for (const auto& [id, r] : d.revisions) {
      w.key(id).obj().key("at").num(r.at).key("by").str(r.by).key("draft").str(r.draft);
      w.key("filename").str(r.filename).key("media").str(r.media).key("parents").arr();
      for (const auto& p : r.parents) w.item().str(p);
      w.end_arr().key("sha256").str(r.sha256).key("size").num(r.size);
      w.key("step").num(r.step).end_obj();
    }
    w.end_obj();
  }
  w.end_obj().key("id").str(c.id).key("opened_at").num(c.opened_at);
  w.key("opened_by").str(c.opened_by).key("period").str(c.period).key("returns").arr();
  for (const ReturnEvent& r : c.returns) {
    w.item().obj().key_if("acting", r.acting).key("at").num(r.at).key("by").str(r.by);
    w.key("change").str(r.change).key("from_task").str(r.from_task);
    w.key_if("outcome", r.outcome).key("reason").str(r.reason);
    w.key("to_step").num(r.to_step).end_obj();
  }
  w.end_arr().key("sop").str(c.sop).key("state").str(c.state).key("tasks").arr();
  for (const TaskState& t : c.tasks) {
    w.item().obj().key_if("acted_as", t.acted_as).key_if("acting", t.acting);
    w.key("at").num(t.at).key("bidang");
    if (t.bidang)
      w.str(*t.bidang);
    else
      w.null();
    w.key("by").str(t.by).key("change").str(t.change).key("key").str(t.key);
    w.key_if("outcome", t.outcome).key("ready_at").num(t.ready_at);
    w.key("revision").str(t.revision).key("role").str(t.role).key("round").num(t.round);
    w.key("state").str(t.state).key("step").num(t.step).key("text").str(t.text).end_obj();
  }
  w.end_arr().key("title").str(c.title).key("version").num(c.version).end_obj();
  return std::move(w.out);
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
