/* Local JSON API (see api.h). */
#include "api.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "certskew/analysis/analysis.h"
#include "certskew/core/clock.h"
#include "certskew/core/time.h"
#include "static_files.h"

static int parse_clocks(const cJSON *arr, cs_clock_t *clocks, size_t *n, cs_errbuf_t *eb) {
  *n = 0;
  if (arr == NULL) {
    cs_clock_init_exact(&clocks[0]);
    *n = 1;
    return 0;
  }
  if (!cJSON_IsArray(arr))
    return cs_errbuf_set(eb, CS_EPARSE, "\"clocks\" must be an array of clock models");
  const cJSON *item;
  cJSON_ArrayForEach(item, arr) {
    if (!cJSON_IsString(item))
      return cs_errbuf_set(eb, CS_EPARSE, "every clock must be a string");
    if (*n == CS_API_MAX_CLOCKS)
      return cs_errbuf_set(eb, CS_ETOOBIG, "at most %d clocks", CS_API_MAX_CLOCKS);
    cs_errbuf_t ceb;
    cs_errbuf_init(&ceb);
    if (cs_clock_parse(&clocks[*n], item->valuestring, &ceb) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "clock \"%.60s\": %s", item->valuestring, ceb.msg);
    (*n)++;
  }
  if (*n == 0) {
    cs_clock_init_exact(&clocks[0]);
    *n = 1;
  }
  return 0;
}

static int parse_clients(const cJSON *arr, cs_client_t *clients, size_t *n, cs_errbuf_t *eb) {
  *n = 0;
  if (arr == NULL || cJSON_IsNull(arr))
    return 0;
  if (!cJSON_IsArray(arr))
    return cs_errbuf_set(eb, CS_EPARSE, "\"clients\" must be an array of client profiles");
  const cJSON *item;
  cJSON_ArrayForEach(item, arr) {
    if (!cJSON_IsString(item))
      return cs_errbuf_set(eb, CS_EPARSE, "every client must be a string");
    if (*n == CS_ANALYSIS_MAX_CLIENTS)
      return cs_errbuf_set(eb, CS_ETOOBIG, "at most %d clients", CS_ANALYSIS_MAX_CLIENTS);
    cs_errbuf_t ceb;
    cs_errbuf_init(&ceb);
    if (cs_client_parse(&clients[*n], item->valuestring, &ceb) != 0)
      return cs_errbuf_set(eb, CS_EPARSE, "client \"%.60s\": %s", item->valuestring, ceb.msg);
    (*n)++;
  }
  return 0;
}

/* The capture's host, port and SNI from its meta.json. */
static int read_meta(cs_capture_store_t *store, const char *id, char *host, size_t host_len,
                     int *port, char *sni, size_t sni_len) {
  char *text = NULL;
  size_t len = 0;
  int rc = cs_capture_store_read(store, id, "meta.json", &text, &len);
  if (rc != 0)
    return rc;
  cJSON *m = cJSON_ParseWithLength(text, len);
  free(text);
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(m, "host");
  const cJSON *p = cJSON_GetObjectItemCaseSensitive(m, "port");
  const cJSON *s = cJSON_GetObjectItemCaseSensitive(m, "sni");
  rc = cJSON_IsString(h) && cJSON_IsNumber(p) ? 0 : CS_EPARSE;
  if (rc == 0) {
    snprintf(host, host_len, "%s", h->valuestring);
    *port = p->valueint;
    snprintf(sni, sni_len, "%s", cJSON_IsString(s) ? s->valuestring : "");
  }
  cJSON_Delete(m);
  return rc;
}

