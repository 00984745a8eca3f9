// The console as both command lines expect it on every platform: arguments and output in
// UTF-8, and a line typed without echo. On POSIX these are what the terminal already does;
// on Windows the arguments come from the wide command line and the console is switched to
// UTF-8 (the one place where the CLI differs by platform).
#pragma once

#include <string>
#include <vector>

namespace alur::console {

// Holds argv as UTF-8 for main's lifetime: on Windows it replaces argc/argv (given in the
// ANSI code page) with the wide command line's arguments converted to UTF-8 and sets the
// console's output code page to UTF-8; elsewhere it leaves both untouched.
class Utf8Args {
 public:
  Utf8Args(int& argc, char**& argv);

 private:
  std::vector<std::string> args_;
  std::vector<char*> pointers_;
};

// True when standard input is a terminal or console (a person can be asked).
bool stdin_is_terminal();

// Reads one line from standard input without echoing it when that is a terminal or console.
std::string read_line_hidden();

}  // namespace alur::console
