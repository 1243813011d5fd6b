/* crc32: the CRC-32 of zlib and java.util.zip.CRC32 (reflected polynomial
 * 0xEDB88320, initial and final XOR 0xFFFFFFFF): 16 bytes a step by
 * carry-less multiplication where the CPU has it (x86-64 PCLMULQDQ, chosen
 * at start-up), else eight bytes a step from eight 256-entry tables. The
 * tree digest (zookeeper-protocol.md §6.4) hashes every znode with it, three
 * short pieces per node; zlib 1.2.13's crc32 goes a byte at a time on pieces
 * that short, which made it a fifth of a big restart's CPU. Results are bit-identical to zlib's crc32():
 * crc32_update(0, p, n) == crc32(0, p, n), and updates chain the same way. */
#ifndef ZABD_BASE_CRC32_H
#define ZABD_BASE_CRC32_H
#include <stddef.h>
#include <stdint.h>

uint32_t crc32_update(uint32_t crc, const void *p, size_t n);

#endif
