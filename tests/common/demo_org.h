// The demo organisation of scripts/demo/org.json, for tests and the simulator: three
// bidang, one official for each role of the LAKIP SOP, with their passwords.
#pragma once

namespace alur::testing {

// scripts/demo/org.json: three bidang, one person per role of the LAKIP SOP.
inline const char* demo_org_json() {
  return R"json({
  "unit": "Dinas Koperasi, Usaha Kecil dan Menengah Kabupaten Sukabumi",
  "bidang": [
    {"code": "koperasi", "name": "Bidang Koperasi"},
    {"code": "usaha_mikro", "name": "Bidang Usaha Mikro"},
    {"code": "ukm", "name": "Bidang Usaha Kecil dan Menengah"}
  ],
  "users": [
    {"username": "kadis", "name": "H. Yulipri", "password": "kadis-rahasia-1", "roles": [{"role": "kadis"}]},
    {"username": "sekretaris", "name": "Dra. Sri Wahyuni", "password": "sekre-rahasia-1", "roles": [{"role": "sekretaris"}]},
    {"username": "kabid_koperasi", "name": "Asep Saepudin", "password": "kabid-rahasia-1", "roles": [{"role": "kabid", "bidang": "koperasi"}]},
    {"username": "kabid_mikro", "name": "Euis Komariah", "password": "kabid-rahasia-2", "roles": [{"role": "kabid", "bidang": "usaha_mikro"}]},
    {"username": "kabid_ukm", "name": "Dadang Hermawan", "password": "kabid-rahasia-3", "roles": [{"role": "kabid", "bidang": "ukm"}]},
    {"username": "kasubag", "name": "Rina Marlina", "password": "kasubag-rahasia", "roles": [{"role": "kasubag_kpe"}]},
    {"username": "pelaksana", "name": "Budi Santoso", "password": "pelaksana-rahasia", "roles": [{"role": "pelaksana_kpe"}]}
  ]
})json";
}

}  // namespace alur::testing
