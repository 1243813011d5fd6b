/* adler32: zlib's Adler-32 (what ZooKeeper's snapshot seal and txn log
 * entries carry), 32 bytes a step with AVX2 where the CPU has it (chosen at
 * start-up), else zlib's own. A big snapshot is summed whole on every load
 * and write (184 MB for 1M znodes: a tenth of a restart's CPU with zlib).
 * Bit-identical to adler32(): adler32_update(1, p, n) == adler32(1, p, n). */
#ifndef ZABD_BASE_ADLER32_H
#define ZABD_BASE_ADLER32_H
#include <stddef.h>
#include <stdint.h>

uint32_t adler32_update(uint32_t adler, const void *p, size_t n);

#endif
