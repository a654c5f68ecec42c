# Trusted keys and signature verification (gpgme); see docs/trust.md.
libappc_a_SOURCES += trust/trust.h trust/keys.c trust/verify.c
