; Inno Setup script for Switchboard on Windows (per-user install, no admin rights).
; Build: run packaging/switchboard.spec with PyInstaller on Windows, then
;   iscc /DAppVersion=0.1.0 packaging\windows\switchboard.iss
; The [Registry] lines are the values of
; app.desktop.register_handler.windows_registry_values(["{app}\switchboard.exe"]);
; tests/unit/test_register_handler.py checks that they stay the same.

#ifndef AppVersion
  #define AppVersion "0.1.0"
#endif

[Setup]
AppId={{6F0C9B8E-3C57-4C1B-9E0A-5B9D2B7A4E11}
AppName=Switchboard
AppVersion={#AppVersion}
AppPublisher=Switchboard developers
DefaultDirName={localappdata}\Programs\Switchboard
DefaultGroupName=Switchboard
DisableProgramGroupPage=yes
PrivilegesRequired=lowest
PrivilegesRequiredOverridesAllowed=dialog
ArchitecturesAllowed=x64compatible
ArchitecturesInstallIn64BitMode=x64compatible
OutputDir=..\..\dist\installer
OutputBaseFilename=Switchboard-{#AppVersion}-setup
SetupIconFile=switchboard.ico
UninstallDisplayIcon={app}\switchboard.exe
Compression=lzma2
SolidCompression=yes
WizardStyle=modern
ChangesAssociations=yes
CloseApplications=yes

[Languages]
Name: "en"; MessagesFile: "compiler:Default.isl"
Name: "fi"; MessagesFile: "compiler:Languages\Finnish.isl"

[Tasks]
Name: "desktopicon"; Description: "{cm:CreateDesktopIcon}"; GroupDescription: "{cm:AdditionalIcons}"; Flags: unchecked

[Files]
; The PyInstaller onedir build (dist\switchboard\), QtWebEngine and pjsua2 included.
Source: "..\..\dist\switchboard\*"; DestDir: "{app}"; Flags: ignoreversion recursesubdirs createallsubdirs

[Icons]
Name: "{group}\Switchboard"; Filename: "{app}\switchboard.exe"
Name: "{userdesktop}\Switchboard"; Filename: "{app}\switchboard.exe"; Tasks: desktopicon

[Registry]
; tel:, sip:, sips: and callto: open "switchboard.exe <link>"; the link is untrusted and
; parsed by app.core.links before anything is dialled.
Root: HKCU; Subkey: "Software\Classes\Switchboard.URL"; ValueType: string; ValueName: ""; ValueData: "Switchboard phone link"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\Switchboard.URL\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\switchboard.exe"",0"
Root: HKCU; Subkey: "Software\Classes\Switchboard.URL\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\switchboard.exe"" ""%1"""
Root: HKCU; Subkey: "Software\Switchboard\Capabilities"; ValueType: string; ValueName: "ApplicationName"; ValueData: "Switchboard"
Root: HKCU; Subkey: "Software\Switchboard\Capabilities"; ValueType: string; ValueName: "ApplicationDescription"; ValueData: "Softphone for contact-centre agents"
Root: HKCU; Subkey: "Software\Switchboard\Capabilities"; ValueType: string; ValueName: "ApplicationIcon"; ValueData: """{app}\switchboard.exe"",0"
Root: HKCU; Subkey: "Software\Classes\tel"; ValueType: string; ValueName: ""; ValueData: "URL:tel"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\tel"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\tel\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\switchboard.exe"",0"
Root: HKCU; Subkey: "Software\Classes\tel\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\switchboard.exe"" ""%1"""
Root: HKCU; Subkey: "Software\Switchboard\Capabilities\URLAssociations"; ValueType: string; ValueName: "tel"; ValueData: "Switchboard.URL"
Root: HKCU; Subkey: "Software\Classes\sip"; ValueType: string; ValueName: ""; ValueData: "URL:sip"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\sip"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\sip\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\switchboard.exe"",0"
Root: HKCU; Subkey: "Software\Classes\sip\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\switchboard.exe"" ""%1"""
Root: HKCU; Subkey: "Software\Switchboard\Capabilities\URLAssociations"; ValueType: string; ValueName: "sip"; ValueData: "Switchboard.URL"
Root: HKCU; Subkey: "Software\Classes\callto"; ValueType: string; ValueName: ""; ValueData: "URL:callto"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\callto"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\callto\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\switchboard.exe"",0"
Root: HKCU; Subkey: "Software\Classes\callto\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\switchboard.exe"" ""%1"""
Root: HKCU; Subkey: "Software\Switchboard\Capabilities\URLAssociations"; ValueType: string; ValueName: "callto"; ValueData: "Switchboard.URL"
Root: HKCU; Subkey: "Software\Classes\sips"; ValueType: string; ValueName: ""; ValueData: "URL:sips"; Flags: uninsdeletekey
Root: HKCU; Subkey: "Software\Classes\sips"; ValueType: string; ValueName: "URL Protocol"; ValueData: ""
Root: HKCU; Subkey: "Software\Classes\sips\DefaultIcon"; ValueType: string; ValueName: ""; ValueData: """{app}\switchboard.exe"",0"
Root: HKCU; Subkey: "Software\Classes\sips\shell\open\command"; ValueType: string; ValueName: ""; ValueData: """{app}\switchboard.exe"" ""%1"""
Root: HKCU; Subkey: "Software\Switchboard\Capabilities\URLAssociations"; ValueType: string; ValueName: "sips"; ValueData: "Switchboard.URL"
Root: HKCU; Subkey: "Software\RegisteredApplications"; ValueType: string; ValueName: "Switchboard"; ValueData: "Software\Switchboard\Capabilities"; Flags: uninsdeletevalue

[Run]
Filename: "{app}\switchboard.exe"; Description: "{cm:LaunchProgram,Switchboard}"; Flags: nowait postinstall skipifsilent
