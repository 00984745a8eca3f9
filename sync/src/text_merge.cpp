// Line diff (Myers, linear space) and diff3 merge of text drafts; see text_merge.h.
#include "alur/sync/text_merge.h"

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <utility>

namespace alur::sync {
namespace {

constexpr std::size_t kUnifiedContext = 3;  // lines of context around each hunk, as diff -u

// Myers' O((N+M)·D) difference algorithm in its linear-space, divide-and-conquer form
// (E. Myers, "An O(ND) Difference Algorithm and Its Variations", 1986, section 4b; the
// bisection follows diff-match-patch's diff_bisect). The quadratic-memory variant that
// keeps every V vector would need gigabytes for two unrelated 20k-line drafts.
// Inputs are line ids; the result marks which elements are not in the common subsequence.
class Myers {
 public:
  Myers(const std::vector<int>& a, const std::vector<int>& b)
      : a_(a), b_(b), deleted_(a.size(), false), inserted_(b.size(), false) {
    compare(0, static_cast<int>(a.size()), 0, static_cast<int>(b.size()));
  }
  const std::vector<bool>& deleted() const { return deleted_; }
  const std::vector<bool>& inserted() const { return inserted_; }

 private:
  void compare(int x0, int x1, int y0, int y1) {
    while (x0 < x1 && y0 < y1 && a_[x0] == b_[y0]) ++x0, ++y0;
    while (x0 < x1 && y0 < y1 && a_[x1 - 1] == b_[y1 - 1]) --x1, --y1;
    if (x0 == x1 || y0 == y1) {
      for (int x = x0; x < x1; ++x) deleted_[x] = true;
      for (int y = y0; y < y1; ++y) inserted_[y] = true;
      return;
    }
    // Both ends now differ, so D >= 2 and the split point lies strictly inside the box:
    // each half is a smaller problem and the recursion (depth ~log2 D) terminates.
    auto [x, y] = bisect(x0, x1, y0, y1);
    if (x < 0) {  // nothing in common
      for (int i = x0; i < x1; ++i) deleted_[i] = true;
      for (int j = y0; j < y1; ++j) inserted_[j] = true;
      return;
    }
    compare(x0, x, y0, y);
    compare(x, x1, y, y1);
  }

  // Finds a point (x, y) on an optimal edit path through the box [x0,x1)×[y0,y1) by
  // running the search from both corners until the paths overlap; {-1,-1} if the two
  // ranges have no element in common.
  std::pair<int, int> bisect(int x0, int x1, int y0, int y1) const {
    const int n = x1 - x0;
    const int m = y1 - y0;
    const int max_d = (n + m + 1) / 2;
    const int v_offset = max_d + 1;
    const int v_length = 2 * max_d + 3;
    std::vector<int> v1(v_length, -1);
    std::vector<int> v2(v_length, -1);
    v1[v_offset + 1] = 0;
    v2[v_offset + 1] = 0;
    const int delta = n - m;
    // With an odd delta the paths meet during a forward step, otherwise a reverse step.
    const bool front = (delta % 2) != 0;
    // Diagonals that ran off the box are skipped in later rounds.
    int k1start = 0, k1end = 0, k2start = 0, k2end = 0;
    for (int d = 0; d < max_d; ++d) {
      for (int k1 = -d + k1start; k1 <= d - k1end; k1 += 2) {
        const int k1_offset = v_offset + k1;
        int x = (k1 == -d || (k1 != d && v1[k1_offset - 1] < v1[k1_offset + 1]))
                    ? v1[k1_offset + 1]
                    : v1[k1_offset - 1] + 1;
        int y = x - k1;
        while (x < n && y < m && a_[x0 + x] == b_[y0 + y]) ++x, ++y;
        v1[k1_offset] = x;
        if (x > n) {
          k1end += 2;
        } else if (y > m) {
          k1start += 2;
        } else if (front) {
          const int k2_offset = v_offset + delta - k1;
          if (k2_offset >= 0 && k2_offset < v_length && v2[k2_offset] != -1 &&
              x >= n - v2[k2_offset]) {
            return {x0 + x, y0 + y};
          }
        }
      }
      for (int k2 = -d + k2start; k2 <= d - k2end; k2 += 2) {
        const int k2_offset = v_offset + k2;
        int x = (k2 == -d || (k2 != d && v2[k2_offset - 1] < v2[k2_offset + 1]))
                    ? v2[k2_offset + 1]
                    : v2[k2_offset - 1] + 1;
        int y = x - k2;
        while (x < n && y < m && a_[x0 + n - x - 1] == b_[y0 + m - y - 1]) ++x, ++y;
        v2[k2_offset] = x;
        if (x > n) {
          k2end += 2;
        } else if (y > m) {
          k2start += 2;
        } else if (!front) {
          const int k1_offset = v_offset + delta - k2;
          if (k1_offset >= 0 && k1_offset < v_length && v1[k1_offset] != -1) {
            const int fx = v1[k1_offset];
            const int fy = fx - (k1_offset - v_offset);
            if (fx >= n - x) return {x0 + fx, y0 + fy};
          }
        }
      }
    }
    return {-1, -1};
  }

