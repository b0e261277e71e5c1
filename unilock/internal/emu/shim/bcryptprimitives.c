/*
 * bcryptprimitives.dll for Wine releases that lack ProcessPrng.
 *
 * Go 1.24 and newer take their random numbers from ProcessPrng in
 * bcryptprimitives.dll and stop at start ("bcryptprimitives.dll not found")
 * without it. Wine 8.0, Debian 12's, has no such DLL. This one answers
 * ProcessPrng from RtlGenRandom (advapi32's SystemFunction036), which Wine
 * has. It is for running tests under Wine only; real Windows has its own.
 *
 * unilock ports builds it with mingw-w64 into its Wine prefix.
 */
#include <windows.h>

#define RtlGenRandom SystemFunction036
BOOLEAN WINAPI RtlGenRandom(PVOID buf, ULONG len);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
	while (len > 0) {
		ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
		if (!RtlGenRandom(data, n))
			return FALSE;
		data += n;
		len -= n;
	}
	return TRUE;
}
