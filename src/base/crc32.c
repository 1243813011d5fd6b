#include "base/crc32.h"

#include <stdbool.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define CRC32_CLMUL 1
#endif

/* tab[0] is the classic byte table; tab[k][b] is the CRC of byte b followed
 * by k zero bytes, so eight input bytes fold into the register with eight
 * independent lookups. Filled once before main (a constructor), so no
 * caller ever races on it. */
static uint32_t tab[8][256];

__attribute__((constructor)) static void crc32_tables(void)
{
	for (uint32_t b = 0; b < 256; b++) {
		uint32_t c = b;
		for (int k = 0; k < 8; k++)
			c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
		tab[0][b] = c;
	}
	for (uint32_t b = 0; b < 256; b++)
		for (int k = 1; k < 8; k++)
			tab[k][b] = (tab[k - 1][b] >> 8) ^ tab[0][tab[k - 1][b] & 0xFF];
}

static uint64_t load_le64(const uint8_t *p)
{
	uint64_t v = 0;
	for (int i = 7; i >= 0; i--)
		v = (v << 8) | p[i];  /* compiles to one load on little-endian */
	return v;
}

/* The register form: c is the CRC register (not inverted). */
static uint32_t crc_tables(uint32_t c, const uint8_t *p, size_t n)
{
	while (n >= 8) {
		uint64_t v = load_le64(p) ^ c;
		c = tab[7][v & 0xFF] ^ tab[6][(v >> 8) & 0xFF] ^ tab[5][(v >> 16) & 0xFF] ^
		    tab[4][(v >> 24) & 0xFF] ^ tab[3][(v >> 32) & 0xFF] ^ tab[2][(v >> 40) & 0xFF] ^
		    tab[1][(v >> 48) & 0xFF] ^ tab[0][v >> 56];
		p += 8;
		n -= 8;
	}
	while (n--)
		c = (c >> 8) ^ tab[0][(c ^ *p++) & 0xFF];
	return c;
}

#ifdef CRC32_CLMUL
/* Carry-less multiply folding, 16 bytes a step. In the reflected bit order
 * a 16-byte block X is X_hi * x^64 + X_lo with X_hi in its first 8 bytes
 * (the low lane). Moving X past the next block multiplies it by x^128, and
 * mod P that is X_hi * (x^192 mod P) + X_lo * (x^128 mod P), a polynomial
 * of degree < 96, which is XORed into the next block. The 127-bit product
 * of two reflected 64-bit operands sits one place off the 128-bit frame
 * (its bit k is the coefficient of x^(126-k), the frame's is x^(127-k)),
 * which the constants absorb as a factor x^-1: x^191 and x^127 mod P.
 * What remains after the last block is reduced by the tables (its CRC
 * from a zero register). */
static bool have_clmul;
static uint64_t k_hi, k_lo;  /* bitrev64(x^191 mod P), bitrev64(x^127 mod P) */

static uint64_t xpow_mod(unsigned e)
{
	uint64_t r = 1;  /* normal (unreflected) order, P = 0x104C11DB7 */
	for (unsigned i = 0; i < e; i++) {
		r <<= 1;
		if (r & (UINT64_C(1) << 32))
			r ^= UINT64_C(0x104C11DB7);
	}
	return r;
}

static uint64_t bitrev64(uint64_t v)
{
	uint64_t r = 0;
	for (int i = 0; i < 64; i++)
		r |= ((v >> i) & 1) << (63 - i);
	return r;
}

__attribute__((constructor)) static void crc32_clmul_init(void)
{
	__builtin_cpu_init();
	have_clmul = __builtin_cpu_supports("pclmul") && __builtin_cpu_supports("sse4.1");
	k_hi = bitrev64(xpow_mod(191));
	k_lo = bitrev64(xpow_mod(127));
}

/* n: a multiple of 16, at least 32. */
__attribute__((target("pclmul,sse4.1"))) static uint32_t crc_clmul(uint32_t c, const uint8_t *p,
								  size_t n)
{
	const __m128i k = _mm_set_epi64x((long long)k_lo, (long long)k_hi);
	__m128i x = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(const void *)p),
				  _mm_cvtsi32_si128((int)c));
	for (size_t i = 16; i < n; i += 16) {
		__m128i next = _mm_loadu_si128((const __m128i *)(const void *)(p + i));
		__m128i a = _mm_clmulepi64_si128(x, k, 0x00);
		__m128i b = _mm_clmulepi64_si128(x, k, 0x11);
		x = _mm_xor_si128(_mm_xor_si128(a, b), next);
	}
	uint8_t rest[16];
	_mm_storeu_si128((__m128i *)(void *)rest, x);
	return crc_tables(0, rest, 16);
}
#endif

uint32_t crc32_update(uint32_t crc, const void *data, size_t n)
{
	const uint8_t *p = data;
	uint32_t c = ~crc;
#ifdef CRC32_CLMUL
	if (n >= 32 && have_clmul) {
		size_t bulk = n & ~(size_t)15;
		c = crc_clmul(c, p, bulk);
		p += bulk;
		n -= bulk;
	}
#endif
	return ~crc_tables(c, p, n);
}
