# SPDX-License-Identifier: Apache-2.0
libappc_a_SOURCES += common/error.c common/error.h common/archive-error.c common/archive-error.h common/version.c common/callbacks.c common/callbacks.h common/cleanup.h common/fs.c common/fs.h common/lockwait.c common/lockwait.h common/macros.h \
	common/hashmap.c common/hashmap.h common/array.c common/array.h common/digest.c common/digest.h common/contenthash.c common/contenthash.h common/abi.c common/abi.h common/workqueue.c common/workqueue.h \
	common/header.c common/header.h common/utf8.c common/utf8.h common/arch.c common/arch.h \
	common/suggest.c common/suggest.h common/kv.c common/kv.h \
	common/lazy.c common/lazy.h common/lazy-table.h common/lazy-trampoline.h
EXTRA_DIST += common/gen-lazy common/lazy.libs

if LAZY_LIBRARIES
# The entry points into the libraries opened at first use, generated from
# what the other objects of libappc.a call (common/lazy.h).  The stamp keeps
# the source, and so the object, as they are when nothing they say changed.
libappc_a_LIBADD = common/lazy-stubs.$(OBJEXT)
common/lazy-stubs.stamp: $(libappc_a_OBJECTS) $(srcdir)/common/gen-lazy $(srcdir)/common/lazy.libs Makefile
	$(AM_V_GEN)NM='$(NM)' AUXINFO_CC='$(AUXINFO_CC)' \
	  CPPFLAGS='$(DEFS) $(DEFAULT_INCLUDES) $(INCLUDES) $(AM_CPPFLAGS) $(CPPFLAGS)' \
	  APPC_LAZY_LIBRARIES='$(APPC_LAZY_LIBRARIES)' \
	  $(SHELL) $(srcdir)/common/gen-lazy $(srcdir)/common/lazy.libs $(libappc_a_OBJECTS) >common/lazy-stubs.tmp && \
	if cmp -s common/lazy-stubs.tmp common/lazy-stubs.c; then rm -f common/lazy-stubs.tmp; \
	else mv -f common/lazy-stubs.tmp common/lazy-stubs.c; fi && touch $@
common/lazy-stubs.c: common/lazy-stubs.stamp
	@test -f $@ || { rm -f common/lazy-stubs.stamp && $(MAKE) $(AM_MAKEFLAGS) common/lazy-stubs.stamp; }
common/lazy-stubs.$(OBJEXT): common/lazy-stubs.c $(srcdir)/common/lazy-table.h $(srcdir)/common/lazy-trampoline.h
	$(AM_V_CC)$(CC) $(DEFS) $(DEFAULT_INCLUDES) $(INCLUDES) $(AM_CPPFLAGS) $(CPPFLAGS) \
	  $(libappc_a_CFLAGS) $(CFLAGS) -c -o $@ common/lazy-stubs.c
CLEANFILES += common/lazy-stubs.stamp common/lazy-stubs.tmp common/lazy-stubs.c common/lazy-stubs.$(OBJEXT)
endif
