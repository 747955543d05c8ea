/* Revocation test helpers (revocation_fixtures.h). */
#include "revocation_fixtures.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;




int rv_sh(const char *dir, const char *cmd) {
  size_t n = strlen(dir) * 2 + strlen(cmd) + 64;
  char *full = malloc(n); /* freed below */
  if (full == NULL)
    return -1;
  snprintf(full, n, "cd '%s' && { %s ; } >>'%s/log' 2>&1", dir, cmd, dir);
  int st = system(full);
  free(full);
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int rv_read(const char *dir, const char *name, uint8_t **buf, size_t *len) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  FILE *f = fopen(path, "rb");
  if (f == NULL)
    return -1;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  rewind(f);
  *buf = malloc(n > 0 ? (size_t)n : 1); /* caller frees */
  int ok = *buf != NULL && n >= 0 && fread(*buf, 1, (size_t)n, f) == (size_t)n;
  fclose(f);
  if (!ok) {
    free(*buf);
    return -1;
  }
  *len = (size_t)n;
  return 0;
}

int rv_free_port(void) {
  int s = socket(AF_INET, SOCK_STREAM, 0);
  if (s < 0)
    return -1;
  struct sockaddr_in a;
  memset(&a, 0, sizeof(a));
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t al = sizeof(a);
  int port = -1;
  if (bind(s, (struct sockaddr *)&a, sizeof(a)) == 0 &&
      getsockname(s, (struct sockaddr *)&a, &al) == 0)
    port = ntohs(a.sin_port);
  close(s);
  return port;
}

