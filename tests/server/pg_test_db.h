// A fresh PostgreSQL schema per test, in the throwaway cluster that the CTest fixture `pg`
// starts (tests/pg/cluster.sh; its URL in the file named by ALUR_TEST_PG_URL_FILE). Without
// a cluster the test FAILS saying so: the PostgreSQL store is never skipped silently.
#pragma once

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <fstream>
#include <random>
#include <stdexcept>
#include <string>

#include "alur/server/pg.h"

namespace alur::server::testing {

// The cluster's URL (postgresql://postgres@127.0.0.1:PORT/postgres).
inline std::string pg_cluster_url() {
  const char* file = std::getenv("ALUR_TEST_PG_URL_FILE");
  if (!file || !*file)
    throw std::runtime_error(
        "PostgreSQL tests need the test cluster: run them through ctest (fixture pg, "
        "tests/pg/cluster.sh), or set ALUR_TEST_PG_URL_FILE to a file holding its URL");
  std::ifstream in(file);
  std::string url;
  if (!(in >> url) || url.empty())
    throw std::runtime_error(std::string("PostgreSQL test cluster is not running: no URL in ") +
                             file + " (is PostgreSQL installed? run scripts/setup)");
  return url;
}

// A schema of its own in the test cluster, dropped when the test ends.
class PgTestSchema {
 public:
  PgTestSchema() : admin_url_(pg_cluster_url()) {
    static std::atomic<int> n{0};
    std::random_device rd;
    name_ = "t_" + std::to_string(::getpid()) + "_" + std::to_string(++n) + "_" +
            std::to_string(rd() % 100000);
    pg::Connection(admin_url_).exec("CREATE SCHEMA " + name_);
  }
  ~PgTestSchema() {
    try {
      pg::Connection(admin_url_).exec("DROP SCHEMA " + name_ + " CASCADE");
    } catch (...) {  // the cluster is thrown away after the run anyway
    }
  }
  PgTestSchema(const PgTestSchema&) = delete;
  PgTestSchema& operator=(const PgTestSchema&) = delete;

  // A URL whose connections use only this schema.
  std::string url() const {
    return admin_url_ + (admin_url_.find('?') == std::string::npos ? "?" : "&") +
           "options=-csearch_path%3D" + name_;
  }

 private:
  std::string admin_url_;
  std::string name_;
};

}  // namespace alur::server::testing
