/*
 * Lab CT logs: keys, SCT signing, SCT lists and the log list files that
 * openssl and certskew read (include/certskew/lab/lab_ct.h).
 */
#include "certskew/lab/lab_ct.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mbedtls/base64.h>
#include <mbedtls/ecp.h>
#include <mbedtls/pem.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>

#include "certskew/core/time.h"

void cs_lab_ct_log_init(cs_lab_ct_log_t *log) {
  memset(log, 0, sizeof(*log));
  mbedtls_pk_init(&log->key);
}

void cs_lab_ct_log_free(cs_lab_ct_log_t *log) {
  if (log == NULL)
    return;
  mbedtls_pk_free(&log->key);
  free(log->spki_der);
  log->spki_der = NULL;
  log->spki_der_len = 0;
}

static void copy_str(char *dst, size_t cap, const char *src) {
  snprintf(dst, cap, "%s", src ? src : "");
}

int cs_lab_ct_log_generate(cs_lab_ct_log_t *log, uint8_t sig_alg, const char *description,
                           const char *operator_name, int64_t now_ms, cs_lab_rng_fn f_rng,
                           void *p_rng) {
  uint8_t buf[1024];
  if (log == NULL || f_rng == NULL || (sig_alg != CS_SCT_SIG_ECDSA && sig_alg != CS_SCT_SIG_RSA))
    return CS_EINVAL;
  cs_lab_ct_log_free(log);
  cs_lab_ct_log_init(log);
  copy_str(log->description, sizeof(log->description), description);
  copy_str(log->operator_name, sizeof(log->operator_name), operator_name);
  log->sig_alg = sig_alg;
  log->state = CS_CT_STATE_USABLE;
  log->state_since_ms = now_ms;
  int ret;
  if (sig_alg == CS_SCT_SIG_ECDSA) {
    ret = mbedtls_pk_setup(&log->key, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY));
    if (ret == 0)
      ret = mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(log->key), f_rng, p_rng);
  } else {
    ret = mbedtls_pk_setup(&log->key, mbedtls_pk_info_from_type(MBEDTLS_PK_RSA));
    if (ret == 0)
      ret = mbedtls_rsa_gen_key(mbedtls_pk_rsa(log->key), f_rng, p_rng, 2048, 65537);
  }
  if (ret != 0)
    return CS_ECRYPTO;
  /* mbedtls_pk_write_pubkey_der writes at the end of buf. */
  int n = mbedtls_pk_write_pubkey_der(&log->key, buf, sizeof(buf));
  if (n <= 0)
    return CS_ECRYPTO;
  log->spki_der = malloc((size_t)n); /* owned by log */
  if (log->spki_der == NULL)
    return CS_ENOMEM;
  memcpy(log->spki_der, buf + sizeof(buf) - (size_t)n, (size_t)n);
  log->spki_der_len = (size_t)n;
  (void)mbedtls_sha256_ret(log->spki_der, log->spki_der_len, log->log_id, 0);
  return 0;
}

int cs_lab_ct_sct_sign(const cs_lab_ct_log_t *log, cs_ct_entry_type_t type, int64_t timestamp_ms,
                       const uint8_t issuer_key_hash[32], const uint8_t *entry, size_t entry_len,
                       cs_lab_rng_fn f_rng, void *p_rng, uint8_t **out, size_t *out_len) {
  uint8_t *data = NULL, hash[32], sig[MBEDTLS_PK_SIGNATURE_MAX_SIZE];
  size_t data_len = 0, sig_len = 0;
  *out = NULL;
  *out_len = 0;
  if (log == NULL || log->spki_der == NULL || f_rng == NULL)
    return CS_EINVAL;
  int err = cs_ct_signed_data(type, timestamp_ms, issuer_key_hash, entry, entry_len, NULL, 0,
                              &data, &data_len);
  if (err != 0)
    return err;
  (void)mbedtls_sha256_ret(data, data_len, hash, 0);
  free(data);
  if (mbedtls_pk_sign((mbedtls_pk_context *)&log->key, MBEDTLS_MD_SHA256, hash, sizeof(hash), sig,
                      &sig_len, f_rng, p_rng) != 0)
    return CS_ECRYPTO;
  /* version(1) id(32) timestamp(8) extensions<2> hash(1) sig(1) signature<2> */
  size_t total = 1 + 32 + 8 + 2 + 2 + 2 + sig_len;
  uint8_t *s = malloc(total); /* owned by caller */
  if (s == NULL)
    return CS_ENOMEM;
  uint8_t *o = s;
  *o++ = 0;
  memcpy(o, log->log_id, 32);
  o += 32;
  for (int i = 7; i >= 0; i--)
    *o++ = (uint8_t)((uint64_t)timestamp_ms >> (8 * i));
  *o++ = 0;
  *o++ = 0;
  *o++ = CS_SCT_HASH_SHA256;
  *o++ = log->sig_alg;
  *o++ = (uint8_t)(sig_len >> 8);
  *o++ = (uint8_t)sig_len;
  memcpy(o, sig, sig_len);
  *out = s;
  *out_len = total;
  return 0;
}

