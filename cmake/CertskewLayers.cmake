# The architecture, in one table: each folder of product code is one static
# library, and may use only the folders listed after it (and, through them,
# what they use). The list drives both the link (target_link_libraries) and
# the layout check (cmake/check_layout.cmake), which fails the build when a
# file includes a header of a folder it may not use.
#
#   cli -> proxy -> fetch -> net -> store -> analyzers/analysis -> clients ->
#          lab   --^   repro -> lab          ct, trust, revocation, tls -> core
#
# Format: "folder|library|allowed folders (space separated)|external deps".
set(CS_LAYERS
  "analyzers/core|certskew_core||certskew::mbedtls certskew::cjson"
  "analyzers/revocation|certskew_revocation|analyzers/core|"
  "analyzers/ct|certskew_ct|analyzers/core|"
  "analyzers/tls|certskew_tls|analyzers/core|"
  "analyzers/trust|certskew_trust|analyzers/core analyzers/revocation|"
  "analyzers/clients|certskew_clients|analyzers/core analyzers/ct analyzers/trust analyzers/revocation analyzers/tls|"
  "analyzers/analysis|certskew_analysis|analyzers/core analyzers/ct analyzers/trust analyzers/revocation analyzers/tls analyzers/clients|"
  "store|certskew_store|analyzers/analysis|"
  "net|certskew_net|store|certskew::uv certskew::crypto"
  "fetch|certskew_fetch|net|certskew::llhttp"
  "lab|certskew_lab|net|"
  "repro|certskew_repro|lab|"
  "proxy|certskew_proxy|fetch|certskew::llhttp Threads::Threads"
  "cli|certskew_cli|proxy lab repro|")
