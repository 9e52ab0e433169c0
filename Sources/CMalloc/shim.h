#ifndef WARDEN_CMALLOC_SHIM_H
#define WARDEN_CMALLOC_SHIM_H

// glibc's malloc statistics (mallinfo2, malloc_trim), which Swift's Glibc module does not
// export: part of libc, nothing to link.
#include <malloc.h>

#endif
