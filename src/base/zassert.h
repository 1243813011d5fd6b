/* zassert: always-on assertions for programmer errors (never for bad input,
 * which is data and gets an error reply). A failed assertion means our own
 * state is wrong, and serving on could corrupt data, so we abort. */
#ifndef ZABD_BASE_ZASSERT_H
#define ZABD_BASE_ZASSERT_H

void zassert_fail(const char *expr, const char *file, int line) __attribute__((noreturn));
#define zassert(e) ((e) ? (void)0 : zassert_fail(#e, __FILE__, __LINE__))

#endif
