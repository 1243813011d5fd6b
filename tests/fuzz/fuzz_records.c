/* fuzz_records: every generated jute record decoded from the same random
 * bytes. A decode must never crash or read out of bounds; when it succeeds,
 * the record re-encodes to exactly the bytes it consumed in length, its
 * _size() agrees, and decoding the re-encoding gives the same bytes again
 * (booleans may normalise to 0/1 once, nothing else may change). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "base/arena.h"
#include "base/buf.h"
#include "jute/jute.h"
#include "jute/records.h"

#define MAX_LEN 1048575

static struct arena arena;
static struct buf enc1, enc2;

#define REC(n)                                                                   \
	static void fuzz_##n(const uint8_t *d, size_t len)                       \
	{                                                                        \
		struct jute_reader r;                                            \
		struct jr_##n v;                                                 \
		memset(&v, 0, sizeof v);                                         \
		jute_reader_init(&r, d, len, MAX_LEN, &arena);                   \
		if (jr_##n##_decode(&r, &v) != 0)                                \
			return;                                                  \
		if (r.pos > len)                                                 \
			abort();                                                 \
		enc1.len = 0;                                                    \
		jr_##n##_encode(&enc1, &v);                                      \
		if (enc1.len != r.pos || enc1.len != jr_##n##_size(&v))          \
			abort();                                                 \
		struct jr_##n w;                                                 \
		memset(&w, 0, sizeof w);                                         \
		jute_reader_init(&r, enc1.data, enc1.len, MAX_LEN, &arena);      \
		if (jr_##n##_decode(&r, &w) != 0 || r.pos != enc1.len)           \
			abort();                                                 \
		enc2.len = 0;                                                    \
		jr_##n##_encode(&enc2, &w);                                      \
		if (enc2.len != enc1.len ||                                      \
		    (enc1.len && memcmp(enc1.data, enc2.data, enc1.len) != 0))   \
			abort();                                                 \
	}
#include "fuzz_record_list.h"
#undef REC

typedef void (*fuzz_fn)(const uint8_t *d, size_t len);

static const fuzz_fn fns[] = {
#define REC(n) fuzz_##n,
#include "fuzz_record_list.h"
#undef REC
};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (size_t i = 0; i < sizeof fns / sizeof fns[0]; i++) {
		fns[i](data, size);
		arena_reset(&arena);
	}
	return 0;
}
