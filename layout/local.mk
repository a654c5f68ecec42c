# SPDX-License-Identifier: Apache-2.0
# layout/: image layouts edited step by step (<appc/layout.h>).
libappc_a_SOURCES += layout/internal.h layout/layout.c layout/copy.c layout/run.c
