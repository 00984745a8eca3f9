// Fuzz target: the sync protocol's message decoder (sync/messages.h), which reads every
// byte a client or a server receives. Contract: decode() returns one message or throws
// alur::Error ("malformed", "protocol_version"); a decoded message re-encodes to bytes
// that decode to the same encoding (the codec is canonical), and a stored change decodes
// the same way.
#include "alur/sync/messages.h"
#include "fuzz.h"

using namespace alur;

extern "C" int LLVMFuzzerTestOneInput(const unsigned char* data, std::size_t size) {
  const std::string_view bytes = fuzz::as_view(data, size);
  fuzz::expect_only_alur_errors("decode", [&] {
    const sync::Message m = sync::decode(bytes);
    const std::string once = sync::encode(m);
    const std::string twice = sync::encode(sync::decode(once));
    if (once != twice) fuzz::finding(std::string("re-encoding differs for ") + sync::message_name(m));
  });
  fuzz::expect_only_alur_errors("decode_change", [&] {
    const sync::Change c = sync::decode_change(bytes);
    if (sync::decode_change(sync::encode_change(c)) != c)
      fuzz::finding("a change does not survive encode/decode");
  });
  return 0;
}
