/*
 * bcryptprimitives.dll for Wine 8, which lacks it: Go 1.26 Windows
 * binaries import bcryptprimitives.dll!ProcessPrng and die at start
 * without it. ProcessPrng fills the buffer from RtlGenRandom
 * (advapi32!SystemFunction036), Wine's CSPRNG. Built with
 * x86_64-w64-mingw32-gcc by the Wine suite (test/wine).
 */
#include <windows.h>
#include <ntsecapi.h>

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x40000000 ? 0x40000000 : (ULONG)len;
		if (!RtlGenRandom(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
