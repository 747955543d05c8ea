/* certskew: command-line entry point (subcommand dispatch lives in cli.c). */
#include "cli.h"

int main(int argc, char **argv) { return cs_cli_main(argc, argv); }
