#ifndef WARDEN_CPCRE2_SHIM_H
#define WARDEN_CPCRE2_SHIM_H

// Warden matches UTF-8 text only; the width must be fixed before the header.
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

// PCRE2_ZERO_TERMINATED and PCRE2_UNSET are ~(size_t)0 macros that Swift cannot import.
static inline size_t warden_pcre2_zero_terminated(void) { return PCRE2_ZERO_TERMINATED; }
static inline size_t warden_pcre2_unset(void) { return PCRE2_UNSET; }

#endif
