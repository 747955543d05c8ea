/* Subcommand dispatch for the certskew executable. */
#ifndef CERTSKEW_PROXY_CLI_H
#define CERTSKEW_PROXY_CLI_H

/* Runs the command line; returns the process exit status. */
int cs_cli_main(int argc, char **argv);

#endif
