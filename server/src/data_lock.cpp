// The data folder's lock (alur/server/data_lock.h), with Boost.Interprocess's file_lock.
#include "alur/server/data_lock.h"

#include <boost/interprocess/exceptions.hpp>
#include <boost/interprocess/sync/file_lock.hpp>
#include <fstream>

#include "alur/shared/error.h"
#include "alur/shared/paths.h"

namespace alur::server {

struct DataLock::Impl {
  boost::interprocess::file_lock lock;
};

DataLock::DataLock(const std::filesystem::path& data_dir) : impl_(std::make_unique<Impl>()) {
  const std::filesystem::path file = data_dir / kFileName;
  { std::ofstream touch(file, std::ios::app); }  // file_lock needs an existing file
  bool locked = false;
  try {
    impl_->lock = boost::interprocess::file_lock(
#ifdef _WIN32
        file.wstring().c_str()  // the narrow name would be read in the ANSI code page
#else
        file.c_str()
#endif
    );
    locked = impl_->lock.try_lock();
  } catch (const boost::interprocess::interprocess_exception& e) {
    throw Error("io", "Tidak dapat mengunci " + u8_string(file) + ": " + e.what());
  }
  if (!locked)
    throw Error("server_running",
                "Folder data " + u8_string(data_dir) +
                    " sedang dipakai alur-server yang berjalan; hentikan dulu server itu "
                    "(mis. systemctl stop alur-server), lalu ulangi.");
}

DataLock::~DataLock() = default;  // file_lock's destructor releases the lock

}  // namespace alur::server
