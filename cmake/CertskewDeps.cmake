# Locates the Debian-packaged dependencies and exposes them as imported
# targets: certskew::mbedtls, certskew::uv, certskew::cjson, certskew::llhttp,
# certskew::crypto.
# Debian's libmbedtls-dev (2.28) ships no pkg-config file, so it is found by
# header and library name; libuv and cJSON come through pkg-config.
find_package(PkgConfig REQUIRED)

find_path(MBEDTLS_INCLUDE_DIR mbedtls/ssl.h)
find_library(MBEDTLS_LIB mbedtls)
find_library(MBEDX509_LIB mbedx509)
find_library(MBEDCRYPTO_LIB mbedcrypto)
if(NOT MBEDTLS_INCLUDE_DIR OR NOT MBEDTLS_LIB OR NOT MBEDX509_LIB OR NOT MBEDCRYPTO_LIB)
  message(FATAL_ERROR "mbedTLS not found: apt-get install libmbedtls-dev")
endif()
file(STRINGS "${MBEDTLS_INCLUDE_DIR}/mbedtls/version.h" _mbed_ver REGEX "#define MBEDTLS_VERSION_STRING +\"")
if(NOT _mbed_ver MATCHES "\"2\\.28\\.")
  message(WARNING "certskew is written against mbedTLS 2.28; found: ${_mbed_ver}")
endif()
add_library(certskew::mbedtls INTERFACE IMPORTED)
set_target_properties(certskew::mbedtls PROPERTIES
  INTERFACE_INCLUDE_DIRECTORIES "${MBEDTLS_INCLUDE_DIR}"
  INTERFACE_LINK_LIBRARIES "${MBEDTLS_LIB};${MBEDX509_LIB};${MBEDCRYPTO_LIB}")

# OpenSSL's libcrypto: only the AEAD of relayed TLS 1.2 records
# (net/tls_records.c). mbedTLS 2.28 still does every handshake, but its
# AES-GCM and ChaCha20-Poly1305 run at 256 and 413 MB/s per core on the
# development machine against ~4 GB/s for libcrypto 3.0 (openssl speed
# -evp), and an intercepting relay decrypts and re-encrypts every byte.
pkg_check_modules(LIBCRYPTO REQUIRED IMPORTED_TARGET libcrypto)
add_library(certskew::crypto ALIAS PkgConfig::LIBCRYPTO)

pkg_check_modules(LIBUV REQUIRED IMPORTED_TARGET libuv)
add_library(certskew::uv ALIAS PkgConfig::LIBUV)
pkg_check_modules(CJSON REQUIRED IMPORTED_TARGET libcjson)
add_library(certskew::cjson ALIAS PkgConfig::CJSON)

# llhttp: Debian's node-llhttp installs the generated C sources; we compile
# them from where they are installed (never copied into this repository).
find_path(LLHTTP_INCLUDE_DIR llhttp.h PATHS /usr/share/include/llhttp /usr/include/llhttp)
find_file(LLHTTP_SRC_LLHTTP llhttp.c PATHS /usr/share/llhttp NO_DEFAULT_PATH)
find_file(LLHTTP_SRC_API api.c PATHS /usr/share/llhttp NO_DEFAULT_PATH)
find_file(LLHTTP_SRC_HTTP http.c PATHS /usr/share/llhttp NO_DEFAULT_PATH)
if(NOT LLHTTP_INCLUDE_DIR OR NOT LLHTTP_SRC_LLHTTP)
  message(FATAL_ERROR "llhttp sources not found: apt-get install node-llhttp")
endif()
add_library(cs_llhttp STATIC ${LLHTTP_SRC_LLHTTP} ${LLHTTP_SRC_API} ${LLHTTP_SRC_HTTP})
target_include_directories(cs_llhttp SYSTEM PUBLIC "${LLHTTP_INCLUDE_DIR}")
set_target_properties(cs_llhttp PROPERTIES C_STANDARD 11 POSITION_INDEPENDENT_CODE ON)
# Third-party code: its own warnings are not ours to fix.
target_compile_options(cs_llhttp PRIVATE -w)
if(CERTSKEW_SANITIZE)
  target_compile_options(cs_llhttp PRIVATE -fsanitize=address,undefined -fno-omit-frame-pointer)
endif()
add_library(certskew::llhttp ALIAS cs_llhttp)
