<#
.SYNOPSIS
  Stores (or replaces) one FactoryEdge secret, protected with DPAPI.

.DESCRIPTION
  Writes <DataDir>\credentials\<Name>.dpapi: the UTF-8 value protected with DPAPI in machine scope
  with FactoryEdge's entropy ('FactoryEdge credential v1'). The credentials folder's ACL admits only
  SYSTEM, Administrators and NT SERVICE\FactoryEdge. The gateway decrypts it at start and on
  configuration reload. Name it like a configuration key with '__' for ':'
  (FactoryEdge__Alerts__Mqtt__Password) or like an environment variable (FACTORYEDGE_INFLUX_TOKEN).
  Without -Value the value is prompted for and never echoed. Restart the service (or touch a
  configuration file) to apply.

.EXAMPLE
  .\set-secret.ps1 -Name FACTORYEDGE_INFLUX_TOKEN
#>
#Requires -RunAsAdministrator
[CmdletBinding()]
param(
  [Parameter(Mandatory)] [ValidatePattern('^[A-Za-z0-9_]+$')] [string] $Name,
  [string] $Value,
  [string] $DataDir = (Join-Path $env:ProgramData 'FactoryEdge')
)
$ErrorActionPreference = 'Stop'
Add-Type -AssemblyName System.Security
if (-not $PSBoundParameters.ContainsKey('Value')) {
  $secure = Read-Host -AsSecureString -Prompt "Value of $Name"
  $Value = [Runtime.InteropServices.Marshal]::PtrToStringBSTR([Runtime.InteropServices.Marshal]::SecureStringToBSTR($secure))
}
$entropy = [Text.Encoding]::UTF8.GetBytes('FactoryEdge credential v1')
$blob = [Security.Cryptography.ProtectedData]::Protect([Text.Encoding]::UTF8.GetBytes($Value), $entropy, [Security.Cryptography.DataProtectionScope]::LocalMachine)
$dir = Join-Path $DataDir 'credentials'
New-Item -ItemType Directory -Force -Path $dir | Out-Null
[IO.File]::WriteAllBytes((Join-Path $dir "$Name.dpapi"), $blob)
Write-Host "Stored $Name (DPAPI) in $dir"
