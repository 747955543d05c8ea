/*
 * The table of subcommands. Adding a command: write cmd_<name>.c with
 * cs_cmd_<name>, declare it here and add one row in cli_commands.c.
 */
#ifndef CERTSKEW_PROXY_CLI_COMMANDS_H
#define CERTSKEW_PROXY_CLI_COMMANDS_H

typedef struct cs_command {
  const char *name;
  const char *summary;
  int (*run)(int argc, char **argv); /* argv[0] is the command name */
} cs_command_t;

extern const cs_command_t cs_commands[]; /* terminated by a NULL name */

int cs_cmd_replay(int argc, char **argv);
int cs_cmd_clocks(int argc, char **argv);
int cs_cmd_proxy(int argc, char **argv);
int cs_cmd_ca(int argc, char **argv);
int cs_cmd_diagnose(int argc, char **argv);
int cs_cmd_scan(int argc, char **argv);
int cs_cmd_lab(int argc, char **argv);
int cs_cmd_repro(int argc, char **argv);
int cs_cmd_crl_diff(int argc, char **argv);
int cs_cmd_crl_shards(int argc, char **argv);

#endif
