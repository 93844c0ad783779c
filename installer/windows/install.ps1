<#
.SYNOPSIS
  Installs (or upgrades) FactoryEdge as a Windows service.

.DESCRIPTION
  Publishes the gateway self-contained for win-x64 (or takes -Source, an already published folder),
  copies it to -InstallDir, creates the data folders under -DataDir with restricted ACLs, registers
  the service 'FactoryEdge' under its own virtual account (NT SERVICE\FactoryEdge: no password, no
  interactive logon, its own SID for ACLs), sets recovery actions (restart after 5 s, 15 s, 60 s;
  counters reset after a day; also on a non-zero exit), registers the Event Log source, protects the
  given secrets with DPAPI, checks the configuration and starts the service. An upgrade keeps the
  configuration, credentials and data (the telemetry spool is copied aside first).

  Not tested on Windows in this repository's CI (Linux): see docs/operations.md, "What is tested".

.EXAMPLE
  .\install.ps1 -Secrets @{ 'FACTORYEDGE_INFLUX_TOKEN' = $token; 'FactoryEdge__Alerts__Mqtt__Password' = $mqtt }
#>
#Requires -RunAsAdministrator
[CmdletBinding()]
param(
  [string] $Source,
  [string] $InstallDir = (Join-Path $env:ProgramFiles 'FactoryEdge'),
  [string] $DataDir = (Join-Path $env:ProgramData 'FactoryEdge'),
  [hashtable] $Secrets = @{},
  [switch] $NoStart
)

$ErrorActionPreference = 'Stop'
$ServiceName = 'FactoryEdge'
$Account = "NT SERVICE\$ServiceName"
$Repo = Resolve-Path (Join-Path $PSScriptRoot '..\..')

# 1. Build (self-contained: the PC needs no .NET installed; a runtime fix means a new release).
if (-not $Source) {
  $Source = Join-Path ([IO.Path]::GetTempPath()) ("factoryedge-publish-" + [guid]::NewGuid())
  Write-Host "Publishing FactoryEdge (win-x64, self-contained, Release)..."
  & dotnet publish (Join-Path $Repo 'src\FactoryEdge.Gateway\FactoryEdge.Gateway.csproj') -c Release -r win-x64 --self-contained true -p:DebugType=none -o $Source | Out-Null
  if ($LASTEXITCODE -ne 0) { throw "dotnet publish failed ($LASTEXITCODE)" }
}
if (-not (Test-Path (Join-Path $Source 'factoryedge.exe'))) { throw "$Source\factoryedge.exe not found" }

# 2. Stop a running version; keep a copy of the spool.
$existing = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
if ($existing -and $existing.Status -ne 'Stopped') { Stop-Service -Name $ServiceName -Force }
$spool = Join-Path $DataDir 'data\telemetry.db'
if (Test-Path $spool) {
  $old = if (Test-Path (Join-Path $InstallDir 'VERSION')) { (Get-Content (Join-Path $InstallDir 'VERSION') -Raw).Trim() } else { 'previous' }
  Copy-Item $spool "$spool.before-upgrade-from-$old" -Force
  foreach ($ext in '-wal', '-shm') { if (Test-Path "$spool$ext") { Copy-Item "$spool$ext" "$spool.before-upgrade-from-$old$ext" -Force } }
}

# 3. Code: Program Files ACLs (administrators write, everyone else read and execute).
New-Item -ItemType Directory -Force -Path $InstallDir | Out-Null
& robocopy $Source $InstallDir /MIR /NFL /NDL /NJH /NJS /NP | Out-Null
if ($LASTEXITCODE -ge 8) { throw "copying to $InstallDir failed (robocopy $LASTEXITCODE)" }
Copy-Item (Join-Path $Repo 'docs\*.md') (New-Item -ItemType Directory -Force -Path (Join-Path $InstallDir 'docs')) -Force -ErrorAction SilentlyContinue

