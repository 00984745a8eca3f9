// Binary encoding of changes and protocol messages (cereal portable binary archive).
//
// Each type has one `fields` function used for both directions; `field` overloads make
// loading safe against hostile input: every string length and element count is checked
// against the bytes left in the message before anything is allocated, bools and enums are
// range-checked, and a message must be consumed exactly.
#include <cereal/archives/portable_binary.hpp>
#include <sstream>
#include <streambuf>
#include <iterator>
#include <type_traits>

#include "alur/shared/crypto.h"
#include "alur/shared/error.h"
#include "alur/sync/messages.h"

namespace alur::sync {

namespace {

using OutAr = cereal::PortableBinaryOutputArchive;
using InAr = cereal::PortableBinaryInputArchive;

// A read-only streambuf over the message that knows how much is left.
class SpanBuf : public std::streambuf {
 public:
  SpanBuf(const char* data, std::size_t size) {
    char* p = const_cast<char*>(data);
    setg(p, p, p + size);
  }
  std::size_t remaining() const { return static_cast<std::size_t>(egptr() - gptr()); }
};

thread_local const SpanBuf* t_input = nullptr;

[[noreturn]] void malformed(const std::string& what) {
  throw Error("malformed", "Pesan protokol rusak: " + what);
}

std::size_t input_remaining() { return t_input ? t_input->remaining() : 0; }

// --- scalar fields ---------------------------------------------------------------
template <class T>
requires std::is_arithmetic_v<T> &&(!std::is_same_v<T, bool>)void field(OutAr& ar, T& v) { ar(v); }
template <class T>
requires std::is_arithmetic_v<T> &&(!std::is_same_v<T, bool>)void field(InAr& ar, T& v) { ar(v); }

void field(OutAr& ar, bool& v) { ar(static_cast<std::uint8_t>(v ? 1 : 0)); }
void field(InAr& ar, bool& v) {
  std::uint8_t b = 0;
  ar(b);
  if (b > 1) malformed("nilai boolean tidak valid");
  v = b == 1;
}

void field(OutAr& ar, Outcome& v) { ar(static_cast<std::uint8_t>(v)); }
void field(InAr& ar, Outcome& v) {
  std::uint8_t b = 0;
  ar(b);
  if (b < 1 || b > 3) malformed("hasil perubahan tidak dikenal");
  v = static_cast<Outcome>(b);
}

void field(OutAr& ar, std::string& s) {
  ar(static_cast<std::uint64_t>(s.size()));
  ar(cereal::binary_data(s.data(), s.size()));
}
void field(InAr& ar, std::string& s) {
  std::uint64_t n = 0;
  ar(n);
  if (n > input_remaining()) malformed("panjang teks melebihi pesan");
  s.resize(static_cast<std::size_t>(n));
  ar(cereal::binary_data(s.data(), s.size()));
}

// --- composite fields -------------------------------------------------------------
template <class A>
void fields(A& ar, Dot& d) {
  field(ar, d.replica);
  field(ar, d.counter);
}

void field(OutAr& ar, VersionVector& vv) {
  ar(static_cast<std::uint64_t>(vv.entries().size()));
  for (auto& [replica, counter] : vv.mutable_entries()) {
    std::string r = replica;
    field(ar, r);
    field(ar, counter);
  }
}
void field(InAr& ar, VersionVector& vv) {
  std::uint64_t n = 0;
  ar(n);
  if (n > input_remaining() / 9) malformed("jumlah entri vektor versi melebihi pesan");
  vv = VersionVector{};
  for (std::uint64_t i = 0; i < n; ++i) {
    std::string replica;
    std::uint64_t counter = 0;
    field(ar, replica);
    field(ar, counter);
    if (counter == 0) malformed("penghitung nol dalam vektor versi");
    vv.add({replica, counter});
  }
}

template <class A>
void fields(A& ar, Change& c) {
  field(ar, c.record);
  field(ar, c.op);
  fields(ar, c.dot);
  field(ar, c.context);
  field(ar, c.author);
  field(ar, c.hlc);
  field(ar, c.body);
  field(ar, c.prev);
}
template <class A>
void fields(A& ar, CommittedEntry& e) {
  field(ar, e.seq);
  field(ar, e.committed_at);
  fields(ar, e.change);
  field(ar, e.log_hash);
}
template <class A>
void fields(A& ar, ChangeResult& r) {
  field(ar, r.counter);
  field(ar, r.outcome);
  field(ar, r.seq);
  field(ar, r.code);
  field(ar, r.message);
}

template <class T>
void field_vector(OutAr& ar, std::vector<T>& v) {
  ar(static_cast<std::uint64_t>(v.size()));
  for (auto& x : v) fields(ar, x);
}
template <class T>
void field_vector(InAr& ar, std::vector<T>& v) {
  std::uint64_t n = 0;
  ar(n);
  // Every element takes at least 8 bytes on the wire.
  if (n > input_remaining() / 8) malformed("jumlah elemen melebihi pesan");
  // No reserve(n): an element is far larger in memory than its minimum wire size, so a
  // hostile count must not size the allocation; growth follows what is actually decoded.
  v.clear();
  for (std::uint64_t i = 0; i < n; ++i) {
    v.emplace_back();
    fields(ar, v.back());
  }
}

// --- messages ---------------------------------------------------------------------
template <class A>
void fields(A& ar, Hello& m) {
  field(ar, m.protocol);
  field(ar, m.replica);
  field(ar, m.token);
  field(ar, m.cursor);
  field(ar, m.client_version);
}
template <class A>
void fields(A& ar, Enroll& m) {
  field(ar, m.protocol);
  field(ar, m.username);
  field(ar, m.password);
  field(ar, m.device_key);
  field(ar, m.device_name);
}
template <class A>
void fields(A& ar, Enrolled& m) {
  field(ar, m.replica);
  field(ar, m.token);
  field(ar, m.username);
  field(ar, m.name);
  field(ar, m.unit);
}
template <class A>
void fields(A& ar, Welcome& m) {
  field(ar, m.server_head);
  field(ar, m.highest_counter);
  field(ar, m.last_hash);
  field(ar, m.username);
  field(ar, m.server_time);
}
template <class A>
void fields(A& ar, Push& m) {
  field_vector(ar, m.changes);
  field(ar, m.head_signature);
}
template <class A>
void fields(A& ar, PushResult& m) {
  field_vector(ar, m.results);
}
template <class A>
void fields(A& ar, Pull& m) {
  field(ar, m.after);
  field(ar, m.max);
}
template <class A>
void fields(A& ar, Entries& m) {
  field_vector(ar, m.entries);
  field(ar, m.server_head);
}
template <class A>
void fields(A& ar, Notify& m) {
  field(ar, m.server_head);
}
template <class A>
void fields(A& ar, BlobQuery& m) {
  field(ar, m.sha256);
  field(ar, m.size);
}
template <class A>
void fields(A& ar, BlobState& m) {
  field(ar, m.sha256);
  field(ar, m.have);
}
template <class A>
void fields(A& ar, BlobChunk& m) {
  field(ar, m.sha256);
  field(ar, m.offset);
  field(ar, m.total);
  field(ar, m.data);
}
template <class A>
void fields(A& ar, BlobGet& m) {
  field(ar, m.sha256);
  field(ar, m.offset);
}
template <class A>
void fields(A& ar, ErrorMsg& m) {
  field(ar, m.code);
  field(ar, m.message);
  field(ar, m.fatal);
}

template <class A>
void fields(A&, CertQuery&) {}
template <class A>
void fields(A& ar, CertChain& m) {
  field(ar, m.renewals_json);
}

template <std::size_t I = 0>
Message load_alternative(InAr& ar, std::size_t index) {
  if constexpr (I < std::variant_size_v<Message>) {
    if (index == I) {
      std::variant_alternative_t<I, Message> m;
      fields(ar, m);
      return m;
    }
    return load_alternative<I + 1>(ar, index);
  } else {
    malformed("jenis pesan tidak dikenal");
  }
}

constexpr char kMagic0 = 'A', kMagic1 = 'L';

void put_envelope(std::ostringstream& os) {
  os.put(kMagic0);
  os.put(kMagic1);
  os.put(static_cast<char>(kProtocolVersion & 0xff));
  os.put(static_cast<char>(kProtocolVersion >> 8));
}

// An archive writes the endianness flag first: what follows it is the value's own bytes.
template <class T>
std::string encode_fields(const T& value) {
  std::ostringstream os(std::ios::binary);
  {
    OutAr ar(os);
    fields(ar, const_cast<T&>(value));
  }
  return std::move(os).str();
}

}  // namespace

std::string encode(const Message& message) {
  std::ostringstream os(std::ios::binary);
  put_envelope(os);
  {
    OutAr ar(os);
    ar(static_cast<std::uint8_t>(message.index()));
    std::visit([&](const auto& m) { fields(ar, const_cast<std::decay_t<decltype(m)>&>(m)); },
               message);
  }
  return std::move(os).str();
}

Message decode(std::string_view bytes) {
  if (bytes.size() < 5 || bytes[0] != kMagic0 || bytes[1] != kMagic1) malformed("bukan pesan alur");
  std::uint16_t version = static_cast<std::uint8_t>(bytes[2]) |
                          static_cast<std::uint16_t>(static_cast<std::uint8_t>(bytes[3]) << 8);
  if (version != kProtocolVersion)
    throw Error("protocol_version", "Versi protokol " + std::to_string(version) +
                                        " tidak didukung (versi ini: " +
                                        std::to_string(kProtocolVersion) + "); perbarui aplikasi.");
  SpanBuf buf(bytes.data() + 4, bytes.size() - 4);
  std::istream is(&buf);
  t_input = &buf;
  struct Reset {
    ~Reset() { t_input = nullptr; }
  } reset;
  try {
    InAr ar(is);
    std::uint8_t index = 0;
    ar(index);
    Message m = load_alternative(ar, index);
    if (buf.remaining() != 0) malformed("sisa data setelah pesan");
    return m;
  } catch (const cereal::Exception& e) {
    malformed(std::string("pesan terpotong (") + e.what() + ")");
  }
}

const char* message_name(const Message& message) {
  static const char* names[] = {"Hello",      "Enroll",    "Enrolled", "Welcome", "Push",
                                "PushResult", "Pull",      "Entries",  "Notify",  "BlobQuery",
                                "BlobState",  "BlobChunk", "BlobGet",  "Error",   "CertQuery",
                                "CertChain"};
  static_assert(std::size(names) == std::variant_size_v<Message>);
  return names[message.index()];
}

namespace {
// A change's encoding written straight into a string: the bytes the archive writes for
// fields(ar, Change&) (its flag, then each field little-endian, strings as a u64 length and
// their bytes), without a stream. Changes are encoded and hashed for every change pushed,
// stored and pulled; through cereal and an ostringstream this was about half of hashing.
void put_u64(std::string& out, std::uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out.append(b, 8);
}
void put_string(std::string& out, const std::string& s) {
  put_u64(out, s.size());
  out.append(s);
}
void append_change(std::string& out, const Change& c) {
  std::size_t size = 1 + 8 * 9 + c.record.size() + c.op.size() + c.dot.replica.size() +
                     c.author.size() + c.body.size() + c.prev.size();
  for (const auto& [replica, counter] : c.context.entries()) size += 16 + replica.size();
  out.reserve(out.size() + size);
  out.push_back('\x01');  // the archive's flag: little-endian
  put_string(out, c.record);
  put_string(out, c.op);
  put_string(out, c.dot.replica);
  put_u64(out, c.dot.counter);
  put_u64(out, c.context.entries().size());
  for (const auto& [replica, counter] : c.context.entries()) {
    put_string(out, replica);
    put_u64(out, counter);
  }
  put_string(out, c.author);
  put_u64(out, c.hlc);
  put_string(out, c.body);
  put_string(out, c.prev);
}
}  // namespace

std::string encode_change(const Change& change) {
  std::string out;
  append_change(out, change);
  return out;
}

std::string change_hash_of(std::string_view encoding) {
  std::string tagged;
  tagged.reserve(kChangeHashTag.size() + encoding.size());
  tagged.append(kChangeHashTag).append(encoding);
  return crypto::sha256(tagged);
}

std::string encode_entry(const CommittedEntry& entry) {
  return encode_fields(entry).substr(1);  // without the flag: a piece of a larger archive
}

std::string encode_entry_from(std::uint64_t seq, std::int64_t committed_at,
                              std::string_view change_encoding, std::string_view log_hash) {
  if (change_encoding.empty() || change_encoding[0] != '\x01')
    malformed("perubahan tersimpan tanpa penanda arsip");
  std::string out;
  out.reserve(24 + change_encoding.size() - 1 + log_hash.size());
  put_u64(out, seq);
  put_u64(out, static_cast<std::uint64_t>(committed_at));
  out.append(change_encoding.substr(1));
  put_u64(out, log_hash.size());
  out.append(log_hash);
  return out;
}

std::string encode_entries(const std::vector<std::string_view>& entries,
                           std::uint64_t server_head) {
  std::size_t size = 64;
  for (auto e : entries) size += e.size();
  std::string buffer;
  buffer.reserve(size);
  std::ostringstream os(std::move(buffer), std::ios::binary);
  put_envelope(os);
  {
    OutAr ar(os);  // the same fields as fields(ar, Entries&), with the entries spliced in
    ar(static_cast<std::uint8_t>(Message(std::in_place_type<Entries>).index()));
    ar(static_cast<std::uint64_t>(entries.size()));
    for (auto e : entries) os.write(e.data(), static_cast<std::streamsize>(e.size()));
    ar(server_head);
  }
  return std::move(os).str();
}

std::string encode_push(const std::vector<std::string>& change_encodings,
                        const std::string& head_signature) {
  std::size_t size = 32 + head_signature.size();
  for (const auto& e : change_encodings) size += e.size();
  std::string out;
  out.reserve(size);
  // The envelope, the archive's flag, then the same fields as fields(ar, Push&).
  out += {kMagic0, kMagic1, static_cast<char>(kProtocolVersion & 0xff),
          static_cast<char>(kProtocolVersion >> 8), '\x01',
          static_cast<char>(Message(std::in_place_type<Push>).index())};
  put_u64(out, change_encodings.size());
  for (const auto& e : change_encodings) {
    if (e.empty() || e[0] != '\x01') malformed("perubahan tanpa penanda arsip");
    out.append(e, 1);
  }
  put_string(out, head_signature);
  return out;
}

Change decode_change(std::string_view bytes) {
  SpanBuf buf(bytes.data(), bytes.size());
  std::istream is(&buf);
  t_input = &buf;
  struct Reset {
    ~Reset() { t_input = nullptr; }
  } reset;
  try {
    InAr ar(is);
    Change c;
    fields(ar, c);
    if (buf.remaining() != 0) malformed("sisa data setelah perubahan");
    return c;
  } catch (const cereal::Exception& e) {
    malformed(std::string("perubahan terpotong (") + e.what() + ")");
  }
}

std::string Change::hash() const {
  std::string tagged(kChangeHashTag);
  append_change(tagged, *this);
  return crypto::sha256(tagged);
}

std::string Change::case_id() const {
  // record = "<kind>/<case>/..." for every case-scoped record.
  auto a = record.find('/');
  if (a == std::string::npos) return {};
  auto b = record.find('/', a + 1);
  return record.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
}

std::string chain_head_message(const std::string& replica, std::uint64_t counter,
                               const std::string& head_hash) {
  return "alur/chain-head/v1\n" + replica + "\n" + std::to_string(counter) + "\n" +
         crypto::to_hex(head_hash);
}

EntryLinks link_entries(const std::vector<CommittedEntry>& entries) {
  EntryLinks links;
  links.encodings.reserve(entries.size());
  links.linked.reserve(entries.size());
  for (std::size_t i = 0; i < entries.size(); ++i) {
    const CommittedEntry& e = entries[i];
    links.encodings.push_back(encode_change(e.change));
    links.linked.push_back(i > 0 && log_hash(entries[i - 1].log_hash, e.seq,
                                             change_hash_of(links.encodings.back()),
                                             e.committed_at) == e.log_hash);
  }
  return links;
}

std::string log_hash(const std::string& prev_log_hash, std::uint64_t seq,
                     const std::string& change_hash, std::int64_t committed_at) {
  return crypto::sha256("alur/log/v1\n" + crypto::to_hex(prev_log_hash) + "\n" +
                        std::to_string(seq) + "\n" + crypto::to_hex(change_hash) + "\n" +
                        std::to_string(committed_at));
}

}  // namespace alur::sync
