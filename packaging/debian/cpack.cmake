# The Debian package of the office server (packaging/linux/build; packaging/README.md):
# alur-server and the alur client in /usr/bin, the systemd unit, its config in /etc/alur
# and maintainer scripts that create the user `alur` and /var/lib/alur.
set(ALUR_DEB_DIR ${CMAKE_CURRENT_LIST_DIR})

install(FILES ${ALUR_DEB_DIR}/alur-server.service DESTINATION lib/systemd/system)
install(FILES ${ALUR_DEB_DIR}/alur-server.conf DESTINATION /etc/alur
        PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ)
install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION share/doc/alur-server)
install(FILES ${CMAKE_CURRENT_LIST_DIR}/../README.md DESTINATION share/doc/alur-server
        RENAME packaging.md)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME alur-server)
set(CPACK_PACKAGE_VENDOR "alur")
set(CPACK_PACKAGE_CONTACT "alur maintainers <alur@localhost>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "alur office server: SOPs as tracked, offline-first workflows (server and client)")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)  # the package carries no debug info (the build tree keeps it)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)  # alur-server_VERSION_ARCH.deb
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)  # libssl3, libsqlite3-0, ... from the binaries
set(CPACK_DEBIAN_PACKAGE_DEPENDS "passwd, init-system-helpers")
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${ALUR_DEB_DIR}/postinst ${ALUR_DEB_DIR}/prerm ${ALUR_DEB_DIR}/postrm
    ${ALUR_DEB_DIR}/conffiles)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
