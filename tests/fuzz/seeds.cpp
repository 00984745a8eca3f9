// alur_fuzz_seeds DIR: writes the starting corpora of the fuzz targets that read binary
// or scripted input (tests/fuzz/README.md): one encoded message of every type, change
// scripts that walk the LAKIP SOP through a whole quarter, a return for revision, drafts
// with corrections and a Plh. delegation, and request scripts for the web app. Every change of every script must be accepted,
// so the seeds start the fuzzer deep inside real case states; it exits 1 if one is not.
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "alur/shared/crypto.h"
#include "alur/sync/messages.h"
#include "rules_script.h"

using namespace alur;
namespace fs = std::filesystem;

namespace {

std::string revision(const std::string& content, const std::string& parents = "") {
  return R"({"filename":"x.txt","media":"text","parents":[)" + parents + R"(],"sha256":")" +
         crypto::sha256_hex(content) + R"(","size":)" + std::to_string(content.size()) + "}";
}

std::string change(const std::string& head, const std::string& body) {
  return head + "\n" + body + "\n%\n";
}

std::string quarter() {
  const std::string final_sha = crypto::sha256_hex("capaian final");
  const std::string bind =
      R"({"bind_revision":"r-pelaksana:2","bind_sha256":")" + final_sha + R"(","round":0})";
  return change("case.open case/$C sekretaris", R"({"period":"2026-Q3","sop":"LAKIP","version":1})") +
         change("task.complete task/$C/1 sekretaris", R"({"round":0,"text":"Laksanakan rapat koordinasi"})") +
         change("task.complete task/$C/2.koperasi kabid_koperasi", R"({"round":0,"text":"Siapkan capaian"})") +
         change("task.complete task/$C/2.usaha_mikro kabid_mikro", R"({"round":0,"text":"Siapkan capaian"})") +
         change("task.complete task/$C/2.ukm kabid_ukm", R"({"round":0,"text":"Siapkan capaian"})") +
         change("task.complete task/$C/3 kasubag",
                R"({"revision":)" + revision("persiapan") + R"(,"round":0,"text":"Bahan rapat"})") +
         change("task.complete task/$C/4 sekretaris", R"({"round":0,"text":"Notulen rapat"})") +
         change("task.complete task/$C/5 kasubag", R"({"round":0,"text":"Telaah: lengkapi IKU"})") +
         change("task.complete task/$C/6 pelaksana",
                R"({"revision":)" + revision("draft lakip") + R"(,"round":0})") +
         change("task.complete task/$C/7 kasubag",
                R"({"on_revision":"r-pelaksana:1","round":0,"text":"Perbaiki tabel 3"})") +
         change("task.complete task/$C/8 sekretaris", R"({"round":0,"text":"Notulen pembahasan"})") +
         change("task.complete task/$C/9 kasubag", R"({"round":0,"text":"Susun LAKIP final"})") +
         change("task.complete task/$C/10 pelaksana",
                R"({"revision":)" + revision("capaian final") + R"(,"round":0})") +
         change("task.complete task/$C/11 kasubag", bind) +
         change("task.complete task/$C/12 sekretaris", bind) +
         change("task.complete task/$C/13 kadis", bind);
}

std::string returned() {
  return change("case.open case/$C sekretaris", R"({"period":"2026-Q3","sop":"LAKIP","version":1})") +
         change("task.complete task/$C/1 sekretaris", R"({"round":0,"text":"Laksanakan"})") +
         change("task.complete task/$C/2.koperasi kabid_koperasi", R"({"round":0,"text":"a"})") +
         change("task.complete task/$C/2.usaha_mikro kabid_mikro", R"({"round":0,"text":"b"})") +
         change("task.complete task/$C/2.ukm kabid_ukm", R"({"round":0,"text":"c"})") +
         change("task.complete task/$C/3 kasubag",
                R"({"revision":)" + revision("bahan") + R"(,"round":0,"text":"Bahan"})") +
         change("task.complete task/$C/4 sekretaris", R"({"round":0,"text":"Notulen"})") +
         change("case.return task/$C/5 kasubag",
                R"({"reason":"Data bidang belum lengkap","round":0,"to_step":4})") +
         change("task.complete task/$C/4 sekretaris", R"({"round":1,"text":"Notulen ulang"})");
}

