/*
 * nameConstraints (RFC 5280 §4.2.1.10) of an issuing CA applied to the
 * leaf's subjectAltName dNSName and iPAddress entries, with OpenSSL's
 * matching rules (nc_dns / nc_ip in crypto/x509/v3_ncons.c): a DNS
 * constraint "example.com" covers that name and every name below it, a
 * constraint starting with "." only names below it; an IP constraint is an
 * address and a mask of the same family. Other name forms (directoryName,
 * rfc822Name, URI) are reported as not evaluated.
 */
#include "trust_internal.h"

#include <string.h>

#include <mbedtls/x509.h>

#include "trust_der.h"

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

static int suffix_ieq(const uint8_t *name, size_t name_len, const uint8_t *suf, size_t suf_len) {
  if (suf_len > name_len)
    return 0;
  const uint8_t *tail = name + name_len - suf_len;
  for (size_t i = 0; i < suf_len; i++)
    if (lower((char)tail[i]) != lower((char)suf[i]))
      return 0;
  return 1;
}

static int dns_in_subtree(const uint8_t *name, size_t name_len, const uint8_t *base,
                          size_t base_len) {
  if (base_len == 0)
    return 1; /* an empty constraint covers every name */
  if (!suffix_ieq(name, name_len, base, base_len))
    return 0;
  if (base[0] == '.')
    return name_len > base_len;
  return name_len == base_len || name[name_len - base_len - 1] == '.';
}

static int ip_in_subtree(const uint8_t *ip, size_t ip_len, const uint8_t *base, size_t base_len) {
  if (base_len != 2 * ip_len)
    return 0; /* another address family */
  const uint8_t *mask = base + ip_len;
  for (size_t i = 0; i < ip_len; i++)
    if ((ip[i] & mask[i]) != (base[i] & mask[i]))
      return 0;
  return 1;
}

typedef struct one_name {
  int tag; /* MBEDTLS_X509_SAN_DNS_NAME or _IP_ADDRESS */
  const uint8_t *val;
  size_t len;
  int has_permitted; /* a permitted subtree of the name's type exists */
  int in_permitted;
  int in_excluded;
  int unchecked;     /* a constraint of a type we do not evaluate */
} one_name_t;

static int on_subtree(void *ctx, int permitted, int tag, const uint8_t *val, size_t len) {
  one_name_t *n = ctx;
  if (tag != MBEDTLS_X509_SAN_DNS_NAME && tag != MBEDTLS_X509_SAN_IP_ADDRESS) {
    n->unchecked = 1;
    return 0;
  }
  if (tag != n->tag)
    return 0;
  int in = tag == MBEDTLS_X509_SAN_DNS_NAME ? dns_in_subtree(n->val, n->len, val, len)
                                            : ip_in_subtree(n->val, n->len, val, len);
  if (permitted) {
    n->has_permitted = 1;
    n->in_permitted |= in;
  } else {
    n->in_excluded |= in;
  }
  return 0;
}

typedef struct nc_ctx {
  const mbedtls_x509_crt *issuer;
  unsigned problems;
} nc_ctx_t;

static int on_leaf_name(void *ctx, int tag, const uint8_t *val, size_t len) {
  nc_ctx_t *c = ctx;
  if (tag != MBEDTLS_X509_SAN_DNS_NAME && tag != MBEDTLS_X509_SAN_IP_ADDRESS)
    return 0;
  one_name_t n = {tag, val, len, 0, 0, 0, 0};
  if (cs_trust_der_each_subtree(c->issuer, on_subtree, &n) < 0) {
    c->problems |= CS_TRUST_P_NAME_CONSTRAINTS_VIOLATED; /* unreadable: fail closed */
    return 1;
  }
  if (n.in_excluded || (n.has_permitted && !n.in_permitted))
    c->problems |= CS_TRUST_P_NAME_CONSTRAINTS_VIOLATED;
  if (n.unchecked)
    c->problems |= CS_TRUST_P_NAME_CONSTRAINTS;
  return 0;
}

unsigned cs_trust__name_constraints(const mbedtls_x509_crt *issuer, const mbedtls_x509_crt *leaf) {
  const uint8_t *val;
  size_t len;
  if (cs_trust_der_find_ext(issuer, CS_TRUST_OID_NAME_CONSTRAINTS,
                            sizeof(CS_TRUST_OID_NAME_CONSTRAINTS), &val, &len, NULL) != 1)
    return 0;
  nc_ctx_t c = {issuer, 0};
  if (cs_trust_der_each_san(leaf, on_leaf_name, &c) < 0)
    c.problems |= CS_TRUST_P_NAME_CONSTRAINTS_VIOLATED;
  return c.problems;
}
