// Tests of version vectors and of the dotted-version-vector sibling set (DvvSet) that
// decides which concurrent writes of a record survive (DESIGN.md §3).
#include "alur/sync/version_vector.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace alur::sync {
namespace {

VersionVector vv(std::initializer_list<std::pair<const char*, std::uint64_t>> entries) {
  VersionVector v;
  for (const auto& [replica, counter] : entries) v.add({replica, counter});
  return v;
}

TEST(VersionVectorTest, CompareSameOlderNewerConcurrent) {
  EXPECT_EQ(VersionVector{}.compare(VersionVector{}), Order::kSame);
  EXPECT_EQ(vv({{"a", 2}, {"b", 1}}).compare(vv({{"b", 1}, {"a", 2}})), Order::kSame);

  EXPECT_EQ(vv({{"a", 1}}).compare(vv({{"a", 2}})), Order::kOlder);
  EXPECT_EQ(VersionVector{}.compare(vv({{"a", 1}})), Order::kOlder);
  EXPECT_EQ(vv({{"a", 1}}).compare(vv({{"a", 1}, {"b", 1}})), Order::kOlder);

  EXPECT_EQ(vv({{"a", 2}}).compare(vv({{"a", 1}})), Order::kNewer);
  EXPECT_EQ(vv({{"a", 1}, {"b", 1}}).compare(vv({{"a", 1}})), Order::kNewer);

  EXPECT_EQ(vv({{"a", 2}, {"b", 1}}).compare(vv({{"a", 1}, {"b", 2}})), Order::kConcurrent);
  EXPECT_EQ(vv({{"a", 1}}).compare(vv({{"b", 1}})), Order::kConcurrent);
}

TEST(VersionVectorTest, CompareIsAntisymmetric) {
  VersionVector x = vv({{"a", 3}}), y = vv({{"a", 3}, {"b", 1}});
  EXPECT_EQ(x.compare(y), Order::kOlder);
  EXPECT_EQ(y.compare(x), Order::kNewer);
  EXPECT_TRUE(x.dominated_by(y));
  EXPECT_FALSE(y.dominated_by(x));
}

TEST(VersionVectorTest, MergeIsPointwiseMaximum) {
  VersionVector x = vv({{"a", 3}, {"b", 1}});
  x.merge(vv({{"a", 1}, {"b", 5}, {"c", 2}}));
  EXPECT_EQ(x, vv({{"a", 3}, {"b", 5}, {"c", 2}}));
  EXPECT_EQ(x.get("a"), 3u);
  EXPECT_EQ(x.get("b"), 5u);
  EXPECT_EQ(x.get("c"), 2u);
  EXPECT_EQ(x.get("unknown"), 0u);

  // Merging is idempotent and commutative.
  VersionVector y = x;
  y.merge(x);
  EXPECT_EQ(y, x);
  VersionVector p = vv({{"a", 1}, {"b", 7}}), q = vv({{"a", 4}, {"c", 1}});
  VersionVector pq = p, qp = q;
  pq.merge(q);
  qp.merge(p);
  EXPECT_EQ(pq, qp);
}

TEST(VersionVectorTest, CoversDotsUpToItsCounter) {
  VersionVector x = vv({{"a", 3}});
  EXPECT_TRUE(x.covers({"a", 1}));
  EXPECT_TRUE(x.covers({"a", 3}));
  EXPECT_FALSE(x.covers({"a", 4}));
  EXPECT_FALSE(x.covers({"b", 1}));
}

TEST(VersionVectorTest, AddIgnoresCounterZeroAndNeverLowers) {
  VersionVector x;
  x.add({"a", 0});
  EXPECT_TRUE(x.empty());
  EXPECT_EQ(x, VersionVector{});
  EXPECT_EQ(x.compare(VersionVector{}), Order::kSame);

  x.add({"a", 5});
  x.add({"a", 2});
  EXPECT_EQ(x.get("a"), 5u);
  x.add({"a", 0});
  EXPECT_EQ(x.get("a"), 5u);
  EXPECT_EQ(x.entries().size(), 1u);
}

TEST(VersionVectorTest, StrListsEntries) {
  EXPECT_EQ(VersionVector{}.str(), "{}");
  EXPECT_EQ(vv({{"a", 3}, {"b", 1}}).str(), "{a:3, b:1}");
}

TEST(DotTest, StrIsTheChangeId) { EXPECT_EQ((Dot{"replica", 12}).str(), "replica:12"); }

// --- DvvSet ---------------------------------------------------------------------------

TEST(DvvSetTest, FirstWriteIsTheOnlyValue) {
  DvvSet<std::string> set;
  EXPECT_EQ(set.apply({"a", 1}, {}, "x"), DvvOutcome::kReplaced);
  ASSERT_EQ(set.siblings().size(), 1u);
  EXPECT_EQ(set.siblings()[0].value, "x");
  EXPECT_EQ(set.siblings()[0].dot, (Dot{"a", 1}));
  EXPECT_FALSE(set.in_conflict());
  EXPECT_EQ(set.vv(), vv({{"a", 1}}));
}

TEST(DvvSetTest, DuplicateDotIsIgnored) {
  DvvSet<std::string> set;
  set.apply({"a", 1}, {}, "x");
  DvvSet<std::string> before = set;
  EXPECT_EQ(set.apply({"a", 1}, {}, "x"), DvvOutcome::kDuplicate);
  EXPECT_EQ(set, before);
  // Even with another value: a dot names one change forever.
  EXPECT_EQ(set.apply({"a", 1}, {}, "y"), DvvOutcome::kDuplicate);
  EXPECT_EQ(set, before);

  // An older dot of a replica already seen is a duplicate too.
  set.apply({"a", 2}, vv({{"a", 1}}), "z");
  DvvSet<std::string> after = set;
  EXPECT_EQ(set.apply({"a", 1}, {}, "x"), DvvOutcome::kDuplicate);
  EXPECT_EQ(set, after);
}

TEST(DvvSetTest, WriteWhoseContextCoversTheSiblingReplacesIt) {
  DvvSet<std::string> set;
  set.apply({"a", 1}, {}, "x");
  EXPECT_EQ(set.apply({"b", 1}, vv({{"a", 1}}), "y"), DvvOutcome::kReplaced);
  ASSERT_EQ(set.siblings().size(), 1u);
  EXPECT_EQ(set.siblings()[0].value, "y");
  EXPECT_EQ(set.vv(), vv({{"a", 1}, {"b", 1}}));
}

TEST(DvvSetTest, WriterThatHadNotSeenAConcurrentValueMakesTwoSiblings) {
  DvvSet<std::string> set;
  set.apply({"a", 1}, {}, "base");
  // a and b both saw "base", then wrote without seeing each other.
  EXPECT_EQ(set.apply({"a", 2}, vv({{"a", 1}}), "from a"), DvvOutcome::kReplaced);
  EXPECT_EQ(set.apply({"b", 1}, vv({{"a", 1}}), "from b"), DvvOutcome::kConcurrent);
  ASSERT_EQ(set.siblings().size(), 2u);
  EXPECT_TRUE(set.in_conflict());
  std::set<std::string> values;
  for (const auto& s : set.siblings()) values.insert(s.value);
  EXPECT_EQ(values, (std::set<std::string>{"from a", "from b"}));
}

TEST(DvvSetTest, ThirdWriteThatSawBothCollapsesThemToOne) {
  DvvSet<std::string> set;
  set.apply({"a", 1}, {}, "from a");
  set.apply({"b", 1}, {}, "from b");
  ASSERT_EQ(set.siblings().size(), 2u);
  EXPECT_EQ(set.apply({"c", 1}, set.vv(), "resolved"), DvvOutcome::kReplaced);
  ASSERT_EQ(set.siblings().size(), 1u);
  EXPECT_EQ(set.siblings()[0].value, "resolved");
  EXPECT_FALSE(set.in_conflict());
}

TEST(DvvSetTest, WriteThatSawOnlyOneSiblingKeepsTheOther) {
  DvvSet<std::string> set;
  set.apply({"a", 1}, {}, "from a");
  set.apply({"b", 1}, {}, "from b");
  EXPECT_EQ(set.apply({"a", 2}, vv({{"a", 1}}), "a again"), DvvOutcome::kConcurrent);
  std::set<std::string> values;
  for (const auto& s : set.siblings()) values.insert(s.value);
  EXPECT_EQ(values, (std::set<std::string>{"a again", "from b"}));
}

// Random interleavings of three writers. Each writer writes with the context it last
// read (plus its own writes, as a replica applies its own changes locally), sometimes
// re-reads the record, and the network sometimes redelivers an old write. The reference
// model keeps every write with the set of dots it had seen; the siblings must be exactly
// the writes that no other write had seen — never more.
TEST(DvvSetTest, SiblingsAreExactlyTheUnseenWritesUnderRandomInterleavings) {
  const std::vector<std::string> writers = {"a", "b", "c"};
  struct Write {
    Dot dot;
    VersionVector context;
    int value;
  };
  std::size_t max_siblings = 0;
  for (std::uint32_t seed = 1; seed <= 300; ++seed) {
    std::mt19937 rng(seed);
    DvvSet<int> set;
    std::map<std::string, VersionVector> view;  // what each writer has seen
    std::map<std::string, std::uint64_t> counter;
    std::vector<Write> history;
    int next_value = 0;
    for (int step = 0; step < 60; ++step) {
      const std::string& w = writers[rng() % writers.size()];
      unsigned action = rng() % 10;
      if (action < 3) {  // re-read the record: now w has seen everything
        view[w] = set.vv();
        continue;
      }
      if (action == 3 && !history.empty()) {  // redelivery of an old write
        const Write& old = history[rng() % history.size()];
        auto before = set;
        ASSERT_EQ(set.apply(old.dot, old.context, old.value), DvvOutcome::kDuplicate);
        ASSERT_EQ(set, before);
        continue;
      }
      bool saw_everything = view[w] == set.vv();
      Write write{{w, ++counter[w]}, view[w], next_value++};
      DvvOutcome outcome = set.apply(write.dot, write.context, write.value);
      max_siblings = std::max(max_siblings, set.siblings().size());
      history.push_back(write);
      view[w].add(write.dot);

      SCOPED_TRACE("seed " + std::to_string(seed) + " step " + std::to_string(step));
      if (saw_everything) {
        ASSERT_EQ(outcome, DvvOutcome::kReplaced);
        ASSERT_EQ(set.siblings().size(), 1u);
      }
      // Reference: the writes whose dot no later write's context covers.
      std::set<Dot> expected;
      for (const auto& x : history) {
        bool seen = false;
        for (const auto& y : history) seen = seen || (y.dot != x.dot && y.context.covers(x.dot));
        if (!seen) expected.insert(x.dot);
      }
      std::set<Dot> actual;
      for (const auto& s : set.siblings()) actual.insert(s.dot);
      ASSERT_EQ(actual, expected);
      ASSERT_LE(set.siblings().size(), writers.size());
      ASSERT_EQ(outcome == DvvOutcome::kConcurrent, set.siblings().size() > 1);
      // Each sibling carries the value written with its dot.
      for (const auto& s : set.siblings()) {
        auto it = std::find_if(history.begin(), history.end(),
                               [&](const Write& x) { return x.dot == s.dot; });
        ASSERT_NE(it, history.end());
        ASSERT_EQ(s.value, it->value);
      }
    }
  }
  // The interleavings did produce conflicts of all three writers.
  EXPECT_EQ(max_siblings, writers.size());
}

}  // namespace
}  // namespace alur::sync
