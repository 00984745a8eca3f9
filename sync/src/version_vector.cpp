// Version vector comparison and merging.
#include "alur/sync/version_vector.h"

#include <algorithm>

namespace alur::sync {

std::uint64_t VersionVector::get(const std::string& replica) const {
  auto it = entries_.find(replica);
  return it == entries_.end() ? 0 : it->second;
}

void VersionVector::add(const Dot& dot) {
  if (dot.counter == 0) return;
  auto& c = entries_[dot.replica];
  c = std::max(c, dot.counter);
}

void VersionVector::merge(const VersionVector& other) {
  for (const auto& [replica, counter] : other.entries_) add({replica, counter});
}

bool VersionVector::dominated_by(const VersionVector& other) const {
  for (const auto& [replica, counter] : entries_)
    if (other.get(replica) < counter) return false;
  return true;
}

Order VersionVector::compare(const VersionVector& other) const {
  bool le = dominated_by(other), ge = other.dominated_by(*this);
  if (le && ge) return Order::kSame;
  if (le) return Order::kOlder;
  if (ge) return Order::kNewer;
  return Order::kConcurrent;
}

std::string VersionVector::str() const {
  std::string s = "{";
  for (const auto& [replica, counter] : entries_) {
    if (s.size() > 1) s += ", ";
    s += replica.substr(0, 8) + ":" + std::to_string(counter);
  }
  return s + "}";
}

}  // namespace alur::sync