static int log_has(const char *dir, const char *name, const char *ready) {
  char file[300];
  snprintf(file, sizeof(file), "%s.log", name);
  uint8_t *buf;
  size_t len;
  if (rv_read(dir, file, &buf, &len) != 0)
    return 0;
  int found = 0;
  for (size_t i = 0; !found && i + strlen(ready) <= len; i++)
    found = memcmp(buf + i, ready, strlen(ready)) == 0;
  free(buf);
  return found;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

void rv_kill(pid_t pid) {
  if (pid <= 0)
    return;
  kill(pid, SIGTERM);
  for (int i = 0; i < 100; i++) { /* at most 2 s */
    if (waitpid(pid, NULL, WNOHANG) == pid)
      return;
    sleep_ms(20);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
}

pid_t rv_spawn_server(const char *dir, const char *name, const char *cmd, const char *ready,
                      int timeout_ms) {
  char full[2048];
  snprintf(full, sizeof(full), "cd '%s' && exec %s >'%s.log' 2>&1 </dev/null", dir, cmd, name);
  char *argv[] = {"/bin/sh", "-c", full, NULL};
  pid_t pid;
  if (posix_spawn(&pid, "/bin/sh", NULL, NULL, argv, environ) != 0)
    return -1;
  for (int waited = 0; waited < timeout_ms; waited += 25) {
    if (log_has(dir, name, ready))
      return pid;
    if (waitpid(pid, NULL, WNOHANG) == pid)
      return -1; /* exited early: e.g. the port was taken; caller retries */
    sleep_ms(25);
  }
  rv_kill(pid);
  return -1;
}

int rv_load_crt(const char *dir, const char *name, mbedtls_x509_crt *crt) {
  char path[512];
  snprintf(path, sizeof(path), "%s/%s", dir, name);
  mbedtls_x509_crt_init(crt);
  return mbedtls_x509_crt_parse_file(crt, path) == 0 ? 0 : -1;
}

static const char CA_CNF[] =
    "[ ca ]\ndefault_ca = CA_default\n[ CA_default ]\ndir = .\ncertificate = ca.crt\n"
    "private_key = ca.key\ndatabase = index.txt\nnew_certs_dir = newcerts\nserial = serial\n"
    "crlnumber = crlnumber\ndefault_md = sha256\npolicy = policy_any\ndefault_days = 30\n"
    "default_crl_days = 7\nunique_subject = no\n[ policy_any ]\ncommonName = supplied\n"
    "[ leaf_ext ]\nbasicConstraints = CA:FALSE\n"
    "authorityInfoAccess = OCSP;URI:http://127.0.0.1:%d/,caIssuers;URI:http://127.0.0.1:%d/ca.der\n"
    "crlDistributionPoints = URI:http://127.0.0.1:%d/ca.crl\n"
    "[ ocsp_ext ]\nbasicConstraints = CA:FALSE\nextendedKeyUsage = OCSPSigning\n"
    "[ plain_ext ]\nbasicConstraints = CA:FALSE\nextendedKeyUsage = serverAuth\n";

int rv_make_pki(const char *dir, int http_port) {
  char path[512];
  snprintf(path, sizeof(path), "%s/ca.cnf", dir);
  FILE *f = fopen(path, "w");
  if (f == NULL)
    return -1;
  fprintf(f, CA_CNF, http_port, http_port, http_port);
  fclose(f);
  static const char *steps[] = {
      "mkdir -p newcerts && : > index.txt && echo 1000 > serial && echo 01 > crlnumber",
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout ca.key "
      "-out ca.crt -subj '/CN=RV Test CA' -days 365",
      "openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key -out other.crt "
      "-subj '/CN=RV Other CA' -days 365",
      "for n in good revoked ocsp badocsp; do openssl req -new -newkey ec -pkeyopt "
      "ec_paramgen_curve:P-256 -nodes -keyout $n.key -out $n.csr -subj /CN=$n.test || exit 1; done",
      "openssl ca -batch -config ca.cnf -extensions leaf_ext -in good.csr -out good.crt -notext",
      "openssl ca -batch -config ca.cnf -extensions leaf_ext -in revoked.csr -out revoked.crt -notext",
      "openssl ca -batch -config ca.cnf -extensions ocsp_ext -in ocsp.csr -out ocsp.crt -notext",
      "openssl ca -batch -config ca.cnf -extensions plain_ext -in badocsp.csr -out badocsp.crt -notext",
      "openssl ca -batch -config ca.cnf -revoke revoked.crt -crl_reason keyCompromise",
      "openssl x509 -req -in good.csr -CA ca.crt -CAkey ca.key -set_serial 0x7777 "
      "-out unknown.crt -days 30",
      "openssl x509 -req -in good.csr -CA other.crt -CAkey other.key -set_serial 0x1000 "
      "-out foreign.crt -days 30",
      "openssl ca -gencrl -config ca.cnf -out ca.crl.pem",
      "openssl crl -in ca.crl.pem -outform DER -out ca.crl",
      "openssl x509 -in ca.crt -outform DER -out ca.der",
  };
  for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
    int st = rv_sh(dir, steps[i]);
    if (st != 0) {
      fprintf(stderr, "PKI step failed (%d): %s\n", st, steps[i]);
      return st;
    }
  }
  return 0;
}

int rv_make_foreign_scalar_key(const char *dir, const char *key, const char *out) {
  char cmd[1400];
  snprintf(cmd, sizeof(cmd),
           "set -e\n"
           "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out foreign.key\n"
           "PUB=$(openssl pkey -in '%s' -pubout -outform DER | tail -c 65 | od -An -tx1 | "
           "tr -d ' \\n')\n"
           "PRIV=$(openssl pkey -in foreign.key -outform DER | openssl asn1parse -inform DER | "
           "sed -n 's/.*OCTET STRING *\\[HEX DUMP\\]://p' | tail -1)\n"
           "printf 'asn1=SEQUENCE:ec\\n[ec]\\nv=INTEGER:1\\nd=FORMAT:HEX,OCTETSTRING:%%s\\n"
           "p=EXP:0,OID:prime256v1\\npub=EXP:1,FORMAT:HEX,BITSTRING:%%s\\n' \"$PRIV\" \"$PUB\" "
           "> foreign.cnf\n"
           "openssl asn1parse -genconf foreign.cnf -noout -out foreign.der\n"
           "openssl pkey -inform DER -in foreign.der -out '%s'",
           key, out);
  return rv_sh(dir, cmd);
}
