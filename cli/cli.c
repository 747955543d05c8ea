/*
 * certskew's command line: a table of subcommands, each with its own file
 * (cmd_<name>.c) exposing `int cs_cmd_<name>(int argc, char **argv)`.
 */
#include "cli.h"

#include <stdio.h>
#include <string.h>

#include "cli_commands.h"

static const cs_command_t *find_command(const char *name) {
  for (const cs_command_t *c = cs_commands; c->name != NULL; c++)
    if (strcmp(c->name, name) == 0)
      return c;
  return NULL;
}

static void usage(FILE *out) {
  fprintf(out,
          "usage: certskew COMMAND [ARGS...]\n"
          "\n"
          "Why does this freshly issued TLS certificate fail for some clients, and at which\n"
          "client clocks?\n"
          "\n"
          "commands:\n");
  for (const cs_command_t *c = cs_commands; c->name != NULL; c++)
    fprintf(out, "  %-10s %s\n", c->name, c->summary);
  fprintf(out, "\nRun 'certskew COMMAND --help' for a command's options.\n");
}

int cs_cli_main(int argc, char **argv) {
  if (argc < 2) {
    usage(stderr);
    return 2;
  }
  if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 || strcmp(argv[1], "help") == 0) {
    usage(stdout);
    return 0;
  }
  if (strcmp(argv[1], "--version") == 0) {
    printf("certskew 0.1.0\n");
    return 0;
  }
  const cs_command_t *cmd = find_command(argv[1]);
  if (cmd == NULL) {
    fprintf(stderr, "certskew: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
  }
  return cmd->run(argc - 1, argv + 1);
}
