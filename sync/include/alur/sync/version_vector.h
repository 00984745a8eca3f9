// Version vectors, dots and dotted-version-vector sibling sets: the pure value types
// that decide whether two writes are ordered or concurrent (DESIGN.md §3).
//
// A Dot (replica, counter) names one change forever. A VersionVector maps each replica
// to the highest counter of it that has been seen. A DvvSet holds a record's concurrent
// values (siblings), one dot each; a write whose context covers a sibling's dot replaces
// it, so siblings never pile up the way plain vector clocks let them.
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace alur::sync {

struct Dot {
  std::string replica;
  std::uint64_t counter = 0;

  friend bool operator==(const Dot&, const Dot&) = default;
  friend auto operator<=>(const Dot&, const Dot&) = default;
  // "replica:counter", the change id used in messages and on the command line.
  std::string str() const { return replica + ":" + std::to_string(counter); }
};

enum class Order { kSame, kOlder, kNewer, kConcurrent };

class VersionVector {
 public:
  VersionVector() = default;

  std::uint64_t get(const std::string& replica) const;
  bool covers(const Dot& dot) const { return get(dot.replica) >= dot.counter; }
  // Raises the entry of dot.replica to at least dot.counter.
  void add(const Dot& dot);
  // Pointwise maximum.
  void merge(const VersionVector& other);
  // How *this relates to other: kOlder means *this < other (other saw everything *this did).
  Order compare(const VersionVector& other) const;
  // *this <= other pointwise.
  bool dominated_by(const VersionVector& other) const;

  const std::map<std::string, std::uint64_t>& entries() const { return entries_; }
  std::map<std::string, std::uint64_t>& mutable_entries() { return entries_; }
  bool empty() const { return entries_.empty(); }
  std::string str() const;  // "{a:3, b:1}"

  friend bool operator==(const VersionVector&, const VersionVector&) = default;

 private:
  std::map<std::string, std::uint64_t> entries_;  // counters of 0 are never stored
};

// What applying a write to a DvvSet did.
enum class DvvOutcome {
  kDuplicate,   // the dot was already covered: nothing changed (idempotence)
  kReplaced,    // the writer had seen every sibling: one value remains
  kConcurrent,  // the writer had not seen some sibling: siblings now > 1
};

template <class Value>
struct Sibling {
  Dot dot;
  Value value;
  friend bool operator==(const Sibling&, const Sibling&) = default;
};

// A multi-value register with dotted version vectors.
template <class Value>
class DvvSet {
 public:
  DvvOutcome apply(const Dot& dot, const VersionVector& context, Value value) {
    if (vv_.covers(dot)) return DvvOutcome::kDuplicate;
    std::vector<Sibling<Value>> kept;
    for (auto& s : siblings_)
      if (!context.covers(s.dot)) kept.push_back(std::move(s));
    siblings_ = std::move(kept);
    siblings_.push_back({dot, std::move(value)});
    vv_.merge(context);
    vv_.add(dot);
    return siblings_.size() > 1 ? DvvOutcome::kConcurrent : DvvOutcome::kReplaced;
  }

  const std::vector<Sibling<Value>>& siblings() const { return siblings_; }
  std::vector<Sibling<Value>>& mutable_siblings() { return siblings_; }
  const VersionVector& vv() const { return vv_; }
  VersionVector& mutable_vv() { return vv_; }
  bool in_conflict() const { return siblings_.size() > 1; }

  friend bool operator==(const DvvSet&, const DvvSet&) = default;

 private:
  VersionVector vv_;
  std::vector<Sibling<Value>> siblings_;
};

}  // namespace alur::sync