int cs_lab_ct_sct_list(const uint8_t *const *scts, const size_t *lens, size_t n, uint8_t **out,
                       size_t *out_len) {
  size_t body = 0;
  *out = NULL;
  *out_len = 0;
  if (scts == NULL || lens == NULL || n == 0)
    return CS_EINVAL;
  for (size_t i = 0; i < n; i++) {
    if (lens[i] == 0 || lens[i] > 0xFFFF)
      return CS_EINVAL;
    body += 2 + lens[i];
  }
  if (body > 0xFFFF)
    return CS_ETOOBIG;
  uint8_t *buf = malloc(2 + body); /* owned by caller */
  if (buf == NULL)
    return CS_ENOMEM;
  uint8_t *o = buf;
  *o++ = (uint8_t)(body >> 8);
  *o++ = (uint8_t)body;
  for (size_t i = 0; i < n; i++) {
    *o++ = (uint8_t)(lens[i] >> 8);
    *o++ = (uint8_t)lens[i];
    memcpy(o, scts[i], lens[i]);
    o += lens[i];
  }
  *out = buf;
  *out_len = 2 + body;
  return 0;
}

static int b64(const uint8_t *in, size_t len, char **out) {
  size_t need = 0;
  (void)mbedtls_base64_encode(NULL, 0, &need, in, len);
  *out = malloc(need + 1); /* owned by caller */
  if (*out == NULL)
    return CS_ENOMEM;
  if (mbedtls_base64_encode((unsigned char *)*out, need + 1, &need, in, len) != 0) {
    free(*out);
    *out = NULL;
    return CS_ECRYPTO;
  }
  (*out)[need] = '\0';
  return 0;
}

/* A growing string: appends pieces, remembers the first failure. */
typedef struct strbuf {
  char *s;
  size_t len, cap;
  int err;
} strbuf_t;

static void sb_cat(strbuf_t *b, const char *piece) {
  size_t n = strlen(piece);
  if (b->err)
    return;
  if (b->len + n + 1 > b->cap) {
    size_t cap = (b->len + n + 1) * 2;
    char *s = realloc(b->s, cap);
    if (s == NULL) {
      b->err = CS_ENOMEM;
      return;
    }
    b->s = s;
    b->cap = cap;
  }
  memcpy(b->s + b->len, piece, n + 1);
  b->len += n;
}

int cs_lab_ct_openssl_log_file(const cs_lab_ct_log_t *const *logs, size_t n, char **out) {
  strbuf_t b = {0};
  char name[32];
  *out = NULL;
  if (logs == NULL || n == 0)
    return CS_EINVAL;
  sb_cat(&b, "# certskew lab CT logs (openssl CTLOG_STORE format)\nenabled_logs = ");
  for (size_t i = 0; i < n; i++) {
    snprintf(name, sizeof(name), "%slog%zu", i ? "," : "", i);
    sb_cat(&b, name);
  }
  sb_cat(&b, "\n");
  for (size_t i = 0; i < n; i++) {
    char *key = NULL;
    int err = b64(logs[i]->spki_der, logs[i]->spki_der_len, &key);
    if (err != 0) {
      free(b.s);
      return err;
    }
    snprintf(name, sizeof(name), "\n[log%zu]\n", i);
    sb_cat(&b, name);
    sb_cat(&b, "description = ");
    sb_cat(&b, logs[i]->description);
    sb_cat(&b, "\nkey = ");
    sb_cat(&b, key);
    sb_cat(&b, "\n");
    free(key);
  }
  if (b.err) {
    free(b.s);
    return b.err;
  }
  *out = b.s;
  return 0;
}

static int add_time(cJSON *obj, const char *key, int64_t t_ms) {
  char buf[CS_TIME_STRLEN];
  cs_time_format(t_ms, buf);
  return cJSON_AddStringToObject(obj, key, buf) ? 0 : CS_ENOMEM;
}

