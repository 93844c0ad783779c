<#
.SYNOPSIS
  Removes the FactoryEdge service.

.DESCRIPTION
  Stops and deletes the service and removes -InstallDir. Configuration, credentials and data under
  -DataDir are KEPT unless -Purge is given (which also removes the Event Log source).
#>
#Requires -RunAsAdministrator
[CmdletBinding()]
param(
  [string] $InstallDir = (Join-Path $env:ProgramFiles 'FactoryEdge'),
  [string] $DataDir = (Join-Path $env:ProgramData 'FactoryEdge'),
  [switch] $Purge
)
$ErrorActionPreference = 'Stop'
$ServiceName = 'FactoryEdge'
$service = Get-Service -Name $ServiceName -ErrorAction SilentlyContinue
if ($service) {
  if ($service.Status -ne 'Stopped') { Stop-Service -Name $ServiceName -Force }
  & sc.exe delete $ServiceName | Out-Null
}
if (Test-Path $InstallDir) { Remove-Item -Recurse -Force $InstallDir }
if ($Purge) {
  if (Test-Path $DataDir) { Remove-Item -Recurse -Force $DataDir }
  if ([Diagnostics.EventLog]::SourceExists('factoryedge')) { Remove-EventLog -Source 'factoryedge' }
  Write-Host 'FactoryEdge removed with its configuration, credentials and data.'
} else {
  Write-Host "FactoryEdge removed. Kept: $DataDir (configuration, credentials, data). Remove it with -Purge."
}
