// Tests of the line diff and the diff3 merge of text drafts.
#include "alur/sync/text_merge.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <string>
#include <vector>

namespace alur::sync {
namespace {

std::string join(const std::vector<std::string>& lines) {
  std::string out;
  for (const auto& line : lines) out += line;
  return out;
}

std::string numbered(int count, const std::string& prefix = "baris ") {
  std::string out;
  for (int i = 1; i <= count; ++i) out += prefix + std::to_string(i) + "\n";
  return out;
}

std::size_t count_of(const std::string& haystack, const std::string& needle) {
  std::size_t n = 0;
  for (auto pos = haystack.find(needle); pos != std::string::npos;
       pos = haystack.find(needle, pos + needle.size())) {
    ++n;
  }
  return n;
}

// Applies the script to a, checking every kEqual/kDelete line against a; returns b.
std::vector<std::string> apply_script(const std::vector<std::string>& a,
                                      const std::vector<DiffOp>& ops) {
  std::vector<std::string> b;
  std::size_t i = 0;
  for (const auto& op : ops) {
    if (op.kind == DiffOp::kInsert) {
      b.push_back(op.line);
      continue;
    }
    EXPECT_LT(i, a.size());
    if (i >= a.size()) break;
    EXPECT_EQ(op.line, a[i]);
    if (op.kind == DiffOp::kEqual) b.push_back(a[i]);
    ++i;
  }
  EXPECT_EQ(i, a.size());
  return b;
}

std::size_t lcs_length(const std::vector<std::string>& a, const std::vector<std::string>& b) {
  std::vector<std::vector<std::size_t>> t(a.size() + 1, std::vector<std::size_t>(b.size() + 1));
  for (std::size_t i = a.size(); i-- > 0;) {
    for (std::size_t j = b.size(); j-- > 0;) {
      t[i][j] = a[i] == b[j] ? t[i + 1][j + 1] + 1 : std::max(t[i + 1][j], t[i][j + 1]);
    }
  }
  return t[0][0];
}

TEST(SplitLinesTest, KeepsTerminatorsAndUnterminatedLastLine) {
  EXPECT_TRUE(split_lines("").empty());
  EXPECT_EQ(split_lines("a\n"), (std::vector<std::string>{"a\n"}));
  EXPECT_EQ(split_lines("a\n\nb"), (std::vector<std::string>{"a\n", "\n", "b"}));
}

TEST(DiffLinesTest, IdenticalInputsAreAllEqual) {
  const auto lines = split_lines(numbered(50));
  const auto ops = diff_lines(lines, lines);
  ASSERT_EQ(ops.size(), lines.size());
  for (const auto& op : ops) EXPECT_EQ(op.kind, DiffOp::kEqual);
}

TEST(DiffLinesTest, ScriptTransformsAToBAndDeletesBeforeInserts) {
  const auto a = split_lines("a\nb\nc\n");
  const auto b = split_lines("a\nx\nc\n");
  const auto ops = diff_lines(a, b);
  ASSERT_EQ(ops.size(), 4u);
  EXPECT_EQ(ops[0].kind, DiffOp::kEqual);
  EXPECT_EQ(ops[1].kind, DiffOp::kDelete);
  EXPECT_EQ(ops[1].line, "b\n");
  EXPECT_EQ(ops[2].kind, DiffOp::kInsert);
  EXPECT_EQ(ops[2].line, "x\n");
  EXPECT_EQ(ops[3].kind, DiffOp::kEqual);
}

// Random inputs over a small alphabet (many repeated lines) against a textbook LCS table:
// the script must be valid and minimal.
TEST(DiffLinesTest, RandomScriptsAreValidAndMinimal) {
  std::mt19937 random(1234);
  for (int round = 0; round < 500; ++round) {
    auto make = [&] {
      std::vector<std::string> lines(random() % 30);
      for (auto& line : lines) line = std::string(1, static_cast<char>('a' + random() % 4)) + "\n";
      return lines;
    };
    const auto a = make();
    const auto b = make();
    const auto ops = diff_lines(a, b);
    EXPECT_EQ(apply_script(a, ops), b) << "round " << round;
    const auto equal = std::count_if(ops.begin(), ops.end(),
                                     [](const DiffOp& op) { return op.kind == DiffOp::kEqual; });
    EXPECT_EQ(static_cast<std::size_t>(equal), lcs_length(a, b)) << "round " << round;
  }
}

TEST(DiffLinesTest, LargeUnrelatedAndLargeEditedInputsAreFast) {
  const auto a = split_lines(numbered(20000, "lama "));
  const auto b = split_lines(numbered(20000, "baru "));
  auto start = std::chrono::steady_clock::now();
  EXPECT_EQ(diff_lines(a, b).size(), 40000u);

  // Every 10th line rewritten and every 7th duplicated: D in the thousands.
  std::vector<std::string> edited;
  for (std::size_t i = 0; i < a.size(); ++i) {
    edited.push_back(i % 10 == 0 ? "ubah " + std::to_string(i) + "\n" : a[i]);
    if (i % 7 == 0) edited.push_back(a[i]);
  }
  EXPECT_EQ(apply_script(a, diff_lines(a, edited)), edited);
  auto seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  EXPECT_LT(seconds, 20.0);  // generous: sanitizer builds on a shared machine
}

TEST(Merge3Test, NonOverlappingEditsAtStartAndEndMergeClean) {
  const std::string base = "satu\ndua\ntiga\nempat\nlima\n";
  const std::string ours = "SATU\ndua\ntiga\nempat\nlima\n";
  const std::string theirs = "satu\ndua\ntiga\nempat\nLIMA\nenam\n";
  const auto result = merge3(base, ours, theirs);
  EXPECT_TRUE(result.clean);
  EXPECT_EQ(result.conflicts, 0u);
  EXPECT_EQ(result.text, "SATU\ndua\ntiga\nempat\nLIMA\nenam\n");
}

TEST(Merge3Test, SameEditOnBothSidesIsTakenOnce) {
  const std::string base = "a\nb\nc\nd\n";
  const std::string ours = "a\nB\nc\nd\n";
  const std::string theirs = "a\nB\nc\nD\n";
  const auto result = merge3(base, ours, theirs);
  EXPECT_TRUE(result.clean);
  EXPECT_EQ(result.text, "a\nB\nc\nD\n");
  EXPECT_EQ(count_of(result.text, "B\n"), 1u);
}

TEST(Merge3Test, OverlappingDifferentEditsConflictWithMarkers) {
  const std::string base = "a\nb\nc\nd\ne\nf\ng\n";
  const std::string ours = "a\nB1\nc\nd\ne\nF1\ng\n";
  const std::string theirs = "a\nB2\nc\nd\ne\nF2\ng\n";
  const auto result = merge3(base, ours, theirs, "saya", "rekan");
  EXPECT_FALSE(result.clean);
  EXPECT_EQ(result.conflicts, 2u);
  EXPECT_EQ(result.text,
            "a\n"
            "<<<<<<< saya\nB1\n=======\nB2\n>>>>>>> rekan\n"
            "c\nd\ne\n"
            "<<<<<<< saya\nF1\n=======\nF2\n>>>>>>> rekan\n"
            "g\n");
}

TEST(Merge3Test, AdjacentEditsWithoutAStableLineBetweenConflict) {
  const auto result = merge3("a\nb\nc\nd\n", "a\nB\nc\nd\n", "a\nb\nC\nd\n");
  EXPECT_FALSE(result.clean);
  EXPECT_EQ(result.conflicts, 1u);
  EXPECT_EQ(result.text, "a\n<<<<<<< A\nB\nc\n=======\nb\nC\n>>>>>>> B\nd\n");
}

TEST(Merge3Test, InsertionsAtTheSamePlaceWithDifferentTextConflict) {
  const auto result = merge3("a\nb\n", "a\nours\nb\n", "a\ntheirs\nb\n");
  EXPECT_FALSE(result.clean);
  EXPECT_EQ(result.conflicts, 1u);
  EXPECT_EQ(result.text, "a\n<<<<<<< A\nours\n=======\ntheirs\n>>>>>>> B\nb\n");
}

TEST(Merge3Test, CommonEdgesOfAConflictStayOutsideTheMarkers) {
  const auto result = merge3("a\nb\n", "a\nsama\nours\nb\n", "a\nsama\ntheirs\nb\n");
  EXPECT_EQ(result.text, "a\nsama\n<<<<<<< A\nours\n=======\ntheirs\n>>>>>>> B\nb\n");
}

TEST(Merge3Test, DeletionAgainstUntouchedIsDeleted) {
  const std::string base = "a\nb\nc\nd\ne\n";
  const auto result = merge3(base, "a\nc\nd\ne\n", "a\nb\nc\nd\nE\n");
  EXPECT_TRUE(result.clean);
  EXPECT_EQ(result.text, "a\nc\nd\nE\n");
}

TEST(Merge3Test, DeletionAgainstEditConflicts) {
  const auto result = merge3("a\nb\nc\n", "a\nc\n", "a\nB\nc\n");
  EXPECT_FALSE(result.clean);
  EXPECT_EQ(result.text, "a\n<<<<<<< A\n=======\nB\n>>>>>>> B\nc\n");
}

TEST(Merge3Test, FilesWithoutTrailingNewline) {
  // Edits apart from the unterminated last line merge as usual.
  auto result = merge3("a\nb\nc", "X\nb\nc", "a\nb\nZ");
  EXPECT_TRUE(result.clean);
  EXPECT_EQ(result.text, "X\nb\nZ");
  // Adding the missing newline is an edit like any other.
  result = merge3("a\nb\nc", "A\nb\nc", "a\nb\nc\n");
  EXPECT_TRUE(result.clean);
  EXPECT_EQ(result.text, "A\nb\nc\n");
  // In a conflict each side is terminated so the markers stay on their own lines.
  result = merge3("a\nb", "a\nours", "a\ntheirs");
  EXPECT_FALSE(result.clean);
  EXPECT_EQ(result.text, "a\n<<<<<<< A\nours\n=======\ntheirs\n>>>>>>> B\n");
}

TEST(Merge3Test, EmptyBase) {
  EXPECT_EQ(merge3("", "x\n", "").text, "x\n");
  EXPECT_EQ(merge3("", "", "y\n").text, "y\n");
  auto same = merge3("", "x\ny\n", "x\ny\n");
  EXPECT_TRUE(same.clean);
  EXPECT_EQ(same.text, "x\ny\n");
  auto different = merge3("", "x\n", "y\n");
  EXPECT_FALSE(different.clean);
  EXPECT_EQ(different.conflicts, 1u);
  EXPECT_EQ(different.text, "<<<<<<< A\nx\n=======\ny\n>>>>>>> B\n");
  EXPECT_TRUE(merge3("", "", "").clean);
  EXPECT_EQ(merge3("", "", "").text, "");
}

TEST(Merge3Test, OneSideUnchangedGivesTheOther) {
  const std::string base = numbered(30);
  const std::string x = "awal\n" + numbered(10) + "sisipan\n" + numbered(25).substr(60) + "akhir";
  EXPECT_EQ(merge3(base, base, x).text, x);
  EXPECT_EQ(merge3(base, x, base).text, x);
  EXPECT_TRUE(merge3(base, base, x).clean);
  EXPECT_EQ(merge3(base, "", base).text, "");
}

// Random edit pairs touching disjoint base ranges, with at least one untouched base line
// between them, must merge cleanly into exactly both edits applied. Lines are unique so the
// expected text is unambiguous; the fast paths are bypassed since both sides differ.
TEST(Merge3Test, RandomDisjointEditsAlwaysMergeCleanWithBothEdits) {
  std::mt19937 random(20240611);
  auto pick = [&](int lo, int hi) {  // inclusive
    return lo + static_cast<int>(random() % static_cast<unsigned>(hi - lo + 1));
  };
  struct Edit {
    int start, end;  // replaces base lines [start, end); start == end inserts
    std::vector<std::string> lines;
  };
  for (int round = 0; round < 400; ++round) {
    const int n = pick(2, 60);
    std::vector<std::string> base;
    for (int i = 0; i < n; ++i) base.push_back("b" + std::to_string(i) + "\n");
    // Two ranges [s1,e1) and [s2,e2) with e1 < s2: base line e1 separates them.
    const int s1 = pick(0, n - 1);
    const int e1 = pick(s1, std::min(n - 1, s1 + 4));
    const int s2 = pick(e1 + 1, n);
    const int e2 = pick(s2, std::min(n, s2 + 4));
    // Sometimes the last base line lacks its newline; nothing can then be inserted after it
    // as a separate line, so not when the second edit is an insertion at the very end.
    const bool unterminated = s2 < n && random() % 4 == 0;
    if (unterminated) base.back().pop_back();
    auto make_edit = [&](int s, int e, const std::string& tag) {
      Edit edit{s, e, {}};
      // A pure insertion must insert something; a replacement may delete.
      int count = pick(s == e ? 1 : 0, 3);
      for (int k = 0; k < count; ++k) edit.lines.push_back(tag + std::to_string(k) + "\n");
      return edit;
    };
    Edit first = make_edit(s1, e1, "o" + std::to_string(round) + "_");
    Edit second = make_edit(s2, e2, "t" + std::to_string(round) + "_");
    if (second.end == n && unterminated && !second.lines.empty()) {
      second.lines.back().pop_back();  // the edit keeps the file's missing final newline
    }

    auto apply_edits = [&](const std::vector<const Edit*>& edits) {
      std::vector<std::string> out;
      int i = 0;
      for (const Edit* edit : edits) {
        while (i < edit->start) out.push_back(base[i++]);
        out.insert(out.end(), edit->lines.begin(), edit->lines.end());
        i = edit->end;
      }
      while (i < n) out.push_back(base[i++]);
      return join(out);
    };
    const std::string with_first = apply_edits({&first});
    const std::string with_second = apply_edits({&second});
    const std::string with_both = apply_edits({&first, &second});
    const std::string base_text = join(base);
    if (with_first == base_text || with_second == base_text) continue;  // a no-op edit

    // Either side may carry either edit.
    const bool swap = random() % 2 == 0;
    const auto result =
        merge3(base_text, swap ? with_second : with_first, swap ? with_first : with_second);
    EXPECT_TRUE(result.clean) << "round " << round << "\n" << result.text;
    EXPECT_EQ(result.text, with_both) << "round " << round;
  }
}

TEST(Merge3Test, LargeDraftsMergeQuickly) {
  const std::string base = numbered(20000);
  auto lines = split_lines(base);
  auto ours = lines;
  auto theirs = lines;
  for (std::size_t i = 0; i < lines.size(); i += 100) ours[i] = "ours " + std::to_string(i) + "\n";
  for (std::size_t i = 50; i < lines.size(); i += 100) {
    theirs[i] = "theirs " + std::to_string(i) + "\n";
  }
  const auto result = merge3(base, join(ours), join(theirs));
  EXPECT_TRUE(result.clean);
  EXPECT_EQ(count_of(result.text, "ours "), 200u);
  EXPECT_EQ(count_of(result.text, "theirs "), 200u);
}

TEST(UnifiedDiffTest, HunksWithContextAndChangedLines) {
  const std::string a = numbered(20);
  std::string b = a;
  b.replace(b.find("baris 2\n"), 8, "baris dua\n");
  b.replace(b.find("baris 18\n"), 9, "");
  const std::string diff = unified_diff(a, b, "a/draf", "b/draf");
  EXPECT_EQ(
      diff,
      "--- a/draf\n+++ b/draf\n"
      "@@ -1,5 +1,5 @@\n baris 1\n-baris 2\n+baris dua\n baris 3\n baris 4\n baris 5\n"
      "@@ -15,6 +15,5 @@\n baris 15\n baris 16\n baris 17\n-baris 18\n baris 19\n baris 20\n");
}

// As GNU diff -u: hunks join when at most 2×3 unchanged lines separate their changes.
TEST(UnifiedDiffTest, ChangesSixLinesApartShareOneHunkSevenDoNot) {
  std::string diff = unified_diff("1\n2\n3\n4\n5\n6\n7\n8\n", "X\n2\n3\n4\n5\n6\n7\nY\n", "a", "b");
  EXPECT_EQ(count_of(diff, "@@ -"), 1u) << diff;
  EXPECT_NE(diff.find("@@ -1,8 +1,8 @@\n"), std::string::npos) << diff;

  diff = unified_diff("1\n2\n3\n4\n5\n6\n7\n8\n9\n", "X\n2\n3\n4\n5\n6\n7\n8\nY\n", "a", "b");
  EXPECT_EQ(diff,
            "--- a\n+++ b\n@@ -1,4 +1,4 @@\n-1\n+X\n 2\n 3\n 4\n"
            "@@ -6,4 +6,4 @@\n 6\n 7\n 8\n-9\n+Y\n");
}

TEST(UnifiedDiffTest, EmptySidesAndMissingNewline) {
  EXPECT_EQ(unified_diff("same\n", "same\n", "a", "b"), "");
  EXPECT_EQ(unified_diff("", "x\ny", "a", "b"),
            "--- a\n+++ b\n@@ -0,0 +1,2 @@\n+x\n+y\n\\ No newline at end of file\n");
  EXPECT_EQ(unified_diff("x\n", "", "a", "b"), "--- a\n+++ b\n@@ -1 +0,0 @@\n-x\n");
}

}  // namespace
}  // namespace alur::sync
