/* `certskew clocks`: the named profiles and the model syntax. */
#include <stdio.h>
#include <string.h>

#include "certskew/clients/profile.h"
#include "certskew/core/clock.h"
#include "cli_commands.h"

int cs_cmd_clocks(int argc, char **argv) {
  if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
    printf("usage: certskew clocks\n\nLists the named clock profiles and the model syntax.\n");
    return 0;
  }
  if (argc > 1) {
    fprintf(stderr, "certskew clocks: unexpected argument '%s' (it takes none; see --help)\n",
            argv[1]);
    return 2;
  }
  printf("Clock model syntax (steps applied left to right, separated by ','):\n"
         "  -90s, +2h, skew:-300ms      offset: a slow (-) or fast (+) clock\n"
         "  trunc:1s, trunc:1m, day     truncate down to a unit (whole seconds, minutes, days)\n"
         "  ceil:1s                     round up to a unit\n"
         "  fixed:TIME                  stopped clock (device with no RTC)\n"
         "  boot:TIME@TRUE              device that set its clock to TIME at true time TRUE\n"
         "  e.g. skew:-2s,trunc:1s      2 s slow, read in whole seconds\n\n"
         "Profiles:\n");
  for (const cs_clock_profile_t *p = cs_clock_profiles(); p->name != NULL; p++)
    printf("  %-13s %-28s %s\n", p->name, p->model, p->description);
  printf("\nClient profiles (--client NAME[:MODEL]; MODEL skews that client; see "
         "docs/clients.md):\n");
  for (const cs_client_profile_t *p = cs_client_profiles(); p->name != NULL; p++)
    printf("  %-14s certificates %-9s SCTs %-9s %s\n", p->name, p->cert_clock,
           p->ct == CS_CT_NONE ? "-" : p->sct_clock, p->description);
  return 0;
}
