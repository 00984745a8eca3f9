// Line-based diff and diff3 merge for text drafts (DESIGN: concurrent text revisions merge
// automatically where their edits do not overlap).
//
// Pure functions over strings: no I/O, no shared state, safe to call from any thread.
// A "line" is a run of bytes up to and including '\n'; the last line may lack one, so
// "a" and "a\n" are different lines (as in diff and git). Bytes are compared exactly —
// no encoding, whitespace or line-ending normalisation.
//
// Cost: diff_lines is Myers' O((N+M)·D) algorithm in its linear-space form, after
// dropping lines that occur on one side only; 20k-line drafts with many edits are fine.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace alur::sync {

// Splits text into lines, each keeping its "\n" terminator; the last line may lack one.
// "" gives no lines; "a\n" gives one.
std::vector<std::string> split_lines(std::string_view text);

struct DiffOp {
  enum Kind { kEqual, kDelete, kInsert } kind;
  std::string line;
};

// A minimal edit script turning a into b (longest common subsequence kept as kEqual).
// Within a run of changes, deletions come before insertions.
std::vector<DiffOp> diff_lines(const std::vector<std::string>& a,
                               const std::vector<std::string>& b);

struct MergeResult {
  bool clean;             // true when no conflict blocks were written
  std::string text;       // merged text, with conflict blocks when !clean
  std::size_t conflicts;  // number of conflict blocks
};

// Three-way merge: takes changes of ours and theirs relative to base. Non-overlapping edits
// merge cleanly; identical edits on both sides are taken once; overlapping different edits
// produce conflict blocks:
// "<<<<<<< " + ours_label + "\n" ... "=======\n" ... ">>>>>>> " + theirs_label + "\n", clean=false.
// Edits count as overlapping when they touch the same base lines or are adjacent with no
// unchanged base line between them (diff3's rule; git behaves the same). Inside a conflict
// block a side whose last line lacks "\n" gets one, so the markers stay on their own lines.
MergeResult merge3(std::string_view base, std::string_view ours, std::string_view theirs,
                   std::string_view ours_label = "A", std::string_view theirs_label = "B");

// A side-by-side friendly diff for UIs: unified-diff text with 3 lines of context, in GNU
// diff's format ("--- a_label", "+++ b_label", "@@ -l,n +l,n @@" hunks, "\ No newline at
// end of file" markers). Identical inputs give "".
std::string unified_diff(std::string_view a, std::string_view b, std::string_view a_label,
                         std::string_view b_label);

}  // namespace alur::sync
