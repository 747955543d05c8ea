/* The subcommand table (see cli_commands.h). */
#include "cli_commands.h"

#include <stddef.h>

const cs_command_t cs_commands[] = {
    {"replay", "replay validation of a chain (PEM/DER file) at chosen client clocks", cs_cmd_replay},
    {"clocks", "list the named clock profiles and the clock model syntax", cs_cmd_clocks},
    {NULL, NULL, NULL},
};
