// The `templates` table that both stores keep (server/SCHEMA.md, client/SCHEMA.md): the
// JSON text of each imported SOP template version (op sop.set), by (sop, version). One
// place for its SQL, used by ServerDb and Replica alike.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <utility>

#include "alur/shared/sqlite.h"

namespace alur::sql {

inline std::map<std::pair<std::string, int>, std::string> read_templates(Database& db) {
  auto s = db.cached("SELECT sop, version, body FROM templates");
  std::map<std::pair<std::string, int>, std::string> out;
  while (s.step()) out[{s.get_text(0), static_cast<int>(s.get_int(1))}] = s.get_text(2);
  return out;
}

inline void write_template(Database& db, const std::string& sop, int version,
                           const std::string& text) {
  db.cached(
        "INSERT INTO templates (sop, version, body) VALUES (?, ?, ?) "
        "ON CONFLICT (sop, version) DO UPDATE SET body = excluded.body")
      .bind_text(1, sop)
      .bind(2, static_cast<std::int64_t>(version))
      .bind_text(3, text)
      .exec();
}

}  // namespace alur::sql
