# SPDX-License-Identifier: Apache-2.0
libappc_a_SOURCES += schema/types.c \
	schema/json.h schema/json-scan.c schema/json-decode.c schema/json-write.c schema/internal.h \
	schema/isolator.c schema/app.c schema/image_manifest.c schema/yaml.c \
	schema/pod_manifest.c schema/kind.c schema/patch.c schema/appstring.c
