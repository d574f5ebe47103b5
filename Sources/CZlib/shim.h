#ifndef GATEWAY_CZLIB_SHIM_H
#define GATEWAY_CZLIB_SHIM_H
#include <zlib.h>

/* inflateInit2 is a macro over inflateInit2_ with version and struct size. */
static inline int CZlib_inflateInit2(z_streamp stream, int windowBits) {
    return inflateInit2(stream, windowBits);
}

/* deflateInit2 is a macro over deflateInit2_ as well; used to produce gzip bodies (tests, benchmarks). */
static inline int CZlib_deflateInit2(z_streamp stream, int level, int windowBits) {
    return deflateInit2(stream, level, Z_DEFLATED, windowBits, 8, Z_DEFAULT_STRATEGY);
}
#endif