int cs_api_replay(cs_capture_store_t *store, cs_judge_t *judge, const char *body, size_t len,
                  int64_t now_ms, char **out, cs_errbuf_t *eb) {
  *out = NULL;
  if (store == NULL)
    return cs_errbuf_set(eb, CS_ENOTFOUND, "the capture store is not available");
  cJSON *req = cJSON_ParseWithLength(body, len);
  char *pem = NULL;
  cs_analysis_t *a = NULL;
  int rc = 0;
  if (req == NULL || !cJSON_IsObject(req)) {
    rc = cs_errbuf_set(eb, CS_EPARSE, "body must be a JSON object");
    goto out;
  }
  const cJSON *cap = cJSON_GetObjectItemCaseSensitive(req, "capture");
  if (!cJSON_IsString(cap)) {
    rc = cs_errbuf_set(eb, CS_EPARSE, "\"capture\" (a capture id) is required");
    goto out;
  }
  cs_clock_t clocks[CS_API_MAX_CLOCKS];
  size_t nclocks = 0;
  rc = parse_clocks(cJSON_GetObjectItemCaseSensitive(req, "clocks"), clocks, &nclocks, eb);
  if (rc != 0)
    goto out;
  int64_t at_ms = now_ms;
  const cJSON *at = cJSON_GetObjectItemCaseSensitive(req, "at");
  if (at != NULL && !cJSON_IsNull(at) &&
      (!cJSON_IsString(at) || cs_time_parse(at->valuestring, &at_ms) != 0)) {
    rc = cs_errbuf_set(eb, CS_EPARSE, "\"at\" must be an RFC 3339 time");
    goto out;
  }
  size_t pem_len = 0;
  rc = cs_capture_store_read(store, cap->valuestring, "chain.pem", &pem, &pem_len);
  if (rc != 0) {
    rc = cs_errbuf_set(eb, CS_ENOTFOUND, "no capture %.100s", cap->valuestring);
    goto out;
  }
  cs_client_t clients[CS_ANALYSIS_MAX_CLIENTS];
  size_t nclients = 0;
  if ((rc = parse_clients(cJSON_GetObjectItemCaseSensitive(req, "clients"), clients, &nclients,
                          eb)) != 0)
    goto out;
  cs_analysis_opts_t opts;
  memset(&opts, 0, sizeof opts);
  const cs_enrich_result_t *extra = NULL;
  char host[256] = "", sni[256] = "";
  int port = 0;
  if (judge != NULL) {
    /* What the capture was judged with: trust, name, log list, and the
     * enrichment's OCSP/CRL/caIssuers material while it is kept. */
    opts = judge->base;
    if (read_meta(store, cap->valuestring, host, sizeof host, &port, sni, sizeof sni) == 0) {
      if (opts.hostname == NULL)
        opts.hostname = sni[0] ? sni : host;
      cs_chain_t *chain = NULL;
      if (cs_chain_load(&chain, (const uint8_t *)pem, pem_len, NULL) == 0) {
        uint8_t fp[32];
        cs_chain_fingerprint(chain, fp);
        extra = cs_judge_kept_enrichment(judge, host, port, fp, now_ms);
      }
      cs_chain_free(chain);
    }
  }
  opts.source = cap->valuestring;
  opts.clocks = clocks;
  opts.nclocks = nclocks;
  opts.has_at = 1;
  opts.at_ms = at_ms;
  opts.has_sweep = 0;
  opts.clients = clients;
  opts.nclients = nclients;
  if (extra != NULL)
    cs_enrich_apply(extra, &opts);
  rc = cs_analyze(&a, (const uint8_t *)pem, pem_len, &opts, eb);
  if (rc != 0)
    goto out;
  char *report = cs_analysis_report_json(a, 1);
  *out = report != NULL && extra != NULL ? cs_enrich_report_merge(report, extra) : report;
  if (*out != report)
    free(report);
  if (*out == NULL)
    rc = CS_ENOMEM;
out:
  cs_analysis_free(a);
  free(pem);
  cJSON_Delete(req);
  return rc;
}

/* "/api/captures/{id}[/file]": copies id, returns the file part or "". */
static const char *split_capture_path(const char *rest, char *id, size_t cap) {
  const char *slash = strchr(rest, '/');
  size_t n = slash != NULL ? (size_t)(slash - rest) : strlen(rest);
  if (n == 0 || n >= cap)
    return NULL;
  memcpy(id, rest, n);
  id[n] = '\0';
  return slash != NULL ? slash + 1 : "";
}

static int json_parses(const char *text, size_t len) {
  cJSON *j = cJSON_ParseWithLength(text, len);
  cJSON_Delete(j);
  return j != NULL;
}

static int serve_capture_file(const cs_api_ctx_t *ctx, const char *id, const char *file,
                              const char *type, cs_http_response_t *r) {
  if (ctx->store == NULL)
    return cs_http_response_json_error(r, 503, "the capture store is not available");
  char *text = NULL;
  size_t len = 0;
  int rc = cs_capture_store_read(ctx->store, id, file, &text, &len);
  if (rc == CS_ENOMEM)
    return rc;
  if (rc != 0)
    return cs_http_response_json_error(r, 404, "no such capture");
  if (strcmp(type, "application/json") == 0 && !json_parses(text, len)) {
    /* Damaged on disk since it was written: say so, never serve it as valid. */
    fprintf(stderr, "certskew: capture store: %s of %s is not valid JSON\n", file, id);
    free(text);
    return cs_http_response_json_error(r, 500, "the stored file of this capture is corrupt");
  }
  cs_http_response_adopt(r, 200, type, text, len);
  return 0;
}

