#include "base/adler32.h"

#include <stdbool.h>
#include <zlib.h>

#define ADLER_MOD 65521u

static uint32_t adler_zlib(uint32_t adler, const uint8_t *p, size_t n)
{
	while (n) {
		uInt k = n > (1u << 30) ? (1u << 30) : (uInt)n;
		adler = (uint32_t)adler32(adler, p, k);
		p += k;
		n -= k;
	}
	return adler;
}

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>

static bool have_avx2;

__attribute__((constructor)) static void adler32_init(void)
{
	__builtin_cpu_init();
	have_avx2 = __builtin_cpu_supports("avx2");
}

/* With s1, s2 the running sums: a block of 32 bytes b_0..b_31 adds
 * sum(b_i) to s1 and 32 * s1 + sum((32 - i) * b_i) to s2. Per chunk of
 * CHUNK_BLOCKS blocks the vectors hold the byte sums (v1), the weighted
 * sums (v2) and the sum of v1 before each block (vprev, times 32 into s2);
 * 128 blocks keep every 32-bit lane below 2^32; then both sums go mod. */
#define CHUNK_BLOCKS 128

__attribute__((target("avx2"))) static uint32_t hsum32(__m256i v)
{
	__m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
	s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
	return (uint32_t)_mm_cvtsi128_si32(s);
}

__attribute__((target("avx2"))) static uint32_t adler_avx2(uint32_t adler, const uint8_t *p,
							   size_t n)
{
	uint64_t s1 = adler & 0xFFFF, s2 = adler >> 16;
	const __m256i w = _mm256_setr_epi8(32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19,
					   18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3,
					   2, 1);
	const __m256i ones = _mm256_set1_epi16(1);
	const __m256i zero = _mm256_setzero_si256();
	while (n >= 32) {
		size_t nb = n / 32 < CHUNK_BLOCKS ? n / 32 : CHUNK_BLOCKS;
		__m256i v1 = zero, v2 = zero, vprev = zero;
		for (size_t i = 0; i < nb; i++) {
			__m256i x = _mm256_loadu_si256((const __m256i *)(const void *)(p + 32 * i));
			vprev = _mm256_add_epi32(vprev, v1);
			v1 = _mm256_add_epi32(v1, _mm256_sad_epu8(x, zero));
			v2 = _mm256_add_epi32(v2, _mm256_madd_epi16(_mm256_maddubs_epi16(x, w), ones));
		}
		v2 = _mm256_add_epi32(v2, _mm256_slli_epi32(vprev, 5));
		s2 = (s2 + s1 * 32 * nb + hsum32(v2)) % ADLER_MOD;
		s1 = (s1 + hsum32(v1)) % ADLER_MOD;
		p += 32 * nb;
		n -= 32 * nb;
	}
	while (n--) {
		s1 += *p++;
		s2 += s1;
	}
	return (uint32_t)(((s2 % ADLER_MOD) << 16) | (s1 % ADLER_MOD));
}
#endif

uint32_t adler32_update(uint32_t adler, const void *data, size_t n)
{
	const uint8_t *p = data;
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
	if (have_avx2 && n >= 64)
		return adler_avx2(adler, p, n);
#endif
	return adler_zlib(adler, p, n);
}
