/* Private: growing an owned array by doubling, the one way we do it. */
#ifndef CERTSKEW_GROW_H
#define CERTSKEW_GROW_H

#include <stddef.h>

/* Makes *items (an array of elem_size-byte elements with room for *cap)
 * hold at least need elements, doubling from first_cap. On failure *items
 * and *cap are unchanged and CS_ENOMEM is returned. */
int cs_grow(void **items, size_t *cap, size_t need, size_t elem_size, size_t first_cap);

#endif
