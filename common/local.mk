# SPDX-License-Identifier: Apache-2.0
libappc_a_SOURCES += common/error.c common/version.c common/callbacks.c common/callbacks.h common/cleanup.h common/fs.c common/fs.h common/macros.h \
	common/hashmap.c common/hashmap.h common/array.c common/array.h common/abi.c common/abi.h common/workqueue.c common/workqueue.h \
	common/lazy.c common/lazy.h common/lazy-archive.h common/lazy-cap.h common/lazy-crypto.h common/lazy-curl.h \
	common/lazy-deflate.h common/lazy-gpgme.h common/lazy-isal.h common/lazy-mhd.h common/lazy-seccomp.h common/lazy-xml2.h
