// Console adapters (alur/shared/console.h).
#include "alur/shared/console.h"

#include <iostream>

#include "alur/shared/paths.h"

#ifdef _WIN32
#include <windows.h>
#include <shellapi.h>
#else
#include <termios.h>
#include <unistd.h>
#endif

namespace alur::console {

#ifdef _WIN32

Utf8Args::Utf8Args(int& argc, char**& argv) {
  SetConsoleOutputCP(CP_UTF8);
  int n = 0;
  wchar_t** wide = CommandLineToArgvW(GetCommandLineW(), &n);
  if (!wide) return;  // keep the ANSI arguments rather than none
  for (int i = 0; i < n; ++i) args_.push_back(utf8_from_wide(wide[i]));
  LocalFree(wide);
  for (auto& a : args_) pointers_.push_back(a.data());
  pointers_.push_back(nullptr);
  argc = n;
  argv = pointers_.data();
}

bool stdin_is_terminal() {
  DWORD mode = 0;
  return GetConsoleMode(GetStdHandle(STD_INPUT_HANDLE), &mode) != 0;
}

std::string read_line_hidden() {
  HANDLE in = GetStdHandle(STD_INPUT_HANDLE);
  DWORD mode = 0;
  bool console = GetConsoleMode(in, &mode) != 0;
  if (console) SetConsoleMode(in, mode & ~static_cast<DWORD>(ENABLE_ECHO_INPUT));
  std::string line;
  std::getline(std::cin, line);
  if (console) SetConsoleMode(in, mode);
  if (!line.empty() && line.back() == '\r') line.pop_back();
  return line;
}

#else

Utf8Args::Utf8Args(int&, char**&) {}

bool stdin_is_terminal() { return isatty(STDIN_FILENO) != 0; }

std::string read_line_hidden() {
  termios old{};
  bool tty = isatty(STDIN_FILENO) && tcgetattr(STDIN_FILENO, &old) == 0;
  if (tty) {
    termios quiet = old;
    quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
    tcsetattr(STDIN_FILENO, TCSANOW, &quiet);
  }
  std::string line;
  std::getline(std::cin, line);
  if (tty) tcsetattr(STDIN_FILENO, TCSANOW, &old);
  return line;
}

#endif

}  // namespace alur::console
