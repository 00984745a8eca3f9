// Working-day calendars: parsing and validating a year's file, the amendment rule, and
// counting working days across years (calendar.h says the rules).
#include "alur/shared/calendar.h"

#include <algorithm>
#include <set>

#include "alur/shared/error.h"

namespace alur::embedded_calendars {
const std::map<std::string, std::string_view>& files();
}  // namespace alur::embedded_calendars

namespace alur {

using nlohmann::json;

namespace {

constexpr const char* kSchema = "alur.calendar/1";

[[noreturn]] void bad(const std::string& field, const std::string& why) {
  throw Error("bad_calendar", "Kalender tidak valid: " + field + ": " + why);
}

std::string line_and_column(std::string_view text, std::size_t byte) {
  std::size_t line = 1, col = 1;
  for (std::size_t i = 0; i < byte && i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      col = 1;
    } else {
      ++col;
    }
  }
  return "baris " + std::to_string(line) + ", kolom " + std::to_string(col);
}

const json& member(const json& obj, const std::string& key, const std::string& where) {
  auto it = obj.find(key);
  if (it == obj.end()) bad(where + key, "wajib diisi");
  return *it;
}

std::string text_field(const json& obj, const std::string& key, const std::string& where) {
  const json& v = member(obj, key, where);
  if (!v.is_string() || v.get<std::string>().empty())
    bad(where + key, "harus teks dan tidak kosong");
  return v.get<std::string>();
}

std::string date_field(const json& obj, const std::string& key, const std::string& where) {
  std::string d = text_field(obj, key, where);
  try {
    parse_date(d);
  } catch (const Error&) {
    bad(where + key, "bukan tanggal YYYY-MM-DD yang ada: \"" + d + "\"");
  }
  return d;
}

void only_keys(const json& obj, std::initializer_list<const char*> keys, const std::string& where) {
  for (const auto& [k, v] : obj.items()) {
    bool known = false;
    for (const char* allowed : keys) known = known || k == allowed;
    if (!known) bad(where + k, "kolom tidak dikenal");
  }
}

std::vector<std::string> source_refs(const json& obj, const std::set<std::string>& ids,
                                     const std::string& where) {
  std::vector<std::string> out;
  auto it = obj.find("sources");
  if (it == obj.end()) return out;
  if (!it->is_array()) bad(where + "sources", "harus daftar id sumber");
  for (std::size_t i = 0; i < it->size(); ++i) {
    const json& s = (*it)[i];
    std::string at = where + "sources[" + std::to_string(i) + "]";
    if (!s.is_string()) bad(at, "harus teks (id sumber)");
    if (!ids.count(s.get<std::string>()))
      bad(at, "sumber \"" + s.get<std::string>() + "\" tidak ada di daftar sources");
    out.push_back(s.get<std::string>());
  }
  return out;
}

Decree parse_decree(const json& j, const std::string& where) {
  if (!j.is_object()) bad(where, "harus objek {number, date, title}");
  return {text_field(j, "number", where + "."), date_field(j, "date", where + "."),
          text_field(j, "title", where + ".")};
}

CalendarDay parse_day(const json& j, int year, const std::set<std::string>& ids,
                      const std::string& where) {
  if (!j.is_object()) bad(where, "harus objek {date, kind, name}");
  only_keys(j, {"date", "kind", "name", "sources"}, where + ".");
  CalendarDay d;
  d.date = date_field(j, "date", where + ".");
  if (std::stoi(d.date.substr(0, 4)) != year)
    bad(where + ".date", d.date + " bukan tanggal tahun " + std::to_string(year));
  d.kind = text_field(j, "kind", where + ".");
  if (d.kind != "libur_nasional" && d.kind != "cuti_bersama")
    bad(where + ".kind", "harus libur_nasional atau cuti_bersama, bukan \"" + d.kind + "\"");
  d.name = text_field(j, "name", where + ".");
  d.sources = source_refs(j, ids, where + ".");
  return d;
}

json day_to_json(const CalendarDay& d) {
  json j = {{"date", d.date}, {"kind", d.kind}, {"name", d.name}};
  if (!d.sources.empty()) j["sources"] = d.sources;
  return j;
}

const CalendarDay* find_day(const std::vector<CalendarDay>& days, const std::string& date) {
  for (const auto& d : days)
    if (d.date == date) return &d;
  return nullptr;
}

}  // namespace

// --- one year ------------------------------------------------------------------------

