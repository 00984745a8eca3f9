# The Windows setup.exe (CPack NSIS, 64-bit): alur.exe and alur-server.exe in Program Files,
# a Start-menu shortcut to the officials' app (alur.exe ui), Add/Remove Programs, an
# uninstaller that keeps user data unless asked, and the silent roll-out settings
# (/SERVER= /FINGERPRINT= or alur.conf beside setup.exe) of windows/alur.nsh.
set(CPACK_GENERATOR NSIS)
set(CPACK_PACKAGE_NAME alur)
set(CPACK_PACKAGE_VENDOR alur)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "alur - SOP sebagai alur kerja, bekerja tanpa koneksi")
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_INSTALL_DIRECTORY alur)
set(CPACK_PACKAGE_INSTALL_REGISTRY_KEY alur)
set(CPACK_PACKAGE_FILE_NAME alur-${PROJECT_VERSION}-win64-setup)
set(CPACK_NSIS_INSTALL_ROOT "$PROGRAMFILES64")
set(CPACK_NSIS_PACKAGE_NAME alur)  # also the Start-menu folder: the same in every version
set(CPACK_NSIS_DISPLAY_NAME alur)
set(CPACK_NSIS_INSTALLED_ICON_NAME bin\\\\alur.exe)
set(CPACK_NSIS_MODIFY_PATH OFF)
# A newer version installs over an older one in place (same files), so nothing runs the old
# uninstaller and the alur.conf written at the first roll-out stays.
set(CPACK_NSIS_ENABLE_UNINSTALL_BEFORE_INSTALL OFF)
set(CPACK_NSIS_COMPRESSOR "/SOLID lzma")
# A 64-bit installer (makensis builds a 32-bit one unless told).
set(CPACK_NSIS_EXECUTABLE ${CMAKE_CURRENT_LIST_DIR}/makensis64)
set(CPACK_NSIS_DEFINES "!include ${CMAKE_CURRENT_LIST_DIR}/alur.nsh")
set(CPACK_NSIS_CREATE_ICONS_EXTRA
    "  CreateShortCut '$SMPROGRAMS\\\\$STARTMENU_FOLDER\\\\alur.lnk' '$INSTDIR\\\\bin\\\\alur.exe' 'ui'")
set(CPACK_NSIS_DELETE_ICONS_EXTRA "  Delete '$SMPROGRAMS\\\\$MUI_TEMP\\\\alur.lnk'")
set(CPACK_NSIS_EXTRA_PREINSTALL_COMMANDS "  Call AlurReadSettings")
set(CPACK_NSIS_EXTRA_INSTALL_COMMANDS "  Call AlurWriteConfig")
set(CPACK_NSIS_EXTRA_UNINSTALL_COMMANDS "  Call un.AlurUninstall")
include(CPack)
