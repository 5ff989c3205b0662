#Requires -RunAsAdministrator
<#
.SYNOPSIS
Installs wincri @VERSION@, a Kubernetes CRI runtime, as a Windows service.

.DESCRIPTION
Run it from the folder of the release zip. It checks the runhcs shim,
enables the Containers (and Hyper-V) features, copies wincri.exe,
wincri-logger.exe and crictl.exe to -InstallDir, writes
-DataDir\config.toml unless one exists, adds -InstallDir to the machine
PATH (for crictl.exe), adds Microsoft Defender exclusions, registers and starts the service,
configures crictl and prints the kubelet settings.

Running it again upgrades the binaries and registers the service anew; it
never overwrites a configuration.

.PARAMETER ShimPath
containerd-shim-runhcs-v1.exe of hcsshim @HCSSHIM_VERSION@. Default: the one
in -InstallDir, else the one found in PATH.

.PARAMETER ServiceName
Name of the service. Its endpoint is npipe:////./pipe/<ServiceName>; a
second install needs another name and another -DataDir.

.PARAMETER SkipShimCheck
Install even when the shim is not hcsshim @HCSSHIM_VERSION@'s.

.PARAMETER NoHyperV
Leave Hyper-V alone: only the process handler will run pods.
#>
[CmdletBinding()]
param(
    [string] $InstallDir = "$env:ProgramFiles\wincri",
    [string] $DataDir = "$env:ProgramData\wincri",
    [string] $ServiceName = 'wincri',
    [string] $ShimPath = '',
    [switch] $SkipShimCheck,
    [switch] $NoHyperV
)

Set-StrictMode -Version Latest
$ErrorActionPreference = 'Stop'