std::string drafts() {
  return change("case.open case/$C sekretaris", R"({"period":"2026-Q4","sop":"LAKIP","version":1})") +
         change("task.complete task/$C/1 sekretaris", R"({"round":0,"text":"Laksanakan"})") +
         change("draft.revise draft/$C/catatan pelaksana", revision("catatan v1")) +
         change("draft.revise draft/$C/catatan kasubag", revision("catatan v1b")) +
         change("draft.revise draft/$C/catatan pelaksana",
                revision("catatan v2", R"("r-pelaksana:1","r-kasubag:1")")) +
         change("correction.add corr/$C/r-kasubag:2 kasubag",
                R"({"draft":"catatan","revision":"r-pelaksana:2","text":"Lengkapi tabel"})") +
         change("correction.status corr/$C/r-kasubag:2 pelaksana", R"({"status":"resolved"})") +
         change("correction.status corr/$C/r-kasubag:2 kasubag", R"({"status":"reopened"})") +
         change("disposition.set disp/$C/1 sekretaris", R"({"text":"Rapat hari Senin"})");
}

std::string delegated() {
  return change("delegation.set delegation/d1 @server",
                R"({"bidang":null,"from":"2026-05-01","id":"d1","kind":"plh","note":"cuti",)"
                R"("role":"sekretaris","until":"2026-12-31","username":"kasubag"})") +
         change("case.open case/$C kasubag", R"({"period":"2026-Q3","sop":"LAKIP","version":1})") +
         change("task.complete task/$C/1 kasubag", R"({"round":0,"text":"Laksanakan, sebagai Plh."})") +
         change("delegation.end delegation/d1 @server", "{}");
}

sync::Change sample_change(std::uint64_t counter, const std::string& prev) {
  sync::Change c;
  c.record = "task/c0ffee0000000001/2.koperasi";
  c.op = sync::op::kTaskComplete;
  c.dot = {"r-kabid", counter};
  c.context.add({"r-sekretaris", 3});
  c.author = "kabid_koperasi";
  c.hlc = HybridClock::from_ms(1780000000000) + counter;
  c.body = R"({"round":0,"text":"Siapkan capaian"})";
  c.prev = prev;
  return c;
}

std::vector<std::pair<std::string, sync::Message>> messages() {
  const sync::Change a = sample_change(1, "");
  const sync::Change b = sample_change(2, a.hash());
  const std::string h32(32, '\x5a');
  sync::CommittedEntry e{7, 1780000000123, a, h32};
  return {
      {"hello", sync::Hello{sync::kProtocolVersion, "r-kabid", h32, 6, "0.1.0"}},
      {"enroll", sync::Enroll{sync::kProtocolVersion, "kabid_koperasi", "rahasia-1", h32, "PC-KOP"}},
      {"enrolled", sync::Enrolled{"r-kabid", h32, "kabid_koperasi", "Asep", "Dinas KUKM"}},
      {"welcome", sync::Welcome{9, 2, a.hash(), "kabid_koperasi", 1780000000000}},
      {"push", sync::Push{{a, b}, std::string(64, '\x11')}},
      {"push_result",
       sync::PushResult{{{1, sync::Outcome::kAccepted, 8, "", ""},
                         {2, sync::Outcome::kRejected, 0, "not_ready", "Belum siap"}}}},
      {"pull", sync::Pull{6, 500}},
      {"entries", sync::Entries{{e}, 9}},
      {"notify", sync::Notify{9}},
      {"blob_query", sync::BlobQuery{h32, 1000}},
      {"blob_state", sync::BlobState{h32, 400}},
      {"blob_chunk", sync::BlobChunk{h32, 400, 1000, std::string(600, 'x')}},
      {"blob_get", sync::BlobGet{h32, 0}},
      {"error", sync::ErrorMsg{"rate_limited", "Terlalu banyak percobaan", true}},
      {"cert_query", sync::CertQuery{}},
      {"cert_chain", sync::CertChain{R"([{"at":1,"new_fingerprint":"sha256:00"}])"}},
  };
}

// Requests to the web app (fuzz_ui.cpp): through the printed URL and the cookie, every
// /api/ path with a valid body, the setup screens, and requests each rule refuses.
std::string get(const std::string& target, const std::string& headers = "") {
  return "GET " + target + "\nHost: 127.0.0.1:4321\n" + headers + "\n";
}
std::string post(const std::string& path, const std::string& body, const std::string& headers = "") {
  return "POST /s/$S/api/" + path +
         "\nHost: 127.0.0.1:4321\nOrigin: http://127.0.0.1:4321\nContent-Type: application/json\n" +
         headers + "\n" + body;
}
std::string script(const std::vector<std::string>& requests) {
  std::string out;
  for (const std::string& r : requests) out += (out.empty() ? "" : "\n%\n") + r;
  return out;
}

