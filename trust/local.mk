# SPDX-License-Identifier: Apache-2.0
# Trusted keys and signature verification (gpgme); see docs/trust.md.
libappc_a_SOURCES += trust/internal.h trust/keys.c trust/gpg.c trust/verify.c \
	trust/store.c trust/sign.c trust/keyring.c trust/packets.c trust/armor.c
