#include "base/crc32.h"

#include <string.h>

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

uint32_t crc32_update(uint32_t crc, const void *data, size_t n)
{
	const uint8_t *p = data;
	uint32_t c = ~crc;
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
	return ~c;
}