std::vector<std::pair<std::string, std::string>> ui_scripts() {
  const std::string cookie = "Cookie: lang=id; alur_4321=$S\n";
  const std::string file = R"("file":{"filename":"catatan.txt","content_base64":"YmFyaXMgMQpiYXJpcyAyCg=="})";
  return {
      {"enter", script({get("/s/$S/"), get("/", cookie), get("/app.js", cookie),
                        get("/api/status", cookie), get("/events", cookie)})},
      {"read", script({get("/s/$S/api/inbox"), get("/s/$S/api/cases"), get("/s/$S/api/case?case=$C"),
                       get("/s/$S/api/sop?sop=LAKIP"), get("/s/$S/api/report?period=2026-Q3&case=$C"),
                       get("/s/$S/api/verify"), get("/s/$S/api/nothing")})},
      {"act", script({post("act", R"({"task":"$C.1","text":"Laksanakan rapat.","passphrase":"$P"})"),
                      post("disposition", R"({"task":"$C.1","text":"Segera."})"),
                      post("return", R"({"task":"$C.1","to_step":1,"reason":"Ulangi."})"),
                      get("/s/$S/api/case?case=$C")})},
      {"draft", script({post("draft/put", R"({"case":"$C","name":"catatan",)" + file + "}"),
                        get("/s/$S/api/draft?case=$C&name=catatan"),
                        get("/s/$S/api/draft/content?case=$C&name=catatan"),
                        get("/s/$S/api/draft/file?case=$C&name=catatan&rev="),
                        post("correction", R"({"case":"$C","name":"catatan","text":"Perbaiki."})"),
                        post("correction/status", R"({"case":"$C","id":"x","status":"done"})"),
                        post("draft/merge", R"({"case":"$C","name":"catatan"})")})},
      {"open", script({post("case/open", R"({"sop":"LAKIP","period":"2026-Q4"})"), post("sync", "{}")})},
      {"refused",
       script({"GET /s/$S/api/inbox\nHost: attacker.example:4321\n\n",
               get("/s/$S/api/inbox", "Origin: http://attacker.example\n"),
               "POST /s/$S/api/case/open\nHost: 127.0.0.1:4321\nOrigin: http://127.0.0.1:4321\n"
               "Content-Type: text/plain\n\n{\"sop\":\"LAKIP\",\"period\":\"2026-Q4\"}",
               "POST /s/$S/api/case/open\nHost: 127.0.0.1:4321\nContent-Type: application/json\n\n{}",
               "PUT /s/$S/api/case/open\nHost: 127.0.0.1:4321\n\n{}", get("/s/x/api/inbox"),
               get("/api/inbox", "Cookie: alur_4322=$S\n")})},
      {"setup-enroll",
       "setup not_enrolled\n" +
           script({get("/s/$S/api/status"), get("/s/$S/api/inbox"),
                   post("enroll", R"({"server":"wss://test:1","username":"sekretaris","password":"x","fingerprint":"ab"})")})},
      {"setup-repair", "setup replica_damaged\n" + script({post("repair", "{}"), get("/s/$S/api/inbox")})},
  };
}

void write(const fs::path& path, const std::string& bytes) {
  std::ofstream(path, std::ios::binary) << bytes;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: alur_fuzz_seeds DIR\n");
    return 2;
  }
  const fs::path dir = argv[1];
  fs::create_directories(dir / "message");
  fs::create_directories(dir / "rules");
  fs::create_directories(dir / "ui");
  for (const auto& [name, m] : messages()) write(dir / "message" / ("seed-" + name), sync::encode(m));
  write(dir / "message" / "seed-change", sync::encode_change(sample_change(1, "")));

  const std::vector<std::pair<std::string, std::string>> scripts = {
      {"quarter", quarter()}, {"returned", returned()}, {"drafts", drafts()},
      {"delegated", delegated()}};
  int bad = 0;
  for (const auto& [name, script] : scripts) {
    fuzz::RulesWorld world;
    for (const fuzz::ScriptChange& c : fuzz::parse_script(script)) {
      const sync::Verdict v = world.apply(c);
      if (!v.ok()) {
        std::fprintf(stderr, "seed %s: %s %s rejected: %s: %s\n", name.c_str(), c.op.c_str(),
                     c.record.c_str(), v.code.c_str(), v.message.c_str());
        ++bad;
      }
    }
    write(dir / "rules" / ("seed-" + name), script);
  }
  for (const auto& [name, requests] : ui_scripts()) write(dir / "ui" / ("seed-" + name), requests);
  std::printf("seeds written to %s\n", dir.c_str());
  return bad == 0 ? 0 : 1;
}
