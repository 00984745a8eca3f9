# The header-only dependencies of the Windows cross build: Debian's header trees of Boost,
# cereal, nlohmann-json, rapidjson and CLI11, linked one by one into a staging folder by
# packaging/windows/deps, so that the host's /usr/include never reaches the cross compiler.
foreach(target Boost::headers cereal::cereal nlohmann_json::nlohmann_json CLI11::CLI11
               RapidJSON::RapidJSON)
  add_library(${target} INTERFACE IMPORTED)
  set_target_properties(${target} PROPERTIES
    INTERFACE_INCLUDE_DIRECTORIES "${ALUR_WIN_DEPS}/staging/include")
endforeach()
