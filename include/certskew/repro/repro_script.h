/*
 * `certskew repro` scripts (docs/repro-schema.md): a scenario of the lab or a
 * captured chain, and cases (clock model, true time, expected verdict and
 * error codes). This is the strict parser: unknown keys, wrong types and
 * out-of-range values are errors naming the JSON path, because a typo in an
 * expectation must never turn into a test that cannot fail.
 *
 * Pure (no files): paths in a chain script are kept as text; the runner
 * resolves them against the script's directory.
 */
#ifndef CERTSKEW_REPRO_REPRO_SCRIPT_H
#define CERTSKEW_REPRO_REPRO_SCRIPT_H

#include <stddef.h>
#include <stdint.h>

#include "certskew/clients/profile.h"
#include "certskew/core/clock.h"
#include "certskew/core/error.h"
#include "certskew/lab/lab_scenario.h"

#define CS_REPRO_MAX_INPUT (1u * 1024 * 1024)
#define CS_REPRO_MAX_CASES 1024 /* after expanding "clocks" arrays */
#define CS_REPRO_MAX_CODES 16
#define CS_REPRO_CODE_MAX 48
#define CS_REPRO_MAX_TRUST 8
#define CS_REPRO_PATH_MAX 1024
/* The issuance instant of a scenario script without "issued": fixed, so a
 * script means the same thing on every machine and day. */
#define CS_REPRO_DEFAULT_ISSUED "2026-11-23T21:03:03.157Z"

typedef enum cs_repro_ocsp {
  CS_REPRO_OCSP_NONE = 0,
  CS_REPRO_OCSP_FETCHED, /* the client asks the responder (AIA) */
  CS_REPRO_OCSP_STAPLED, /* the server staples the responder's answer */
} cs_repro_ocsp_t;

typedef struct cs_repro_case {
  char name[128];
  char clock_text[CS_CLOCK_NAME_MAX];
  cs_clock_t clock;
  int has_client;          /* "client": the verdict is that client profile's */
  cs_client_t client;
  char cause[CS_REPRO_CODE_MAX]; /* "expect.cause": the client's root cause ("" = not checked) */
  char at_text[64];
  int at_relative;         /* 1: at_ms is an offset from issuance */
  int64_t at_ms;
  int expect_pass;         /* 1 "pass", 0 "fail" */
  int has_codes;           /* "codes": the exact set of error codes */
  char codes[CS_REPRO_MAX_CODES][CS_REPRO_CODE_MAX];
  size_t ncodes;
  char include[CS_REPRO_MAX_CODES][CS_REPRO_CODE_MAX]; /* "codes_include" */
  size_t ninclude;
  char exclude[CS_REPRO_MAX_CODES][CS_REPRO_CODE_MAX]; /* "codes_exclude" */
  size_t nexclude;
  char warnings[CS_REPRO_MAX_CODES][CS_REPRO_CODE_MAX]; /* "warnings_include" */
  size_t nwarnings;
  /* What this case's client has: the script's "material", overridden by
   * the case's own "material". */
  int use_trust, use_log_list, use_crl;
  cs_repro_ocsp_t ocsp;
} cs_repro_case_t;

typedef struct cs_repro_script {
  char name[200];
  int has_scenario;        /* 1: scenario mode, 0: chain mode */
  cs_lab_scenario_id_t scenario;
  int64_t issued_ms;       /* scenario mode */
  char host[256];          /* "" = no hostname check */
  /* What the client has. Scenario mode: flags; chain mode: file paths. */
  int use_trust, use_log_list, use_crl;
  cs_repro_ocsp_t ocsp;
  char chain_path[CS_REPRO_PATH_MAX];
  char trust_paths[CS_REPRO_MAX_TRUST][CS_REPRO_PATH_MAX];
  size_t ntrust;
  char log_list_path[CS_REPRO_PATH_MAX];
  char ocsp_path[CS_REPRO_PATH_MAX];
  char crl_path[CS_REPRO_PATH_MAX];
  cs_repro_case_t *cases;  /* owned */
  size_t ncases, cap;
} cs_repro_script_t;

/* Parses json[0..len) (need not be NUL-terminated). On success *out is a
 * new script (free with cs_repro_script_free); on error *out is NULL and eb
 * names the JSON path and the problem. Returns 0, CS_EPARSE, CS_ETOOBIG or
 * CS_ENOMEM. */
int cs_repro_script_parse(cs_repro_script_t **out, const uint8_t *json, size_t len,
                          cs_errbuf_t *eb) CS_MUST_CHECK;
/* Safe on NULL. */
void cs_repro_script_free(cs_repro_script_t *s);

#endif
