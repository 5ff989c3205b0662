#Requires -RunAsAdministrator
<#
.SYNOPSIS
Removes what Install-Wincri.ps1 installed: the wincri service, its binaries,
its Microsoft Defender exclusions and its PATH entry.

.DESCRIPTION
Drain the node first (kubectl drain NODE --ignore-daemonsets): containers
keep running in their shims after wincri is gone, and nothing will manage
them. The data folder (configuration, images, state, log) stays unless
-RemoveData is given. The runhcs shim placed in -InstallDir (from
hcsshim @HCSSHIM_VERSION@) stays too.
#>
[CmdletBinding()]
param(
    [string] $InstallDir = "$env:ProgramFiles\wincri",
    [string] $DataDir = "$env:ProgramData\wincri",
    [string] $ServiceName = 'wincri',
    [switch] $RemoveData
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$InstallDir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($InstallDir).TrimEnd('\')
$DataDir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($DataDir).TrimEnd('\')
$wincri = Join-Path $InstallDir 'wincri.exe'
$exclusionsRecord = Join-Path $InstallDir 'defender-exclusions.json'
$crictlMarker = '# Written by Install-Wincri.ps1.'

# Remove-Quietly removes a file or folder, with a warning when it cannot:
# an uninstaller refuses nothing.
function Remove-Quietly([string] $Path, [switch] $Recurse) {
    if (-not (Test-Path -LiteralPath $Path)) { return }
    try {
        Remove-Item -LiteralPath $Path -Force -Recurse:$Recurse
    } catch {
        Write-Warning "Could not remove ${Path}: $_"
    }
}

Write-Warning 'Containers keep running in their shims once wincri is gone: drain the node first (kubectl drain NODE --ignore-daemonsets).'

if (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue) {
    Write-Host "Stopping the service $ServiceName"
    Stop-Service -Name $ServiceName
    if (Test-Path -LiteralPath $wincri) {
        $ErrorActionPreference = 'Continue'
        & $wincri --unregister-service --service-name $ServiceName 2>&1 | ForEach-Object { Write-Host "  $_" }
        $code = $LASTEXITCODE
        $ErrorActionPreference = 'Stop'
    } else {
        & sc.exe delete $ServiceName | Out-Host
        $code = $LASTEXITCODE
    }
    if ($code -ne 0) { Write-Warning "The service $ServiceName could not be unregistered (exit code $code, above)." }
}

if (Test-Path -LiteralPath $exclusionsRecord) {
    if (Get-Command -Name Remove-MpPreference -ErrorAction SilentlyContinue) {
        $record = Get-Content -Raw -LiteralPath $exclusionsRecord | ConvertFrom-Json
        $paths = @($record.ExclusionPath | Where-Object { $_ })
        $processes = @($record.ExclusionProcess | Where-Object { $_ })
        try {
            Write-Host 'Removing the Microsoft Defender exclusions the installer added'
            if ($paths) { Remove-MpPreference -ExclusionPath $paths }
            if ($processes) { Remove-MpPreference -ExclusionProcess $processes }
        } catch {
            Write-Warning "Microsoft Defender exclusions were not removed: $_"
        }
    }
    Remove-Quietly $exclusionsRecord
}

$envKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager\Environment'
$machinePath = (Get-Item -Path $envKey).GetValue('Path', '', 'DoNotExpandEnvironmentNames')
$entries = @($machinePath -split ';' | Where-Object { $_ })
$kept = @($entries | Where-Object { $_ -ne $InstallDir -and $_ -ne "$InstallDir\" })
if ($kept.Count -ne $entries.Count) {
    Write-Host "Removing $InstallDir from the machine PATH"
    Set-ItemProperty -Path $envKey -Name 'Path' -Value ($kept -join ';') -Type ExpandString
    # Setting and removing a variable announces the change (WM_SETTINGCHANGE).
    [Environment]::SetEnvironmentVariable('WINCRI_INSTALL', '1', 'Machine')
    [Environment]::SetEnvironmentVariable('WINCRI_INSTALL', $null, 'Machine')
}

Write-Host "Removing the binaries from $InstallDir"
foreach ($name in @('wincri.exe', 'wincri-logger.exe', 'crictl.exe', 'crictl.yaml')) {
    Remove-Quietly (Join-Path $InstallDir $name)
}
if (Test-Path -LiteralPath $InstallDir) {
    Get-ChildItem -LiteralPath $InstallDir -Filter '*.old' | ForEach-Object { Remove-Quietly $_.FullName }
    if (@(Get-ChildItem -LiteralPath $InstallDir -Force).Count -eq 0) {
        Remove-Quietly $InstallDir
    } else {
        Write-Host "Leaving $InstallDir, which holds other files (the runhcs shim?)"
    }
}
$userConfig = Join-Path $env:USERPROFILE '.crictl\crictl.yaml'
if ((Test-Path -LiteralPath $userConfig) -and (Get-Content -LiteralPath $userConfig -TotalCount 1) -eq $crictlMarker) {
    Remove-Quietly $userConfig
}

if ($RemoveData) {
    Write-Host "Removing $DataDir"
    Remove-Quietly $DataDir -Recurse
} else {
    Write-Host "Leaving $DataDir (configuration, images, state, log): -RemoveData removes it."
}