const CalendarDay* CalendarYear::holiday_on(std::int64_t day) const {
  std::string date = format_date(day);
  const CalendarDay* off = find_day(days, date);
  for (const auto& a : amendments) {             // in date order
    if (parse_date(a.decree.date) > day) break;  // decreed after this day: not recounted
    if (const CalendarDay* added = find_day(a.add, date)) off = added;
    if (std::find(a.remove.begin(), a.remove.end(), date) != a.remove.end()) off = nullptr;
  }
  return off;
}

CalendarYear parse_calendar(std::string_view text) {
  json j;
  try {
    j = json::parse(text);
  } catch (const json::parse_error& e) {
    bad("JSON", line_and_column(text, e.byte) + ": " + e.what());
  } catch (const json::exception& e) {  // e.g. a number too large for any type (1e999)
    bad("JSON", e.what());
  }
  if (!j.is_object()) bad("(berkas)", "harus objek JSON");
  only_keys(j, {"schema", "year", "decree", "provenance", "sources", "days", "amendments"}, "");
  CalendarYear c;
  if (text_field(j, "schema", "") != kSchema)
    bad("schema", std::string("harus \"") + kSchema + "\"");
  const json& year = member(j, "year", "");
  if (!year.is_number_integer() || year.get<int>() < 1900 || year.get<int>() > 2200)
    bad("year", "harus bilangan tahun, mis. 2026");
  c.year = year.get<int>();
  c.decree = parse_decree(member(j, "decree", ""), "decree");
  c.provenance = text_field(j, "provenance", "");

  std::set<std::string> ids;
  if (auto it = j.find("sources"); it != j.end()) {
    if (!it->is_array()) bad("sources", "harus daftar objek {id, url, confirms}");
    for (std::size_t i = 0; i < it->size(); ++i) {
      std::string where = "sources[" + std::to_string(i) + "]";
      const json& s = (*it)[i];
      if (!s.is_object()) bad(where, "harus objek dengan id");
      std::string id = text_field(s, "id", where + ".");
      if (!ids.insert(id).second) bad(where + ".id", "id ganda: " + id);
      for (const auto& [k, v] : s.items())
        if (!v.is_string()) bad(where + "." + k, "harus teks");
    }
    c.sources = *it;
  }

  const json& days = member(j, "days", "");
  if (!days.is_array()) bad("days", "harus daftar hari libur");
  for (std::size_t i = 0; i < days.size(); ++i) {
    std::string where = "days[" + std::to_string(i) + "]";
    CalendarDay d = parse_day(days[i], c.year, ids, where);
    if (find_day(c.days, d.date)) bad(where + ".date", "tanggal ganda: " + d.date);
    c.days.push_back(std::move(d));
  }
  std::sort(c.days.begin(), c.days.end(),
            [](const CalendarDay& a, const CalendarDay& b) { return a.date < b.date; });

  if (auto it = j.find("amendments"); it != j.end()) {
    if (!it->is_array()) bad("amendments", "harus daftar perubahan");
    for (std::size_t i = 0; i < it->size(); ++i) {
      std::string where = "amendments[" + std::to_string(i) + "]";
      const json& a = (*it)[i];
      if (!a.is_object()) bad(where, "harus objek {number, date, title, add, remove}");
      only_keys(a, {"number", "date", "title", "add", "remove", "sources"}, where + ".");
      CalendarAmendment am;
      am.decree = parse_decree(a, where);
      if (am.decree.date < c.decree.date)
        bad(where + ".date", "perubahan tidak boleh lebih awal dari SKB (" + c.decree.date + ")");
      if (auto add = a.find("add"); add != a.end()) {
        if (!add->is_array()) bad(where + ".add", "harus daftar hari");
        for (std::size_t k = 0; k < add->size(); ++k)
          am.add.push_back(
              parse_day((*add)[k], c.year, ids, where + ".add[" + std::to_string(k) + "]"));
      }
      if (auto rm = a.find("remove"); rm != a.end()) {
        if (!rm->is_array()) bad(where + ".remove", "harus daftar tanggal");
        for (std::size_t k = 0; k < rm->size(); ++k) {
          std::string at = where + ".remove[" + std::to_string(k) + "]";
          const json& r = (*rm)[k];
          if (!r.is_string()) bad(at, "harus tanggal YYYY-MM-DD");
          std::string date = r.get<std::string>();
          try {
            parse_date(date);
          } catch (const Error&) {
            bad(at, "bukan tanggal YYYY-MM-DD yang ada: \"" + date + "\"");
          }
          bool listed = find_day(c.days, date) != nullptr;
          for (const auto& earlier : c.amendments) listed = listed || find_day(earlier.add, date);
          if (!listed) bad(at, date + " tidak ada di daftar hari libur yang diubah");
          am.remove.push_back(date);
        }
      }
      if (am.add.empty() && am.remove.empty()) bad(where, "perubahan tanpa add maupun remove");
      am.sources = source_refs(a, ids, where + ".");
      c.amendments.push_back(std::move(am));
    }
  }
  std::stable_sort(c.amendments.begin(), c.amendments.end(),
                   [](const CalendarAmendment& a, const CalendarAmendment& b) {
                     return a.decree.date < b.decree.date;
                   });
  return c;
}