static int add_log(cJSON *arr, const cs_lab_ct_log_t *log) {
  char *key = NULL, *id = NULL;
  cJSON *jl = cJSON_CreateObject();
  int err = jl && cJSON_AddItemToArray(arr, jl) ? 0 : CS_ENOMEM;
  if (err == 0)
    err = b64(log->spki_der, log->spki_der_len, &key);
  if (err == 0)
    err = b64(log->log_id, 32, &id);
  if (err == 0 && (!cJSON_AddStringToObject(jl, "description", log->description) ||
                   !cJSON_AddStringToObject(jl, "log_id", id) ||
                   !cJSON_AddStringToObject(jl, "key", key) ||
                   !cJSON_AddStringToObject(jl, "url", "https://ct.lab.invalid/") ||
                   !cJSON_AddNumberToObject(jl, "mmd", 86400)))
    err = CS_ENOMEM;
  if (err == 0 && log->state != CS_CT_STATE_UNKNOWN) {
    cJSON *st = cJSON_AddObjectToObject(jl, "state");
    cJSON *one = st ? cJSON_AddObjectToObject(st, cs_ct_log_state_name(log->state)) : NULL;
    err = one ? add_time(one, "timestamp", log->state_since_ms) : CS_ENOMEM;
  }
  if (err == 0 && log->has_interval) {
    cJSON *iv = cJSON_AddObjectToObject(jl, "temporal_interval");
    err = iv ? add_time(iv, "start_inclusive", log->interval_start_ms) : CS_ENOMEM;
    if (err == 0)
      err = add_time(iv, "end_exclusive", log->interval_end_ms);
  }
  free(key);
  free(id);
  return err;
}

int cs_lab_ct_chrome_log_list(const cs_lab_ct_log_t *const *logs, size_t n, int64_t now_ms,
                              char **out) {
  *out = NULL;
  if (logs == NULL || n == 0)
    return CS_EINVAL;
  cJSON *root = cJSON_CreateObject(); /* owned here */
  cJSON *ops = root ? cJSON_AddArrayToObject(root, "operators") : NULL;
  int err = ops && cJSON_AddStringToObject(root, "version", "lab") ? 0 : CS_ENOMEM;
  if (err == 0)
    err = add_time(root, "log_list_timestamp", now_ms);
  for (size_t i = 0; i < n && err == 0; i++) {
    /* Group by operator: the first log of each operator opens its entry. */
    size_t first = 0;
    while (strcmp(logs[first]->operator_name, logs[i]->operator_name) != 0)
      first++;
    if (first != i)
      continue;
    cJSON *op = cJSON_CreateObject();
    cJSON *arr = op && cJSON_AddItemToArray(ops, op) ? cJSON_AddArrayToObject(op, "logs") : NULL;
    if (arr == NULL || !cJSON_AddStringToObject(op, "name", logs[i]->operator_name)) {
      err = CS_ENOMEM;
      break;
    }
    for (size_t j = i; j < n && err == 0; j++)
      if (strcmp(logs[j]->operator_name, logs[i]->operator_name) == 0)
        err = add_log(arr, logs[j]);
  }
  if (err == 0 && (*out = cJSON_Print(root)) == NULL)
    err = CS_ENOMEM;
  cJSON_Delete(root);
  return err;
}

int cs_lab_ct_cert_pem(const uint8_t *der, size_t der_len, char **out) {
  size_t need = 0;
  *out = NULL;
  if (der == NULL || der_len == 0)
    return CS_EINVAL;
  (void)mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n",
                                 der, der_len, NULL, 0, &need);
  unsigned char *buf = malloc(need + 1); /* owned by caller */
  if (buf == NULL)
    return CS_ENOMEM;
  if (mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n", "-----END CERTIFICATE-----\n", der,
                               der_len, buf, need + 1, &need) != 0) {
    free(buf);
    return CS_ECRYPTO;
  }
  *out = (char *)buf;
  return 0;
}

int cs_lab_ct_key_pem(const mbedtls_pk_context *key, char **out) {
  size_t cap = 16384;
  *out = NULL;
  char *buf = calloc(1, cap); /* owned by caller */
  if (buf == NULL)
    return CS_ENOMEM;
  if (mbedtls_pk_write_key_pem((mbedtls_pk_context *)key, (unsigned char *)buf, cap) != 0) {
    free(buf);
    return CS_ECRYPTO;
  }
  *out = buf;
  return 0;
}
