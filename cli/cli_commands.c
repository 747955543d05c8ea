/* The subcommand table (see cli_commands.h). */
#include "cli_commands.h"

#include <stddef.h>

const cs_command_t cs_commands[] = {
    {"replay", "replay validation of a chain (PEM/DER file) at chosen client clocks", cs_cmd_replay},
    {"clocks", "list the named clock profiles and the clock model syntax", cs_cmd_clocks},
    {"proxy", "run the intercepting proxy on 127.0.0.1:8080 and capture served chains", cs_cmd_proxy},
    {"ca", "show or export the local CA the proxy signs with", cs_cmd_ca},
    {"diagnose", "capture and judge one server's chain without a browser", cs_cmd_diagnose},
    {"scan", "diagnose many hosts at once (host list in, one JSON line per host out)", cs_cmd_scan},
    {"lab", "serve a lab scenario (chain, SCTs, OCSP, CRL) on 127.0.0.1 to reproduce a skew bug", cs_cmd_lab},
    {"repro", "run reproduction scripts (lab scenario or chain, clocks, times, expectations)", cs_cmd_repro},
    {"crl-diff", "compare two CRLs of one issuer: serials added/removed, entries dropped before expiry", cs_cmd_crl_diff},
    {"crl-shards", "check an issuer's CRL shards: IDPs, serials in two shards, drift between runs", cs_cmd_crl_shards},
    {NULL, NULL, NULL},
};