/* meta.json with the capture's sightings, newest first. */
static int serve_capture_with_sightings(const cs_api_ctx_t *ctx, const char *id,
                                        cs_http_response_t *r) {
  if (ctx->store == NULL)
    return cs_http_response_json_error(r, 503, "the capture store is not available");
  char *text = NULL;
  size_t len = 0;
  int rc = cs_capture_store_read(ctx->store, id, "meta.json", &text, &len);
  if (rc == CS_ENOMEM)
    return rc;
  if (rc != 0)
    return cs_http_response_json_error(r, 404, "no such capture");
  cJSON *meta = cJSON_ParseWithLength(text, len);
  free(text);
  char *sj = cs_capture_store_sightings_json(ctx->store, id, CS_SIGHTINGS_KEEP);
  cJSON *sg = sj != NULL ? cJSON_Parse(sj) : NULL;
  free(sj);
  cJSON *arr = sg != NULL ? cJSON_DetachItemFromObjectCaseSensitive(sg, "sightings") : NULL;
  cJSON_Delete(sg);
  if (meta == NULL || arr == NULL) {
    cJSON_Delete(meta);
    cJSON_Delete(arr);
    return cs_http_response_json_error(r, 500, "the stored metadata of this capture is corrupt");
  }
  cJSON_AddItemToObject(meta, "sightings", arr);
  char *out = cJSON_PrintUnformatted(meta); /* handed to the response */
  cJSON_Delete(meta);
  if (out == NULL)
    return CS_ENOMEM;
  cs_http_response_adopt(r, 200, "application/json", out, strlen(out));
  return 0;
}

/* GET /api/sightings?limit=N (1..1000, default 200). */
static int handle_sightings(const cs_api_ctx_t *ctx, const char *path, cs_http_response_t *r) {
  if (ctx->store == NULL)
    return cs_http_response_json_error(r, 503, "the capture store is not available");
  long limit = 200;
  const char *q = strstr(path, "?limit=");
  if (q == NULL)
    q = strstr(path, "&limit=");
  if (q != NULL) {
    char *end = NULL;
    limit = strtol(q + 7, &end, 10);
    if (end == q + 7 || limit < 1 || limit > 1000)
      return cs_http_response_json_error(r, 400, "limit must be an integer in 1..1000");
  }
  char *out = cs_capture_store_sightings_json(ctx->store, NULL, (size_t)limit);
  if (out == NULL)
    return CS_ENOMEM;
  cs_http_response_adopt(r, 200, "application/json", out, strlen(out));
  return 0;
}

/* DELETE /api/captures: only with X-Certskew-Confirm: clear. */
static int handle_clear(const cs_api_ctx_t *ctx, cs_http_response_t *r) {
  if (ctx->store == NULL)
    return cs_http_response_json_error(r, 503, "the capture store is not available");
  if (ctx->confirm == NULL || strcmp(ctx->confirm, "clear") != 0)
    return cs_http_response_json_error(r, 403, "clearing the store needs the header X-Certskew-Confirm: clear");
  cs_errbuf_t eb;
  cs_errbuf_init(&eb);
  size_t n = cs_capture_store_count(ctx->store);
  if (cs_capture_store_clear(ctx->store, &eb) != 0)
    return cs_http_response_json_error(r, 500, eb.msg);
  char body[64];
  int len = snprintf(body, sizeof body, "{\"deleted\":%zu}", n);
  return cs_http_response_set(r, 200, "application/json", body, (size_t)len);
}

static int handle_captures(const cs_api_ctx_t *ctx, const char *rest, cs_http_response_t *r) {
  if (rest[0] == '\0') {
    if (ctx->store == NULL)
      return cs_http_response_json_error(r, 503, "the capture store is not available");
    char *list = cs_capture_store_list_json(ctx->store);
    if (list == NULL)
      return CS_ENOMEM;
    cs_http_response_adopt(r, 200, "application/json", list, strlen(list));
    return 0;
  }
  char id[CS_CAPTURE_ID_MAX];
  const char *file = split_capture_path(rest, id, sizeof id);
  if (file == NULL)
    return cs_http_response_json_error(r, 404, "no such capture");
  if (strcmp(file, "report") == 0 || strcmp(file, "report.json") == 0)
    return serve_capture_file(ctx, id, "report.json", "application/json", r);
  if (strcmp(file, "chain.pem") == 0)
    return serve_capture_file(ctx, id, "chain.pem", "application/x-pem-file", r);
  if (strcmp(file, "meta") == 0)
    return serve_capture_file(ctx, id, "meta.json", "application/json", r);
  if (file[0] == '\0')
    return serve_capture_with_sightings(ctx, id, r);
  return cs_http_response_json_error(r, 404, "unknown capture resource");
}

