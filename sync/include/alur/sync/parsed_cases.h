// ParsedCases: cases kept parsed beside the text they were read from or written as, so
// that a store which reads back a case it wrote (the next batch that touches it) parses
// nothing. The stored text is always read and compared: an equal text gives the kept case,
// any other text (another process wrote it, a transaction rolled back) is parsed. Bounded:
// beyond `capacity` cases the least recently used are dropped (the server keeps a few;
// a replica, whose commands read every case, keeps them all: kUnbounded).
#pragma once

#include <cstddef>
#include <limits>
#include <list>
#include <string>
#include <unordered_map>

#include "alur/sync/case_state.h"

namespace alur::sync {

class ParsedCases {
 public:
  static constexpr std::size_t kUnbounded = std::numeric_limits<std::size_t>::max();
  explicit ParsedCases(std::size_t capacity) : capacity_(capacity) {}

  // The case stored as `text` (its case_json_text); valid until the next call.
  const CaseState& parse(const std::string& id, std::string text);
  // Remembers that `text` is the stored text of `c`.
  void keep(std::string text, CaseState c);
  // Forgets every case (their table was emptied).
  void clear() {
    by_id_.clear();
    used_.clear();
  }
  std::size_t size() const { return by_id_.size(); }

 private:
  struct Entry {
    std::string text;
    CaseState state;
    std::list<std::string>::iterator used;  // its place in used_
  };
  Entry& put(const std::string& id, std::string text, CaseState c);

  std::size_t capacity_;
  std::list<std::string> used_;  // ids, the most recently used first
  std::unordered_map<std::string, Entry> by_id_;
};

}  // namespace alur::sync