$InstallDir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($InstallDir).TrimEnd('\')
$DataDir = $ExecutionContext.SessionState.Path.GetUnresolvedProviderPathFromPSPath($DataDir).TrimEnd('\')
$shimVersion = '@HCSSHIM_VERSION@'
$shimName = 'containerd-shim-runhcs-v1.exe'
$binaries = @('wincri.exe', 'wincri-logger.exe', 'crictl.exe')
$endpoint = "npipe:////./pipe/$ServiceName"
$configPath = Join-Path $DataDir 'config.toml'
$logPath = Join-Path $DataDir 'wincri.log'
# Written beside the binaries: what Uninstall-Wincri.ps1 takes back.
$exclusionsRecord = Join-Path $InstallDir 'defender-exclusions.json'
$crictlMarker = '# Written by Install-Wincri.ps1.'

# Invoke-Native runs a program and returns its exit code, its output going
# to the console. Windows PowerShell turns a redirected standard error into
# error records, which must not stop the script.
function Invoke-Native([string] $FilePath, [string[]] $ArgumentList) {
    $ErrorActionPreference = 'Continue'
    & $FilePath @ArgumentList 2>&1 | ForEach-Object { Write-Host "  $_" }
    return $LASTEXITCODE
}

function Test-WindowsServer {
    # ProductType 1 is client Windows; 2 and 3 are Windows Server.
    return (Get-CimInstance -ClassName Win32_OperatingSystem).ProductType -ne 1
}

# Enable-Feature enables a Windows feature and returns $true when a restart
# is needed before it works.
function Enable-Feature([string] $Name) {
    if (Test-WindowsServer) {
        $feature = Get-WindowsFeature -Name $Name
        if ($feature.InstallState -eq 'Installed') { return $false }
        if ($feature.InstallState -eq 'InstallPending') { return $true }
        Write-Host "Installing the Windows feature $Name"
        $result = Install-WindowsFeature -Name $Name
        if (-not $result.Success) { throw "Install-WindowsFeature $Name did not succeed" }
        return [string]$result.RestartNeeded -ne 'No'
    }
    $feature = Get-WindowsOptionalFeature -Online -FeatureName $Name
    if ($feature.State -eq 'Enabled') { return $false }
    if ($feature.State -eq 'EnablePending') { return $true }
    Write-Host "Enabling the Windows feature $Name"
    $result = Enable-WindowsOptionalFeature -Online -FeatureName $Name -All -NoRestart
    return [bool]$result.RestartNeeded
}

# Install-Binary copies a binary of the zip to InstallDir. A running
# executable cannot be overwritten but can be renamed: wincri-logger.exe
# runs for as long as its container does.
function Install-Binary([string] $Name) {
    $source = Join-Path $PSScriptRoot $Name
    $target = Join-Path $InstallDir $Name
    if ((Resolve-Path -LiteralPath $source).Path -eq $target) { return }
    if (Test-Path -LiteralPath $target) {
        $old = "$Name.$([DateTime]::UtcNow.Ticks).old"
        Rename-Item -LiteralPath $target -NewName $old
        Remove-Item -LiteralPath (Join-Path $InstallDir $old) -Force -ErrorAction SilentlyContinue
    }
    Copy-Item -LiteralPath $source -Destination $target
}

# New-Folder creates a folder only SYSTEM and Administrators may change:
# the service runs as SYSTEM what these folders hold or name (binaries,
# config.toml, CNI plugins). A folder that exists keeps its permissions.
function New-Folder([string] $Path) {
    if (Test-Path -LiteralPath $Path) { return }
    New-Item -ItemType Directory -Force -Path $Path | Out-Null
    & icacls.exe $Path /inheritance:r /grant:r '*S-1-5-18:(OI)(CI)F' '*S-1-5-32-544:(OI)(CI)F' | Out-Null
    if ($LASTEXITCODE -ne 0) { throw "icacls.exe could not restrict $Path to SYSTEM and Administrators." }
}

# Test-Pipe reports whether a named pipe exists. Listing the pipes, unlike
# Test-Path, does not connect to them; when .NET refuses a pipe's name and
# cannot list them, Test-Path does.
function Test-Pipe([string] $Path) {
    try {
        return @([IO.Directory]::GetFiles('\\.\pipe\')) -contains $Path
    } catch {
        return Test-Path -LiteralPath $Path
    }
}

# --- Checks, before anything changes ----------------------------------------

if ([Environment]::OSVersion.Version.Build -lt 17763) {
    throw "wincri needs Windows Server 2019 (build 17763) or later; this is build $([Environment]::OSVersion.Version.Build)."
}
foreach ($name in $binaries + 'config.toml') {
    if (-not (Test-Path -LiteralPath (Join-Path $PSScriptRoot $name))) {
        throw "$name is missing beside this script: run it from the unpacked release zip."
    }
}

if (-not $ShimPath) {
    $ShimPath = Join-Path $InstallDir $shimName
    if (-not (Test-Path -LiteralPath $ShimPath)) {
        $found = Get-Command -Name $shimName -CommandType Application -ErrorAction SilentlyContinue | Select-Object -First 1
        if ($found) { $ShimPath = $found.Path }
    }
}
$getShim = "Get containerd-shim-runhcs-v1.exe of hcsshim $shimVersion (in containerd's Windows release of the matching version, or built from hcsshim $shimVersion ./cmd/containerd-shim-runhcs-v1), place it in $InstallDir (create the folder) and run this script again."
if (-not (Test-Path -LiteralPath $ShimPath)) {
    throw "The runhcs shim was found neither in $InstallDir nor in PATH. $getShim"
}
$ShimPath = (Resolve-Path -LiteralPath $ShimPath).Path
Write-Host "Checking the shim $ShimPath"
$code = Invoke-Native (Join-Path $PSScriptRoot 'wincri.exe') @('shim-version', $ShimPath)
if ($code -ne 0) {
    if (-not $SkipShimCheck) {
        throw "The shim $ShimPath is not the one wincri is tested with (exit code $code, above). $getShim Or pass -SkipShimCheck to install anyway."
    }
    Write-Warning "The shim $ShimPath is not hcsshim $shimVersion's: installing anyway (-SkipShimCheck)."
}

# --- Windows features ---------------------------------------------------------

$features = @('Containers')
if (-not $NoHyperV) {
    # The Hyper-V role is "Hyper-V" to Install-WindowsFeature and
    # "Microsoft-Hyper-V" to Enable-WindowsOptionalFeature.
    if (Test-WindowsServer) { $features += 'Hyper-V' } else { $features += 'Microsoft-Hyper-V' }
}
$restart = $false
foreach ($name in $features) {
    try {
        if (Enable-Feature $name) { $restart = $true }
    } catch {
        throw "Could not enable the Windows feature ${name}: $_ (on a virtual machine without nested virtualization, run with -NoHyperV)"
    }
}
if ($restart) {
    Write-Warning "Windows features were enabled ($($features -join ', ')): restart the computer (Restart-Computer), then run this script again."
    exit 3010 # ERROR_SUCCESS_REBOOT_REQUIRED
}

# --- Files --------------------------------------------------------------------

foreach ($dir in @($InstallDir, $DataDir, "$DataDir\root", "$DataDir\state", 'C:\opt\cni\bin', 'C:\etc\cni\net.d')) {
    New-Folder $dir
}

# The service runs wincri.exe: stop it, and unregister it to register it
# with this release's command line below.
if (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue) {
    Write-Host "Stopping and unregistering the service $ServiceName"
    Stop-Service -Name $ServiceName
    $code = Invoke-Native (Join-Path $PSScriptRoot 'wincri.exe') @('--unregister-service', '--service-name', $ServiceName)
    if ($code -ne 0) { throw "wincri.exe --unregister-service failed (exit code $code, above)." }
    $deadline = (Get-Date).AddSeconds(30)
    while (Get-Service -Name $ServiceName -ErrorAction SilentlyContinue) {
        if ((Get-Date) -gt $deadline) {
            throw "The service $ServiceName is still marked for deletion: close the Services console and run this script again."
        }
        Start-Sleep -Milliseconds 500
    }
}

Write-Host "Copying $($binaries -join ', ') to $InstallDir"
# Binaries an earlier run renamed while they were running.
Get-ChildItem -LiteralPath $InstallDir -Filter '*.old' | Remove-Item -Force -ErrorAction SilentlyContinue
foreach ($name in $binaries) { Install-Binary $name }
# wincri finds its shim in PATH or beside wincri.exe: a shim given
# elsewhere is copied beside it.
$installedShim = Join-Path $InstallDir $shimName
if ($ShimPath -ne $installedShim -and -not (Get-Command -Name $shimName -CommandType Application -ErrorAction SilentlyContinue)) {
    Write-Host "Copying $ShimPath to $InstallDir"
    Copy-Item -LiteralPath $ShimPath -Destination $installedShim -Force
}

if (Test-Path -LiteralPath $configPath) {
    Write-Host "Keeping the configuration $configPath"
} else {
    Write-Host "Writing the default configuration $configPath"
    Copy-Item -LiteralPath (Join-Path $PSScriptRoot 'config.toml') -Destination $configPath
}

# wincri looks its shim up in PATH, then beside wincri.exe; PATH is for
# the consoles that run crictl.exe. The registry keeps PATH unexpanded
# (%SystemRoot%...): it is read and written as it is, since
# [Environment]::SetEnvironmentVariable would store it expanded.
$envKey = 'HKLM:\SYSTEM\CurrentControlSet\Control\Session Manager\Environment'
$machinePath = (Get-Item -Path $envKey).GetValue('Path', '', 'DoNotExpandEnvironmentNames')
$entries = @($machinePath -split ';' | Where-Object { $_ })
if ($entries -notcontains $InstallDir -and $entries -notcontains "$InstallDir\") {
    Write-Host "Adding $InstallDir to the machine PATH"
    Set-ItemProperty -Path $envKey -Name 'Path' -Value (($entries + $InstallDir) -join ';') -Type ExpandString
    # Setting and removing a variable announces the change
    # (WM_SETTINGCHANGE), so that new consoles see the new PATH.
    [Environment]::SetEnvironmentVariable('WINCRI_INSTALL', '1', 'Machine')
    [Environment]::SetEnvironmentVariable('WINCRI_INSTALL', $null, 'Machine')
    $env:Path = "$env:Path;$InstallDir"
}

# --- Microsoft Defender -------------------------------------------------------

if (Get-Command -Name Add-MpPreference -ErrorAction SilentlyContinue) {
    $paths = @($DataDir, "$DataDir\root", "$DataDir\state")
    $processes = @((Join-Path $InstallDir 'wincri.exe'), (Join-Path $InstallDir 'wincri-logger.exe'), $ShimPath)
    try {
        $current = Get-MpPreference
        # Record only what was not excluded before, so that uninstalling
        # leaves the exclusions of others; keep what an earlier run added.
        $added = @{ ExclusionPath = @(); ExclusionProcess = @() }
        if (Test-Path -LiteralPath $exclusionsRecord) {
            $record = Get-Content -Raw -LiteralPath $exclusionsRecord | ConvertFrom-Json
            $added.ExclusionPath = @($record.ExclusionPath)
            $added.ExclusionProcess = @($record.ExclusionProcess)
        }
        $added.ExclusionPath += @($paths | Where-Object { @($current.ExclusionPath) -notcontains $_ })
        $added.ExclusionProcess += @($processes | Where-Object { @($current.ExclusionProcess) -notcontains $_ })
        Write-Host 'Adding Microsoft Defender exclusions'
        Add-MpPreference -ExclusionPath $paths -ExclusionProcess $processes
        $added | ConvertTo-Json | Set-Content -LiteralPath $exclusionsRecord -Encoding ASCII
    } catch {
        Write-Warning "Microsoft Defender exclusions were not added: $_"
    }
} else {
    Write-Warning 'Microsoft Defender cmdlets are absent: no exclusions added. Exclude these from any other scanner:'
    Write-Warning "  folders $DataDir\root, $DataDir\state; processes wincri.exe, wincri-logger.exe, $ShimPath"
}

# --- Service ------------------------------------------------------------------

$wincri = Join-Path $InstallDir 'wincri.exe'
$register = @('--register-service', '--service-name', $ServiceName, '--config', $configPath, '--root', "$DataDir\root", '--state', "$DataDir\state", '--log-file', $logPath, '--listen', $endpoint)
Write-Host "Registering the service ${ServiceName}: `"$wincri`" $($register -join ' ')"
$code = Invoke-Native $wincri $register
if ($code -ne 0) { throw "wincri.exe --register-service failed (exit code $code, above)." }

Write-Host "Starting the service $ServiceName"
try {
    Start-Service -Name $ServiceName
} catch {
    throw "The service $ServiceName did not start: $_ See $logPath and the Application event log (source $ServiceName)."
}
$pipe = "\\.\pipe\$ServiceName"
$deadline = (Get-Date).AddSeconds(60)
while (-not (Test-Pipe $pipe)) {
    if ((Get-Service -Name $ServiceName).Status -eq 'Stopped' -or (Get-Date) -gt $deadline) {
        throw "wincri did not open $pipe. See $logPath and the Application event log (source $ServiceName)."
    }
    Start-Sleep -Milliseconds 500
}

# --- crictl -------------------------------------------------------------------

# crictl reads %USERPROFILE%\.crictl\crictl.yaml, else crictl.yaml beside
# crictl.exe (for every other account). A file someone else wrote stays.
$crictlConfig = "$crictlMarker`r`nruntime-endpoint: $endpoint`r`nimage-endpoint: $endpoint`r`n"
Set-Content -LiteralPath (Join-Path $InstallDir 'crictl.yaml') -Value $crictlConfig -Encoding ASCII -NoNewline
$userConfig = Join-Path $env:USERPROFILE '.crictl\crictl.yaml'
if (-not (Test-Path -LiteralPath $userConfig) -or (Get-Content -LiteralPath $userConfig -TotalCount 1) -eq $crictlMarker) {
    New-Item -ItemType Directory -Force -Path (Split-Path -Parent $userConfig) | Out-Null
    Set-Content -LiteralPath $userConfig -Value $crictlConfig -Encoding ASCII -NoNewline
} else {
    Write-Warning "$userConfig is not this installer's: crictl uses its endpoints. wincri's: $endpoint"
}

# --- Next steps ---------------------------------------------------------------

$runtimeClasses = @'
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: process}
handler: process
'@
if (-not $NoHyperV) {
    $runtimeClasses += @'

---
apiVersion: node.k8s.io/v1
kind: RuntimeClass
metadata: {name: hyperv}
handler: hyperv
overhead:
  podFixed: {memory: 1100Mi, cpu: 100m}   # the utility VM: its memory (1024 MB by default) + 76Mi
'@
}

Write-Host @"

wincri is running: service $ServiceName, endpoint $endpoint, log $logPath.
Check it with:  crictl.exe version; crictl.exe info

kubelet: in its KubeletConfiguration (--config)
  containerRuntimeEndpoint: $endpoint
  imageServiceEndpoint: $endpoint
  runtimeRequestTimeout: 2m
or as flags: --container-runtime-endpoint=$endpoint --runtime-request-timeout=2m

RuntimeClasses for the cluster (kubectl apply -f -):
$runtimeClasses
"@
if ($NoHyperV -and -not (Test-WindowsServer)) {
    Write-Warning "On client Windows, pods without a runtimeClassName use hyperv: set default_runtime = `"process`" in $configPath and restart the service."
}
