// The web app's request rules (alur/client/ui_app.h), without sockets: the per-launch
// secret, the Host and Origin checks, JSON-only POSTs, and the /api/ paths on a real
// replica of the in-process office.
#include <gtest/gtest.h>

#include "alur/client/ui_app.h"
#include "client_harness.h"

namespace alur::client::testing {
namespace {

const std::string kSecret(48, 'a');

class UiApp : public ::testing::Test {
 protected:
  UiApp() : app(office.enroll("sekretaris"), kSecret, 4321) {}

  ui::Request get(const std::string& path) {
    return {"GET", "/s/" + kSecret + "/" + path, "127.0.0.1:4321", "", "", ""};
  }
  ui::Request post(const std::string& path, const json& body) {
    return {"POST", "/s/" + kSecret + "/" + path, "127.0.0.1:4321", "http://127.0.0.1:4321",
            "application/json", body.dump()};
  }
  static json body(const ui::Reply& r) { return json::parse(r.body); }

  Office office;
  ui::App app;
};

TEST_F(UiApp, ThePageAndTheApiNeedTheSecret) {
  EXPECT_EQ(app.handle(get("")).status, 200);
  EXPECT_NE(app.handle(get("")).body.find("<html"), std::string::npos);
  EXPECT_NE(app.handle(get("app.js")).content_type.find("javascript"), std::string::npos);
  for (const std::string& target : std::vector<std::string>{"/", "/index.html", "/api/inbox", "/s/", "/s/" + kSecret,
                                   "/s/" + std::string(48, 'b') + "/api/inbox",
                                   "/s/" + kSecret.substr(1) + "/api/inbox"}) {
    ui::Request r = get("");
    r.target = target;
    ui::Reply reply = app.handle(r);
    EXPECT_EQ(reply.status, 403) << target;
    EXPECT_EQ(body(reply)["error"]["code"], "forbidden") << target;
  }
  EXPECT_EQ(app.url(), "http://127.0.0.1:4321/s/" + kSecret + "/");
}

TEST_F(UiApp, AnotherHostIsRefused) {  // DNS rebinding
  for (const std::string host : {"attacker.example:4321", "127.0.0.1:80", "127.0.0.1", "", "localhost"}) {
    ui::Request r = get("api/inbox");
    r.host = host;
    EXPECT_EQ(app.handle(r).status, 403) << host;
  }
  ui::Request r = get("api/inbox");
  r.host = "localhost:4321";
  EXPECT_EQ(app.handle(r).status, 200);
}

TEST_F(UiApp, PostsMustComeFromThePageAsJson) {
  json open{{"sop", "LAKIP"}, {"period", "2026-Q3"}};
  ui::Request r = post("api/case/open", open);
  r.origin = "http://attacker.example";
  EXPECT_EQ(app.handle(r).status, 403);
  r.origin = "";
  EXPECT_EQ(app.handle(r).status, 403);
  r = post("api/case/open", open);
  r.content_type = "text/plain";  // what a cross-site <form> can send
  EXPECT_EQ(app.handle(r).status, 415);
  r.content_type = "application/x-www-form-urlencoded";
  EXPECT_EQ(app.handle(r).status, 415);
  r = post("api/case/open", open);
  r.body = "sop=LAKIP";
  EXPECT_EQ(app.handle(r).status, 400);
  EXPECT_TRUE(app.handle(get("api/cases")).body == "[]") << "nothing was opened by a refused POST";
  r = post("api/case/open", open);
  r.content_type = "application/json; charset=utf-8";
  EXPECT_EQ(app.handle(r).status, 200);
  EXPECT_EQ(body(app.handle(get("api/cases"))).size(), 1u);
}

TEST_F(UiApp, TheLiveChannelRefusesAnotherOrigin) {
  EXPECT_TRUE(app.handle(get("events")).event_stream);
  ui::Request r = get("events");
  r.origin = "http://attacker.example";
  ui::Reply reply = app.handle(r);
  EXPECT_FALSE(reply.event_stream);
  EXPECT_EQ(reply.status, 403);
}

TEST_F(UiApp, ActionsGoThroughTheApiAndBadInputIsAClearError) {
  std::string id = body(app.handle(post("api/case/open", {{"sop", "LAKIP"}, {"period", "2026-Q3"}})))["case"];
  ui::Reply missing = app.handle(post("api/act", {{"task", id + ".1"}}));
  EXPECT_EQ(missing.status, 400);
  EXPECT_FALSE(body(missing)["error"]["message"].get<std::string>().empty());
  ui::Reply wrong_type = app.handle(post("api/act", {{"task", 7}}));
  EXPECT_EQ(body(wrong_type)["error"]["code"], "bad_request");
  ui::Reply bad_file = app.handle(post("api/draft/put", {{"case", id}, {"name", "x"},
                                                         {"file", {{"filename", "a.txt"}, {"content_base64", "@@"}}}}));
  EXPECT_EQ(bad_file.status, 400);
  EXPECT_EQ(body(bad_file)["error"]["code"], "bad_base64");

  ui::Reply done = app.handle(post("api/act", {{"task", id + ".1"}, {"text", "Laksanakan rapat."},
                                               {"passphrase", "rahasia"}}));
  ASSERT_EQ(done.status, 200) << done.body;
  EXPECT_EQ(body(done)["state"], "tentative");
  json shown = body(app.handle(get("api/case?case=" + id)));
  EXPECT_EQ(shown["steps"][0]["tasks"][0]["state"], "done");
  EXPECT_EQ(shown["steps"][0]["tasks"][0]["text"], "Laksanakan rapat.");
  json status = body(app.handle(get("api/status")));
  EXPECT_EQ(status["tentative"], 2);  // the open and the disposition wait for sync
  EXPECT_FALSE(status["online"].get<bool>());
  EXPECT_EQ(app.handle(get("api/nothing")).status, 404);
}

TEST_F(UiApp, ADraftRevisionIsShownAsTextForTheDiff) {
  std::string id = body(app.handle(post("api/case/open", {{"sop", "LAKIP"}, {"period", "2026-Q3"}})))["case"];
  json file{{"filename", "catatan.txt"}, {"content_base64", crypto::base64_encode("baris 1\nbaris 2\n")}};
  ASSERT_EQ(app.handle(post("api/draft/put", {{"case", id}, {"name", "catatan"}, {"file", file}})).status, 200);
  json content = body(app.handle(get("api/draft/content?case=" + id + "&name=catatan")));
  EXPECT_EQ(content["text"], "baris 1\nbaris 2\n");
  EXPECT_EQ(content["filename"], "catatan.txt");
  json binary{{"filename", "x.bin"}, {"content_base64", crypto::base64_encode(std::string("\x00\xff", 2))}};
  ASSERT_EQ(app.handle(post("api/draft/put", {{"case", id}, {"name", "catatan"}, {"file", binary}})).status, 200);
  EXPECT_TRUE(body(app.handle(get("api/draft/content?case=" + id + "&name=catatan")))["text"].is_null());
  EXPECT_EQ(app.handle(get("api/draft/file?case=" + id + "&name=catatan")).body, std::string("\x00\xff", 2));
}

TEST(UiQuery, PercentDecodingAndPlus) {
  auto q = ui::parse_query("case=ab%2Fc&name=a+b&empty=&flag&bad=%zz");
  EXPECT_EQ(q["case"], "ab/c");
  EXPECT_EQ(q["name"], "a b");
  EXPECT_EQ(q["empty"], "");
  EXPECT_EQ(q.count("flag"), 1u);
  EXPECT_EQ(q["bad"], "%zz");
}

}  // namespace
}  // namespace alur::client::testing