  const std::vector<int>& a_;
  const std::vector<int>& b_;
  std::vector<bool> deleted_;
  std::vector<bool> inserted_;
};

// For each line of a, the index of the line of b it is paired with in a longest common
// subsequence, or -1. Pairs are strictly increasing in both indices.
std::vector<int> match_lines(const std::vector<std::string_view>& a,
                             const std::vector<std::string_view>& b) {
  std::vector<int> a_to_b(a.size(), -1);
  // Intern lines as ids so the inner loops compare ints, not strings.
  struct Count {
    int id;
    int in_a = 0;
    int in_b = 0;
  };
  std::unordered_map<std::string_view, Count> counts;
  counts.reserve(a.size() + b.size());
  std::vector<Count*> a_counts, b_counts;
  a_counts.reserve(a.size());
  b_counts.reserve(b.size());
  for (std::string_view line : a) {
    auto [it, added] = counts.try_emplace(line, Count{static_cast<int>(counts.size())});
    ++it->second.in_a;
    a_counts.push_back(&it->second);
  }
  for (std::string_view line : b) {
    auto [it, added] = counts.try_emplace(line, Count{static_cast<int>(counts.size())});
    ++it->second.in_b;
    b_counts.push_back(&it->second);
  }
  // A line present on one side only can never be in a common subsequence, so dropping it
  // leaves the LCS unchanged while shrinking D; a rewritten section then costs little.
  std::vector<int> fa, fb, fa_index, fb_index;
  for (std::size_t i = 0; i < a.size(); ++i) {
    if (a_counts[i]->in_b > 0)
      fa.push_back(a_counts[i]->id), fa_index.push_back(static_cast<int>(i));
  }
  for (std::size_t j = 0; j < b.size(); ++j) {
    if (b_counts[j]->in_a > 0)
      fb.push_back(b_counts[j]->id), fb_index.push_back(static_cast<int>(j));
  }
  Myers myers(fa, fb);
  // Unchanged elements of both sides correspond one to one, in order.
  std::size_t j = 0;
  for (std::size_t i = 0; i < fa.size(); ++i) {
    if (myers.deleted()[i]) continue;
    while (myers.inserted()[j]) ++j;
    a_to_b[fa_index[i]] = fb_index[j];
    ++j;
  }
  return a_to_b;
}

std::vector<std::string_view> split_views(std::string_view text) {
  std::vector<std::string_view> lines;
  std::size_t start = 0;
  while (start < text.size()) {
    std::size_t end = text.find('\n', start);
    end = end == std::string_view::npos ? text.size() : end + 1;
    lines.push_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

std::vector<std::string_view> as_views(const std::vector<std::string>& lines) {
  return std::vector<std::string_view>(lines.begin(), lines.end());
}

struct Op {
  DiffOp::Kind kind;
  std::size_t a;  // index in a of this line (kEqual, kDelete) or of the next a line (kInsert)
  std::size_t b;  // likewise in b
};

// The edit script from a matching; deletions before insertions within a change.
std::vector<Op> edit_script(std::size_t a_size, std::size_t b_size,
                            const std::vector<int>& a_to_b) {
  std::vector<Op> ops;
  std::size_t i = 0, j = 0;
  while (i < a_size || j < b_size) {
    if (i < a_size && a_to_b[i] < 0) {
      ops.push_back({DiffOp::kDelete, i++, j});
    } else if (j < b_size && (i == a_size || static_cast<std::size_t>(a_to_b[i]) > j)) {
      ops.push_back({DiffOp::kInsert, i, j++});
    } else {
      ops.push_back({DiffOp::kEqual, i++, j++});
    }
  }
  return ops;
}

using Lines = std::vector<std::string_view>;

bool same_lines(const Lines& x, std::size_t x0, std::size_t x1, const Lines& y, std::size_t y0,
                std::size_t y1) {
  return x1 - x0 == y1 - y0 && std::equal(x.begin() + x0, x.begin() + x1, y.begin() + y0);
}

void append_lines(std::string& out, const Lines& lines, std::size_t from, std::size_t to) {
  for (std::size_t i = from; i < to; ++i) out += lines[i];
}

// Inside a conflict block every side must end with "\n", or the next marker would be glued
// onto the side's last line.
void append_block_side(std::string& out, const Lines& lines, std::size_t from, std::size_t to) {
  append_lines(out, lines, from, to);
  if (from < to && lines[to - 1].back() != '\n') out += '\n';
}

// GNU diff's range format: "l" for one line, "l,n" otherwise, and for an empty range the
// number of the line before it.
std::string unified_range(std::size_t start, std::size_t count) {
  if (count == 1) return std::to_string(start + 1);
  if (count == 0) return std::to_string(start) + ",0";
  return std::to_string(start + 1) + "," + std::to_string(count);
}

void append_unified_line(std::string& out, char prefix, std::string_view line) {
  out += prefix;
  out += line;
  if (line.empty() || line.back() != '\n') out += "\n\\ No newline at end of file\n";
}

}  // namespace

std::vector<std::string> split_lines(std::string_view text) {
  std::vector<std::string> lines;
  for (std::string_view line : split_views(text)) lines.emplace_back(line);
  return lines;
}

std::vector<DiffOp> diff_lines(const std::vector<std::string>& a,
                               const std::vector<std::string>& b) {
  const Lines av = as_views(a);
  const Lines bv = as_views(b);
  std::vector<DiffOp> result;
  for (const Op& op : edit_script(a.size(), b.size(), match_lines(av, bv))) {
    result.push_back({op.kind, op.kind == DiffOp::kInsert ? b[op.b] : a[op.a]});
  }
  return result;
}

// diff3 as formalised by Khanna, Kunal and Pierce ("A Formal Investigation of Diff3",
// 2007): base lines paired with a line on both sides, in step, are stable; between stable
// runs lies one unstable chunk per gap, resolved by which side(s) changed it.
MergeResult merge3(std::string_view base, std::string_view ours, std::string_view theirs,
                   std::string_view ours_label, std::string_view theirs_label) {
  if (ours == theirs || base == theirs) return {true, std::string(ours), 0};
  if (base == ours) return {true, std::string(theirs), 0};

  const Lines b = split_views(base);
  const Lines o = split_views(ours);
  const Lines t = split_views(theirs);
  const std::vector<int> base_to_ours = match_lines(b, o);
  const std::vector<int> base_to_theirs = match_lines(b, t);

  MergeResult result{true, {}, 0};
  std::string& out = result.text;
  out.reserve(std::max({base.size(), ours.size(), theirs.size()}));
  std::size_t ib = 0, io = 0, it = 0;
  for (;;) {
    // Stable run: the base line is where both sides have their next line.
    while (ib < b.size() && base_to_ours[ib] == static_cast<int>(io) &&
           base_to_theirs[ib] == static_cast<int>(it)) {
      out += b[ib];
      ++ib, ++io, ++it;
    }
    if (ib == b.size() && io == o.size() && it == t.size()) break;

    // The unstable chunk runs up to the next base line kept by both sides (or the end).
    std::size_t jb = ib;
    while (jb < b.size() && (base_to_ours[jb] < 0 || base_to_theirs[jb] < 0)) ++jb;
    const std::size_t jo = jb < b.size() ? static_cast<std::size_t>(base_to_ours[jb]) : o.size();
    const std::size_t jt = jb < b.size() ? static_cast<std::size_t>(base_to_theirs[jb]) : t.size();

    if (same_lines(o, io, jo, b, ib, jb)) {
      append_lines(out, t, it, jt);  // only theirs changed
    } else if (same_lines(t, it, jt, b, ib, jb)) {
      append_lines(out, o, io, jo);  // only ours changed
    } else if (same_lines(o, io, jo, t, it, jt)) {
      append_lines(out, o, io, jo);  // the same change on both sides, taken once
    } else {
      // A real conflict. Lines both sides agree on at its edges are kept outside the
      // markers (git's "zealous" merge), so the block shows only what differs.
      std::size_t po = io, pt = it;
      while (po < jo && pt < jt && o[po] == t[pt]) ++po, ++pt;
      std::size_t so = jo, st = jt;
      while (so > po && st > pt && o[so - 1] == t[st - 1]) --so, --st;
      append_lines(out, o, io, po);
      out += "<<<<<<< ";
      out += ours_label;
      out += '\n';
      append_block_side(out, o, po, so);
      out += "=======\n";
      append_block_side(out, t, pt, st);
      out += ">>>>>>> ";
      out += theirs_label;
      out += '\n';
      append_lines(out, o, so, jo);
      result.clean = false;
      ++result.conflicts;
    }
    ib = jb, io = jo, it = jt;
  }
  return result;
}

std::string unified_diff(std::string_view a, std::string_view b, std::string_view a_label,
                         std::string_view b_label) {
  if (a == b) return {};
  const Lines al = split_views(a);
  const Lines bl = split_views(b);
  const std::vector<Op> ops = edit_script(al.size(), bl.size(), match_lines(al, bl));

  std::string out;
  out += "--- ";
  out += a_label;
  out += "\n+++ ";
  out += b_label;
  out += '\n';

  std::size_t k = 0;
  while (k < ops.size()) {
    while (k < ops.size() && ops[k].kind == DiffOp::kEqual) ++k;
    if (k == ops.size()) break;
    // A hunk starts kUnifiedContext lines before its first change and absorbs later
    // changes while the unchanged gap between them is at most two contexts long.
    const std::size_t first = k >= kUnifiedContext ? k - kUnifiedContext : 0;
    std::size_t last_change = k;
    for (std::size_t scan = k; scan < ops.size(); ++scan) {
      if (ops[scan].kind != DiffOp::kEqual) {
        last_change = scan;
      } else if (scan - last_change > 2 * kUnifiedContext) {
        break;
      }
    }
    const std::size_t end = std::min(ops.size(), last_change + 1 + kUnifiedContext);

    std::size_t a_count = 0, b_count = 0;
    for (std::size_t i = first; i < end; ++i) {
      if (ops[i].kind != DiffOp::kInsert) ++a_count;
      if (ops[i].kind != DiffOp::kDelete) ++b_count;
    }
    out += "@@ -" + unified_range(ops[first].a, a_count) + " +" +
           unified_range(ops[first].b, b_count) + " @@\n";
    for (std::size_t i = first; i < end; ++i) {
      switch (ops[i].kind) {
        case DiffOp::kEqual:
          append_unified_line(out, ' ', al[ops[i].a]);
          break;
        case DiffOp::kDelete:
          append_unified_line(out, '-', al[ops[i].a]);
          break;
        case DiffOp::kInsert:
          append_unified_line(out, '+', bl[ops[i].b]);
          break;
      }
    }
    k = end;
  }
  return out;
}

}  // namespace alur::sync
