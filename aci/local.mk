# SPDX-License-Identifier: Apache-2.0
libappc_a_SOURCES += aci/internal.h aci/layout.h aci/stream.h \
	aci/build.c aci/compression.c aci/tee.c aci/hash.c aci/gzsized.c aci/inflate.c aci/layout.c aci/names.c \
	aci/outfile.c aci/pgzip.c aci/reader.c aci/source.c aci/rewrite.c aci/sink.c aci/tarhdr.c \
	aci/validate.c aci/writer.c
