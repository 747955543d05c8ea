/* Array growth (see grow.h). */
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>

#include "certskew/core/error.h"

int cs_grow(void **items, size_t *cap, size_t need, size_t elem_size, size_t first_cap) {
  if (need <= *cap)
    return 0;
  size_t new_cap = *cap ? *cap : first_cap;
  while (new_cap < need) {
    if (new_cap > SIZE_MAX / 2)
      return CS_ENOMEM;
    new_cap *= 2;
  }
  if (elem_size != 0 && new_cap > SIZE_MAX / elem_size)
    return CS_ENOMEM;
  void *p = realloc(*items, new_cap * elem_size);
  if (p == NULL)
    return CS_ENOMEM;
  *items = p;
  *cap = new_cap;
  return 0;
}
