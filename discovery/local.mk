# SPDX-License-Identifier: Apache-2.0
# Discovery (meta tags, Link headers) and the HTTP client (libcurl, libxml2);
# see docs/discovery.md.
libappc_a_SOURCES += discovery/internal.h \
	discovery/http.c discovery/auth.c discovery/parse.c discovery/discover.c
