#ifndef GATEWAY_CPCRE2_SHIM_H
#define GATEWAY_CPCRE2_SHIM_H
/* PCRE2 needs the code unit width before its header; we scan UTF-8. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

/* Cast-expression macros Swift cannot import. */
static const PCRE2_SIZE CPCRE2_ZERO_TERMINATED = PCRE2_ZERO_TERMINATED;
static const PCRE2_SIZE CPCRE2_UNSET = PCRE2_UNSET;
#endif
