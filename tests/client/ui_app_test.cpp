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
    return {"GET", "/s/" + kSecret + "/" + path, "127.0.0.1:4321", "", "", "", ""};
  }
  ui::Request post(const std::string& path, const json& body) {
    return {"POST", "/s/" + kSecret + "/" + path, "127.0.0.1:4321", "http://127.0.0.1:4321",
            "application/json", body.dump(), ""};
  }
  static json body(const ui::Reply& r) { return json::parse(r.body); }

  Office office;
  ui::App app;
};

TEST_F(UiApp, ThePageAndTheApiNeedTheSecret) {
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

std::string header(const ui::Reply& r, const std::string& name) {
  for (const auto& [n, v] : r.headers)
    if (n == name) return v;
  return "";
}

// The printed URL is swapped for a cookie and a clean address, so that the secret does not
// stay in the browser's history; the cookie then opens the page and the API.
TEST_F(UiApp, ThePrintedUrlSetsTheCookieAndRedirectsToACleanAddress) {
  for (const std::string page : {"", "index.html", "?x=1"}) {
    ui::Reply entered = app.handle(get(page));
    EXPECT_EQ(entered.status, 303) << page;
    EXPECT_EQ(header(entered, "Location"), "/") << page;
    EXPECT_EQ(header(entered, "Set-Cookie"),
              "alur_4321=" + kSecret + "; Path=/; HttpOnly; SameSite=Strict") << page;
  }
  ui::Request page = get("");
  page.target = "/";
  page.cookie = "lang=id; alur_4321=" + kSecret;
  ui::Reply shown = app.handle(page);
  EXPECT_EQ(shown.status, 200);
  EXPECT_NE(shown.body.find("<html"), std::string::npos);
  page.target = "/api/inbox";
  EXPECT_EQ(app.handle(page).status, 200);
  page.target = "/events";
  EXPECT_TRUE(app.handle(page).event_stream);

  // Without the cookie, with another launch's or another port's, or the secret under
  // another name: refused, and the clean address alone reveals nothing.
  for (const std::string& cookie : {std::string(), "alur_4321=" + std::string(48, 'b'),
                                    "alur_4322=" + kSecret, "alur=" + kSecret, "xalur_4321=" + kSecret,
                                    "alur_4321=" + kSecret.substr(1)}) {
    for (const std::string target : {"/", "/api/inbox", "/events", "/app.js"}) {
      ui::Request r = get("");
      r.target = target;
      r.cookie = cookie;
      EXPECT_EQ(app.handle(r).status, 403) << target << " with " << cookie;
    }
  }
  // The cookie does not lift the other rules: Host, Origin and JSON still apply.
  ui::Request rebound = page;
  rebound.target = "/api/inbox";
  rebound.host = "attacker.example:4321";
  EXPECT_EQ(app.handle(rebound).status, 403);
  ui::Request cross = post("api/case/open", {{"sop", "LAKIP"}, {"period", "2026-Q3"}});
  cross.target = "/api/case/open";
  cross.cookie = page.cookie;
  cross.origin = "http://attacker.example";
  EXPECT_EQ(app.handle(cross).status, 403);
  cross.origin = "http://127.0.0.1:4321";
  cross.content_type = "text/plain";
  EXPECT_EQ(app.handle(cross).status, 415);
  EXPECT_EQ(app.handle(get("api/cases")).body, "[]");
  cross.content_type = "application/json";
  EXPECT_EQ(app.handle(cross).status, 200);
}

// A PC that is not enrolled: the page gets the enrolment screen, every other call a 409, and
// enrolment through the page (on the in-process office) makes the app ready.
// The page keeps the newest status of a run: every status of one `alur ui` carries the same
// run and a larger seq than the one before (the answer and the live events may cross);
// another launch is another run.
TEST_F(UiApp, EveryStatusIsNewerThanTheLastOfItsRun) {
  json first = body(app.handle(get("api/status")));
  json live = app.live_status();
  json again = body(app.handle(get("api/status")));
  EXPECT_EQ(first["run"], live["run"]);
  EXPECT_EQ(live["run"], again["run"]);
  EXPECT_LT(first["seq"].get<std::int64_t>(), live["seq"].get<std::int64_t>());
  EXPECT_LT(live["seq"].get<std::int64_t>(), again["seq"].get<std::int64_t>());
  ui::App other(office.api("other-pc"), kSecret, 4321);
  other.need_setup({"not_enrolled", "Belum terdaftar."}, [] {});
  EXPECT_NE(other.live_status()["run"], first["run"]);
}

TEST(UiSetup, NotEnrolledServesOnlyEnrolment) {
  Office office;
  Api& fresh = office.api("new-pc");
  ui::App app(fresh, kSecret, 4321);
  bool ready = false;
  app.need_setup({"not_enrolled", "Belum terdaftar."}, [&] { ready = true; });
  auto get = [&](const std::string& path) {
    return app.handle({"GET", "/s/" + kSecret + "/" + path, "127.0.0.1:4321", "", "", "", ""});
  };
  auto post = [&](const std::string& path, const json& body) {
    return app.handle({"POST", "/s/" + kSecret + "/" + path, "127.0.0.1:4321", "http://127.0.0.1:4321",
                       "application/json", body.dump(), ""});
  };
  EXPECT_EQ(json::parse(get("api/status").body)["setup"]["code"], "not_enrolled");
  ui::Reply inbox = get("api/inbox");
  EXPECT_EQ(inbox.status, 409);
  EXPECT_EQ(json::parse(inbox.body)["error"]["code"], "not_enrolled");
  EXPECT_EQ(post("api/repair", json::object()).status, 409) << "repair is for a damaged replica";
  ui::Reply missing = post("api/enroll", {{"server", "wss://x"}, {"username", "kadis"}});
  EXPECT_EQ(missing.status, 400);
  EXPECT_FALSE(ready);
  json login{{"server", kServerUrl}, {"fingerprint", test_fingerprint()}, {"username", "sekretaris"},
             {"password", "bukan-sandinya"}};
  ui::Reply wrong = post("api/enroll", login);
  EXPECT_EQ(wrong.status, 400);
  EXPECT_FALSE(ready);
  EXPECT_EQ(get("api/inbox").status, 409) << "still not enrolled";

  login["password"] = office.passwords.at("sekretaris");
  ui::Reply enrolled = post("api/enroll", login);
  ASSERT_EQ(enrolled.status, 200) << enrolled.body;
  EXPECT_EQ(json::parse(enrolled.body)["username"], "sekretaris");
  EXPECT_TRUE(ready);
  EXPECT_EQ(get("api/inbox").status, 200);
  EXPECT_EQ(json::parse(get("api/status").body)["username"], "sekretaris");
  EXPECT_EQ(post("api/enroll", login).status, 404) << "enrolment is over";
}

TEST(UiCookie, ValueByExactName) {
  EXPECT_EQ(ui::cookie_value("a=1; alur_1=xyz; b=2", "alur_1"), "xyz");
  EXPECT_EQ(ui::cookie_value("alur_1=xyz", "alur_1"), "xyz");
  EXPECT_EQ(ui::cookie_value("alur_10=xyz", "alur_1"), "");
  EXPECT_EQ(ui::cookie_value("", "alur_1"), "");
  EXPECT_EQ(ui::cookie_value("alur_1", "alur_1"), "");
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

// Found while writing the `ui` fuzz target: an error message quoting a query or a path
// that is not UTF-8 made the JSON dump throw out of handle(), which ends `alur ui`.
TEST_F(UiApp, BytesThatAreNotUtf8GetAJsonErrorNotACrash) {
  ui::Reply unknown = app.handle(get("api/case?case=%FF%C0"));
  EXPECT_EQ(unknown.status, 400);
  EXPECT_EQ(body(unknown)["error"]["code"], "unknown_case");
  EXPECT_NE(body(unknown)["error"]["message"].get<std::string>().find("\xEF\xBF\xBD"),
            std::string::npos);  // U+FFFD where the bytes were
  ui::Reply path = app.handle(post("api/\xff", json::object()));
  EXPECT_EQ(path.status, 404);
  EXPECT_EQ(body(path)["error"]["code"], "not_found");
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
