; alur's additions to CPack's NSIS installer (included by packaging/windows/cpack.cmake):
; the roll-out settings written to alur.conf, and the uninstaller's choice about user data.
!include "FileFunc.nsh"
!include "LogicLib.nsh"

Var AlurServer
Var AlurFingerprint

; The value of option $0 (e.g. "/SERVER=") on the command line: up to the next space, or
; between quotes when it starts with one; "" when absent. (FileFunc's GetOptions cuts a
; value at its first "/", and URLs have several.)
Function AlurGetOption
  Exch $0
  Push $1
  Push $2
  Push $3
  Push $4
  Push $5
  ${GetParameters} $1
  StrLen $3 $0
  StrCpy $2 0
  StrCpy $5 ""
  find:
    StrCpy $4 $1 $3 $2
    StrCmp $4 "" done
    StrCmp $4 $0 found
    IntOp $2 $2 + 1
    Goto find
  found:
    IntOp $2 $2 + $3
    StrCpy $4 $1 1 $2
    StrCpy $3 " "
    StrCmp $4 '"' 0 value
    StrCpy $3 '"'
    IntOp $2 $2 + 1
  value:
    StrCpy $4 $1 1 $2
    StrCmp $4 "" done
    StrCmp $4 $3 done
    StrCpy $5 "$5$4"
    IntOp $2 $2 + 1
    Goto value
  done:
  StrCpy $0 $5
  Pop $5
  Pop $4
  Pop $3
  Pop $2
  Pop $1
  Exch $0
FunctionEnd

; Before any file is installed: reads /SERVER= and /FINGERPRINT= from the command line and
; refuses a half-given or malformed pair (exit code 2, nothing installed).
Function AlurReadSettings
  Push "/SERVER="
  Call AlurGetOption
  Pop $AlurServer
  Push "/FINGERPRINT="
  Call AlurGetOption
  Pop $AlurFingerprint
  ${If} $AlurServer$AlurFingerprint == ""
    Return
  ${EndIf}
  StrCpy $R1 $AlurServer 6
  StrCpy $R2 $AlurFingerprint 7
  ${If} $AlurServer == ""
  ${OrIf} $AlurFingerprint == ""
  ${OrIf} $R1 != "wss://"
  ${OrIf} $R2 != "sha256:"
    MessageBox MB_ICONSTOP "Pengaturan tidak lengkap: berikan keduanya, /SERVER=wss://HOST:PORT dan /FINGERPRINT=sha256:... (dari: alur-server fingerprint). Tidak ada yang dipasang." /SD IDOK
    SetErrorLevel 2
    ; SetOutPath made $INSTDIR and made it the current folder, which Windows will not remove:
    ; leave it first, then remove it if it is empty (a folder this run made).
    SetOutPath "$TEMP"
    RMDir "$INSTDIR"
    Abort
  ${EndIf}
FunctionEnd

; After the files: $INSTDIR\bin\alur.conf (beside alur.exe, where the client looks) from the command line's settings, else a copy of the
; alur.conf beside setup.exe, else the one a previous installation left stays as it is.
Function AlurWriteConfig
  ${If} $AlurServer != ""
    FileOpen $R0 "$INSTDIR\bin\alur.conf" w
    FileWrite $R0 "# alur: enrolment defaults written by setup.exe$\r$\n"
    FileWrite $R0 "server=$AlurServer$\r$\n"
    FileWrite $R0 "fingerprint=$AlurFingerprint$\r$\n"
    FileClose $R0
  ${ElseIf} ${FileExists} "$EXEDIR\alur.conf"
    CopyFiles /SILENT "$EXEDIR\alur.conf" "$INSTDIR\bin\alur.conf"
  ${EndIf}
FunctionEnd

; The uninstaller removes the program and alur.conf; the data of the user who runs it
; (%LOCALAPPDATA%\alur: the replica and its unsent changes) only when asked: /PURGE when
; silent, else a question whose default is No.
Function un.AlurUninstall
  Delete "$INSTDIR\bin\alur.conf"
  StrCpy $R2 "current"
  ${If} ${ShellVarContextAll}
    StrCpy $R2 "all"
  ${EndIf}
  SetShellVarContext current
  ${un.GetParameters} $R0
  ClearErrors
  ${un.GetOptions} $R0 "/PURGE" $R1
  ${If} ${Errors}
    MessageBox MB_YESNO|MB_ICONQUESTION|MB_DEFBUTTON2 "Hapus juga data alur Anda di $LOCALAPPDATA\alur? Perubahan yang belum tersinkronisasi akan hilang." /SD IDNO IDYES purge
    Goto done
  ${EndIf}
  purge:
    RMDir /r "$LOCALAPPDATA\alur"
  done:
  ${If} $R2 == "all"
    SetShellVarContext all
  ${EndIf}
FunctionEnd