/* Whether "name:port" (len bytes) names the proxy. Only exact loopback
 * names and the listening address count: a DNS-rebinding page has its own
 * host name in Host, which never matches. */
static int host_is_self(const cs_api_ctx_t *ctx, const char *s, size_t len) {
  if (ctx->self_port > 0 && ctx->self_port <= 65535) {
    static const char *const names[] = {"127.0.0.1", "localhost", "[::1]"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
      char want[32];
      int n = snprintf(want, sizeof want, "%s:%d", names[i], ctx->self_port);
      if (n > 0 && (size_t)n == len && strncasecmp(s, want, len) == 0)
        return 1;
    }
  }
  return ctx->self_text != NULL && ctx->self_text[0] != '\0' && strlen(ctx->self_text) == len &&
         strncasecmp(s, ctx->self_text, len) == 0;
}

int cs_api_check_origin(const cs_api_ctx_t *ctx, const char **why) {
  *why = NULL;
  if (ctx->host == NULL || !host_is_self(ctx, ctx->host, strlen(ctx->host))) {
    *why = "the Host header does not name this proxy (expected 127.0.0.1:PORT or "
           "localhost:PORT): refusing, against DNS rebinding";
    return 421;
  }
  if (ctx->origin != NULL) {
    static const char scheme[] = "http://";
    const char *o = ctx->origin;
    size_t len = strlen(o);
    /* A trailing slash is not sent by browsers but is harmless. */
    if (len > 0 && o[len - 1] == '/')
      len--;
    if (len <= sizeof scheme - 1 || strncasecmp(o, scheme, sizeof scheme - 1) != 0 ||
        !host_is_self(ctx, o + sizeof scheme - 1, len - (sizeof scheme - 1))) {
      *why = "cross-origin request refused: the Origin is not this proxy's own page";
      return 403;
    }
  }
  return 0;
}

int cs_api_handle(const cs_api_ctx_t *ctx, const char *method, const char *path,
                  const char *body, size_t body_len, cs_http_response_t *r) {
  const char *why = NULL;
  int refuse = cs_api_check_origin(ctx, &why);
  if (refuse != 0)
    return cs_http_response_json_error(r, refuse, why);
  int is_get = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;
  char clean[2048];
  size_t n = strcspn(path, "?#");
  if (n >= sizeof clean)
    return cs_http_response_json_error(r, 400, "path too long");
  memcpy(clean, path, n);
  clean[n] = '\0';
  static const char caps[] = "/api/captures";
  if (strcmp(clean, "/api/replay") == 0) {
    if (strcmp(method, "POST") != 0)
      return cs_http_response_json_error(r, 405, "use POST");
    cs_errbuf_t eb;
    cs_errbuf_init(&eb);
    char *report = NULL;
    int rc = cs_api_replay(ctx->store, ctx->judge, body != NULL ? body : "", body_len, ctx->now_ms,
                           &report, &eb);
    if (rc == CS_ENOMEM)
      return rc;
    if (rc != 0)
      return cs_http_response_json_error(r, rc == CS_ENOTFOUND ? 404 : 400,
                                         eb.msg[0] ? eb.msg : cs_strerror(rc));
    cs_http_response_adopt(r, 200, "application/json", report, strlen(report));
    return 0;
  }
  if (strncmp(clean, caps, sizeof caps - 1) == 0 &&
      (clean[sizeof caps - 1] == '\0' || clean[sizeof caps - 1] == '/')) {
    const char *rest = clean + sizeof caps - 1;
    if (strcmp(method, "DELETE") == 0 && rest[0] == '\0')
      return handle_clear(ctx, r);
    if (!is_get)
      return cs_http_response_json_error(r, 405, "use GET");
    return handle_captures(ctx, rest[0] == '/' ? rest + 1 : rest, r);
  }
  if (strcmp(clean, "/api/sightings") == 0) {
    if (!is_get)
      return cs_http_response_json_error(r, 405, "use GET");
    return handle_sightings(ctx, path, r);
  }
  if (strcmp(clean, "/api/ca.pem") == 0) {
    if (ctx->ca_pem == NULL)
      return cs_http_response_json_error(r, 404, "no CA");
    return cs_http_response_set(r, 200, "application/x-pem-file", ctx->ca_pem,
                                strlen(ctx->ca_pem));
  }
  if (strncmp(clean, "/api/", 5) == 0 || strcmp(clean, "/api") == 0)
    return cs_http_response_json_error(r, 404, "unknown API endpoint");
  if (!is_get)
    return cs_http_response_json_error(r, 405, "method not allowed");
  return cs_static_serve(ctx->web_dir, path, r);
}