# 4. The service under its virtual account, delayed automatic start, recovery actions.
$exe = Join-Path $InstallDir 'factoryedge.exe'
$config = Join-Path $DataDir 'config\appsettings.json'
$binPath = "`"$exe`" run --config `"$config`""
if (-not $existing) {
  New-Service -Name $ServiceName -BinaryPathName $binPath -DisplayName 'FactoryEdge gateway' `
    -Description 'FactoryEdge predictive-maintenance gateway (health: http://127.0.0.1:9470/readyz)' -StartupType Automatic | Out-Null
} else {
  & sc.exe config $ServiceName binPath= $binPath | Out-Null
}
& sc.exe config $ServiceName obj= $Account start= delayed-auto | Out-Null
& sc.exe sidtype $ServiceName unrestricted | Out-Null
& sc.exe failure $ServiceName reset= 86400 actions= restart/5000/restart/15000/restart/60000 | Out-Null
& sc.exe failureflag $ServiceName 1 | Out-Null   # a non-zero exit counts as a failure too, not only a crash

# Service environment (HKLM\...\Services\FactoryEdge\Environment): site overrides, data, PKI, credentials.
$envBlock = @(
  "FACTORYEDGE_SITE_CONFIG=$(Join-Path $DataDir 'config\site.json')",
  "STATE_DIRECTORY=$(Join-Path $DataDir 'data')",
  "FACTORYEDGE_PKI=$(Join-Path $DataDir 'pki')",
  "FACTORYEDGE_CREDENTIALS_DIRECTORY=$(Join-Path $DataDir 'credentials')",
  "DOTNET_CLI_TELEMETRY_OPTOUT=1"
)
Set-ItemProperty -Path "HKLM:\SYSTEM\CurrentControlSet\Services\$ServiceName" -Name Environment -Type MultiString -Value $envBlock

# 5. Data folders with restricted ACLs: SYSTEM and Administrators full; the service's own SID reads
#    configuration and credentials, modifies data and PKI; nobody else has access.
$folders = @{
  'config' = 'RX'; 'credentials' = 'RX'; 'data' = 'M'; 'pki' = 'M'
}
New-Item -ItemType Directory -Force -Path $DataDir | Out-Null
& icacls $DataDir /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' "${Account}:(RX)" | Out-Null
foreach ($name in $folders.Keys) {
  $path = Join-Path $DataDir $name
  New-Item -ItemType Directory -Force -Path $path | Out-Null
  & icacls $path /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' "${Account}:(OI)(CI)$($folders[$name])" | Out-Null
  if ($LASTEXITCODE -ne 0) { throw "icacls on $path failed" }
}
if (-not (Test-Path $config)) {
  Copy-Item (Join-Path $InstallDir 'appsettings.json') $config
  # Windows defaults: spool under the data folder (STATE_DIRECTORY), Event Log for start/stop/warnings/errors.
} else {
  Copy-Item (Join-Path $InstallDir 'appsettings.json') "$config.new-default" -Force
}
$site = Join-Path $DataDir 'config\site.json'
if (-not (Test-Path $site)) {
  Set-Content -Path $site -Encoding UTF8 -Value "{`r`n  // Site overrides laid over appsettings.json (reloaded on change). See docs\operations.md.`r`n  `"FactoryEdge`": {`r`n  }`r`n}"
}

# 6. Secrets: DPAPI (machine scope, FactoryEdge entropy); the file ACL limits who can read the blob.
foreach ($name in $Secrets.Keys) {
  & (Join-Path $PSScriptRoot 'set-secret.ps1') -Name $name -Value $Secrets[$name] -DataDir $DataDir
}

# 7. Event Log source (the service account may not create one).
if (-not [Diagnostics.EventLog]::SourceExists('factoryedge')) { New-EventLog -LogName Application -Source 'factoryedge' }

Set-Content -Path (Join-Path $InstallDir 'VERSION') -Value ((& $exe --version) -join '')

# 8. Check the configuration, start.
& $exe config check $config --site $site --env --credentials (Join-Path $DataDir 'credentials')
if ($LASTEXITCODE -ne 0) {
  Write-Warning "The configuration in $DataDir\config is invalid (above): fix it, then Start-Service $ServiceName"
  $NoStart = $true
}
if (-not $NoStart) {
  Start-Service -Name $ServiceName
  Write-Host "FactoryEdge installed and started: Get-Service $ServiceName; Invoke-RestMethod http://127.0.0.1:9470/readyz"
} else {
  Write-Host 'FactoryEdge installed, not started.'
}