json calendar_to_json(const CalendarYear& c) {
  json days = json::array(), amendments = json::array();
  for (const auto& d : c.days) days.push_back(day_to_json(d));
  for (const auto& a : c.amendments) {
    json add = json::array();
    for (const auto& d : a.add) add.push_back(day_to_json(d));
    json j = {{"number", a.decree.number},
              {"date", a.decree.date},
              {"title", a.decree.title},
              {"add", add},
              {"remove", a.remove}};
    if (!a.sources.empty()) j["sources"] = a.sources;
    amendments.push_back(j);
  }
  return {
      {"schema", kSchema},
      {"year", c.year},
      {"decree", {{"number", c.decree.number}, {"date", c.decree.date}, {"title", c.decree.title}}},
      {"provenance", c.provenance},
      {"sources", c.sources},
      {"days", days},
      {"amendments", amendments}};
}

// --- counting ------------------------------------------------------------------------

const WorkCalendar& WorkCalendar::builtin() {
  static const WorkCalendar calendar = [] {
    WorkCalendar w;
    for (const auto& [name, text] : embedded_calendars::files()) w.set(parse_calendar(text));
    return w;
  }();
  return calendar;
}

void WorkCalendar::set(CalendarYear year) {
  int y = year.year;
  years_[y] = std::move(year);
}

const CalendarYear* WorkCalendar::year(int y) const {
  auto it = years_.find(y);
  return it == years_.end() ? nullptr : &it->second;
}

std::vector<int> WorkCalendar::years() const {
  std::vector<int> out;
  for (const auto& [y, c] : years_) out.push_back(y);
  return out;
}

WorkCalendar::Day WorkCalendar::classify(std::int64_t day, const CalendarDay** off) const {
  if (off) *off = nullptr;
  if (weekday_of(day) >= 5) return Day::weekend;
  const CalendarYear* y = year(std::stoi(format_date(day).substr(0, 4)));
  if (!y) return Day::unknown;
  if (const CalendarDay* h = y->holiday_on(day)) {
    if (off) *off = h;
    return Day::holiday;
  }
  return Day::working;
}

bool WorkCalendar::working(std::int64_t day, std::vector<int>& missing) const {
  switch (classify(day)) {
    case Day::working:
      return true;
    case Day::unknown: {
      int y = std::stoi(format_date(day).substr(0, 4));
      if (std::find(missing.begin(), missing.end(), y) == missing.end()) missing.push_back(y);
      return true;  // the earliest it can be
    }
    default:
      return false;
  }
}

DueDate WorkCalendar::due(Millis ready_at, int days) const {
  DueDate out;
  std::int64_t day = day_wib(ready_at);
  while (!working(day, out.missing_years)) ++day;
  for (int i = 1; i < days;) {
    ++day;
    if (working(day, out.missing_years)) ++i;
  }
  out.date = format_date(day);
  out.certain = out.missing_years.empty();
  return out;
}

DayCount WorkCalendar::between(const std::string& from, const std::string& to) const {
  std::int64_t a = parse_date(from), b = parse_date(to);
  int sign = 1;
  if (b < a) {
    std::swap(a, b);
    sign = -1;
  }
  DayCount out;
  for (std::int64_t d = a + 1; d <= b; ++d)
    if (working(d, out.missing_years)) ++out.days;
  out.days *= sign;
  out.certain = out.missing_years.empty();
  return out;
}

DayCount WorkCalendar::spent(Millis ready_at, Millis done_at) const {
  DayCount out;
  for (std::int64_t d = day_wib(ready_at), end = day_wib(done_at); d <= end; ++d)
    if (working(d, out.missing_years)) ++out.days;
  out.certain = out.missing_years.empty();
  return out;
}

std::string uncertain_note(const std::vector<int>& missing_years) {
  if (missing_years.empty()) return "";
  std::string years;
  for (std::size_t i = 0; i < missing_years.size(); ++i)
    years += (i ? ", " : "") + std::to_string(missing_years[i]);
  return "Belum pasti: kalender hari libur dan cuti bersama tahun " + years +
         " belum tersedia, jadi hari Senin-Jumat tahun itu dihitung sebagai hari kerja "
         "(tanggal ini paling cepat). Minta administrator mengimpor kalendernya.";
}

}  // namespace alur
