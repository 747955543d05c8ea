/* Keeps certskew_lab a valid library before the lab has other sources. */
#include "certskew/core/error.h"

int cs_lab_api_version(void);
int cs_lab_api_version(void) { return 1; }
