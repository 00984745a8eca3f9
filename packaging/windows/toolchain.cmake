# CMake toolchain for the Windows build: cross-compiles on Debian with mingw-w64's posix
# compilers (std::thread), statically, against the SQLite and OpenSSL that
# packaging/windows/deps builds into ALUR_WIN_DEPS. The executables import only Windows'
# own DLLs. Used by packaging/windows/build.
set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)
set(ALUR_WIN_HOST x86_64-w64-mingw32)
set(CMAKE_C_COMPILER ${ALUR_WIN_HOST}-gcc-posix)
set(CMAKE_CXX_COMPILER ${ALUR_WIN_HOST}-g++-posix)
set(CMAKE_RC_COMPILER ${ALUR_WIN_HOST}-windres)

if(NOT ALUR_WIN_DEPS)
  set(ALUR_WIN_DEPS "$ENV{ALUR_WIN_DEPS}")
endif()
if(NOT ALUR_WIN_DEPS OR NOT EXISTS "${ALUR_WIN_DEPS}/openssl/lib/libssl.a")
  message(FATAL_ERROR "ALUR_WIN_DEPS must name the cache made by packaging/windows/deps")
endif()
set(ALUR_WIN_DEPS "${ALUR_WIN_DEPS}" CACHE PATH "Windows dependencies (packaging/windows/deps)")
list(APPEND CMAKE_TRY_COMPILE_PLATFORM_VARIABLES ALUR_WIN_DEPS)  # CMake's compiler checks
# Only the mingw sysroot and the cache: nothing from the host's /usr/include or /usr/lib.
set(CMAKE_FIND_ROOT_PATH /usr/${ALUR_WIN_HOST} ${ALUR_WIN_DEPS}/sqlite ${ALUR_WIN_DEPS}/openssl)
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)
set(OPENSSL_USE_STATIC_LIBS TRUE)
set(OPENSSL_ROOT_DIR ${ALUR_WIN_DEPS}/openssl)

# Windows 10 API level for Asio; no min/max macros from <windows.h>.
set(CMAKE_CXX_FLAGS_INIT "-D_WIN32_WINNT=0x0A00 -DNOMINMAX")
set(CMAKE_C_FLAGS_INIT "-D_WIN32_WINNT=0x0A00")
# Self-contained: libgcc, libstdc++ and winpthreads linked in.
set(CMAKE_EXE_LINKER_FLAGS_INIT "-static -static-libgcc -static-libstdc++")
# Winsock for Asio, crypt32/bcrypt for OpenSSL, at the end of every link line.
set(CMAKE_CXX_STANDARD_LIBRARIES "-lws2_32 -lmswsock -lcrypt32 -lbcrypt -luser32 -ladvapi32 -lshell32"
    CACHE STRING "Windows system libraries")
