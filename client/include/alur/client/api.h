// Api: what an official can do with their replica, as JSON in and out — the one place the
// CLI and (later) the local web app share. Every method works on the local replica,
// offline, except enroll() and sync(). Failures throw alur::Error(code, message).
//
// JSON shapes are the command-line contract (README, "Command line").
// Not thread-safe: one Api per thread.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>

#include "alur/client/replica.h"
#include "alur/client/transport.h"

namespace alur::client {

// A file given by a person: its bytes and the name it had.
struct Attachment {
  std::string content;
  std::string filename;
};

class Api {
 public:
  // connector: how enroll() and sync() reach the server (tests pass an in-memory one).
  explicit Api(std::string home, const Clock& clock = Clock::system(),
               Connector connector = wss_connector());

  // Works on an already opened replica (the simulator's in-memory ones).
  Api(std::unique_ptr<Replica> replica, const Clock& clock, Connector connector);
  const std::string& home() const { return home_; }
  void set_connector(Connector connector) { connector_ = std::move(connector); }
  // The replica, opened on first use with its cheap integrity check (Replica::quick_check):
  // throws Error("replica_damaged") or ("db_corrupt") when it is damaged — `alur repair`
  // rebuilds it — and Error("replica_deleted") when an enrolled replica's file is gone.
  Replica& replica();
  // Closes the replica (it reopens on next use).
  void close() { replica_.reset(); }

  // With a passphrase, also makes this person's signing key on this device (or, with
  // `imported_key`, takes the one `key_export` wrote on another PC), sealed under it, and
  // publishes it (key.add). Without one, the device can do everything but paraf and sign.
  nlohmann::json enroll(const std::string& server, const std::string& username,
                        const std::string& password, const std::string& fingerprint,
                        const std::optional<std::string>& passphrase = std::nullopt,
                        const std::optional<std::string>& imported_key = std::nullopt);
  nlohmann::json sync();
  // Runs until stop is set; `event` gets one line per thing that happened.
  void watch(const std::atomic<bool>& stop, const std::function<void(const std::string&)>& event);
  nlohmann::json status();
  // `alur repair`: checks the replica fully; if it is damaged (or `force`), salvages it and
  // rebuilds it from the server (repair.h). Returns what was found, saved and lost.
  nlohmann::json repair(bool force);
  // `alur verify`: the full check and a replay of the committed log against the stored
  // cases. {"ok", "problems": [...], "entries"}; never changes anything.
  nlohmann::json verify();

  nlohmann::json case_open(const std::string& sop, const std::string& period);
  nlohmann::json case_list();
  nlohmann::json case_show(const std::string& case_ref);
  nlohmann::json inbox();

  // `outcome`: the decision's outcome code at a decision step ("" otherwise). A paraf or
  // tanda tangan needs the passphrase of the signing key (Error "passphrase_required",
  // "wrong_passphrase": nothing is written); other steps ignore it.
  nlohmann::json act(const std::string& task, const std::string& text,
                     const std::optional<Attachment>& file, const std::string& outcome = "",
                     const std::optional<std::string>& passphrase = std::nullopt);

  // --- personal signing key (api_sign.cpp) ---
  // A new key for this person on this device, sealed under `passphrase` and published;
  // the keys published before stay valid for the signatures made with them.
  nlohmann::json key_new(const std::string& passphrase);
  // Re-seals the signing key under a new passphrase (the key itself stays).
  nlohmann::json passphrase_change(const std::string& old_passphrase,
                                   const std::string& new_passphrase);
  // The file `alur key export` writes: the key still sealed under its passphrase.
  std::string key_export();
  // {"public_key","key_id","recorded"} or {"public_key": null} without a key.
  nlohmann::json key_show();
  // `alur export` (export.cpp, export.h): writes the case's committed evidence to out_dir.
  nlohmann::json export_case(const std::string& case_ref, const std::string& out_dir);

  // scrypt cost for sealing keys; tests use a cheap one (the default is documented in
  // README, "Personal signatures").
  void set_kdf_for_testing(const crypto::KdfParams& params) { kdf_ = params; }
  nlohmann::json return_task(const std::string& task, int to_step, const std::string& reason);

  nlohmann::json draft_put(const std::string& case_ref, const std::string& name,
                           const Attachment& file);
  nlohmann::json draft_show(const std::string& case_ref, const std::string& name);
  // The content of a revision (the head when rev is empty): {"rev","sha256","filename"} + bytes.
  std::pair<nlohmann::json, std::string> draft_get(const std::string& case_ref,
                                                   const std::string& name, const std::string& rev);
  nlohmann::json draft_merge(const std::string& case_ref, const std::string& name);

  nlohmann::json disposition_set(const std::string& task, const std::string& text);
  nlohmann::json correction_add(const std::string& case_ref, const std::string& name,
                                const std::string& text);
  nlohmann::json correction_status(const std::string& case_ref, const std::string& id,
                                   const std::string& status);

  // Performance of the SOPs run here (api_report.cpp): per case and task, the working days
  // from ready to done against the step's standard (mutu baku), who was late and by how
  // much, and the slowest steps across cases. `period`: "" (all), "2026" or "2026-Q3";
  // `case_ref`: "" (all) or one case.
  nlohmann::json report(const std::string& period, const std::string& case_ref);
  // The SOP document of a template: identity section, role columns (with labels), steps
  // with their mutu baku — what `alur sop show` renders (render.h).
  nlohmann::json sop_show(const std::string& sop);

 private:
  std::string resolve_case(View& v, const std::string& ref);
  // The id and current view (committed + tentative) of the case a reference names.
  std::pair<std::string, sync::CaseState> open_case(const std::string& ref);
  nlohmann::json write(const std::string& record, const std::string& op, const nlohmann::json& body,
                       const sync::VersionVector& context = {},
                       const std::optional<std::string>& attachment = std::nullopt,
                       const Replica::BodyFinisher& finish = {});
  // The signing key, opened with the passphrase (Error "wrong_passphrase", "no_signing_key").
  crypto::Ed25519Key open_signing_key(const std::string& passphrase);
  void store_signing_key(const crypto::Ed25519Key& key, const std::string& passphrase);
  // Writes key.add for the stored key unless the org already records it (or one is queued);
  // needs the org (a first sync). Returns whether it wrote one.
  bool publish_signing_key(const crypto::Ed25519Key& key);
  // Signs a paraf/signature change as it is appended (Replica::BodyFinisher): opens the key
  // first, so a wrong passphrase writes nothing.
  Replica::BodyFinisher signer(const std::optional<std::string>& passphrase);

  Replica& open_replica(bool allow_deleted);
  // True if the replica is open or its file exists (opening it then creates nothing).
  bool has_replica() const;
  std::string home_;
  const Clock& clock_;
  Connector connector_;
  std::unique_ptr<Replica> replica_;
  crypto::KdfParams kdf_ = kSigningKeyKdf;

 public:
  // scrypt N=2^17, r=8, p=1: 128 MiB and about half a second per paraf on an office PC.
  static constexpr crypto::KdfParams kSigningKeyKdf{.n = 1u << 17, .r = 8, .p = 1};
};

}  // namespace alur::client
