/* `certskew ca path|export`: the local CA the proxy signs leaves with. */
#include <stdio.h>
#include <string.h>

#include "certskew/proxy/ca.h"
#include "cli_commands.h"
#include "cmd_args.h"
#include "certskew/store/fs.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: certskew ca path|export [--home DIR]\n"
          "\n"
          "The per-install local CA (ECDSA P-256) that signs the certificates the proxy\n"
          "shows your browser. It is generated on first use in $CERTSKEW_HOME, else\n"
          "$XDG_DATA_HOME/certskew, else ~/.local/share/certskew (key file mode 0600).\n"
          "\n"
          "  path     print the path of the CA certificate (ca.pem)\n"
          "  export   print the CA certificate (PEM) to stdout, to import into a browser\n"
          "           or pass to curl --proxy-cacert/--cacert\n"
          "  --home DIR   use DIR instead of the default directory\n");
}

int cs_cmd_ca(int argc, char **argv) {
  const char *action = NULL, *home = NULL;
  for (int i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    }
    if (strcmp(argv[i], "--home") == 0) {
      if ((home = cs_cmd_value(argc, argv, &i, "ca")) == NULL)
        return 2;
    } else if (action == NULL && (strcmp(argv[i], "path") == 0 || strcmp(argv[i], "export") == 0)) {
      action = argv[i];
    } else {
      fprintf(stderr, "certskew ca: unexpected argument '%s' (see --help)\n", argv[i]);
      return 2;
    }
  }
  if (action == NULL) {
    usage(stderr);
    return 2;
  }
  char dir[4096];
  if (home != NULL) {
    snprintf(dir, sizeof dir, "%s", home);
  } else if (cs_ca_home_dir(dir, sizeof dir) != 0) {
    fprintf(stderr, "certskew ca: no home directory: set CERTSKEW_HOME or HOME\n");
    return 1;
  }
  cs_ca_t *ca = NULL;
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  if (cs_ca_open(&ca, dir, 1, cs_fs_now_ms(), &eb) != 0) {
    fprintf(stderr, "certskew ca: %s\n", eb.msg);
    return 1;
  }
  if (strcmp(action, "path") == 0)
    printf("%s\n", cs_ca_cert_path(ca));
  else
    fputs(cs_ca_cert_pem(ca), stdout);
  cs_ca_free(ca);
  return 0;
}
