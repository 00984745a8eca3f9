// The one translation unit that compiles Boost.Asio (with SSL) and Boost.Beast, so that
// the other net/ files only instantiate templates and a change to them stays cheap.
// alur_net defines BOOST_{ASIO,BEAST}_SEPARATE_COMPILATION for every file that uses them.
#include <boost/asio/impl/src.hpp>
#include <boost/asio/ssl/impl/src.hpp>
#include <boost/beast/src.hpp>
