// Template look-up over the built-in registry and the replicated imported templates.
#include "alur/sync/templates.h"

#include <map>
#include <mutex>

namespace alur::sync {

namespace {

// A built-in template lives as long as the process: a shared_ptr that owns nothing.
std::shared_ptr<const Template> unowned(const Template* t) {
  return t ? std::shared_ptr<const Template>(std::shared_ptr<const Template>{}, t) : nullptr;
}

// Parsed imported templates by text. Texts are few (one per imported version), so the cache
// is simply cleared if it ever grows past a bound.
std::shared_ptr<const Template> parse_cached(const std::string& text) {
  static std::mutex mu;
  static std::map<std::string, std::shared_ptr<const Template>> cache;
  constexpr std::size_t kMaxCached = 256;
  std::lock_guard lock(mu);
  auto it = cache.find(text);
  if (it != cache.end()) return it->second;
  std::shared_ptr<const Template> t;
  try {
    t = std::make_shared<const Template>(parse_template(text));
  } catch (const std::exception&) {
    return nullptr;  // sop.set accepted only parseable texts; a damaged store finds nothing
  }
  if (cache.size() >= kMaxCached) cache.clear();
  cache.emplace(text, t);
  return t;
}

}  // namespace

std::shared_ptr<const Template> find_template(StateAccess& state, const TemplateRegistry& builtin,
                                              const std::string& sop, int version) {
  if (const Template* t = builtin.find(sop, version)) return unowned(t);
  auto imported = state.imported_templates();
  auto it = imported.find({sop, version});
  return it == imported.end() ? nullptr : parse_cached(it->second);
}

std::shared_ptr<const Template> latest_template(StateAccess& state, const TemplateRegistry& builtin,
                                                const std::string& sop) {
  std::shared_ptr<const Template> best = unowned(builtin.latest(sop));
  for (const auto& [key, text] : state.imported_templates())
    if (key.first == sop && (!best || key.second > best->version))
      if (auto t = parse_cached(text)) best = t;
  return best;
}

std::vector<KnownTemplate> all_templates(StateAccess& state, const TemplateRegistry& builtin) {
  std::map<std::pair<std::string, int>, KnownTemplate> out;
  for (const Template* t : builtin.all()) out[{t->sop, t->version}] = {unowned(t), false};
  for (const auto& [key, text] : state.imported_templates())
    if (!out.count(key))
      if (auto t = parse_cached(text)) out[key] = {t, true};
  std::vector<KnownTemplate> list;
  for (auto& [key, k] : out) list.push_back(std::move(k));
  return list;
}

}  // namespace alur::sync
