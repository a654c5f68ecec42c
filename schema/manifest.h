/* SPDX-License-Identifier: Apache-2.0 */
/* Moved to the public headers: include/appc/manifest.h. */
#include "appc/manifest.h"
