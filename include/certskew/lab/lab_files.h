/*
 * Writing a lab scenario's material into a directory (`certskew lab --out`)
 * so scripts and real clients can use it: chain, key, trust anchors, log
 * lists, OCSP response, CRL, plus lab.env (shell variables) and lab.json
 * (addresses, times, cause codes).
 */
#ifndef CERTSKEW_LAB_LAB_FILES_H
#define CERTSKEW_LAB_LAB_FILES_H

#include "certskew/core/error.h"
#include "certskew/lab/lab_scenario.h"

typedef struct cs_lab_addrs {
  int tls_port;   /* 0 when not serving */
  int http_port;  /* 0 when not serving */
  const char *dns_name;
} cs_lab_addrs_t;

/* Writes every file into dir (created if missing, mode 0700). Files are
 * replaced atomically; the key is 0600. Returns 0 or CS_EIO with eb. */
int cs_lab_files_write(const char *dir, const cs_lab_scenario_t *sc, const cs_lab_addrs_t *addrs,
                       cs_errbuf_t *eb) CS_MUST_CHECK;

/* The file names, for help texts and the summary. */
extern const char cs_lab_files_help[];

#endif
