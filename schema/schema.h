/* SPDX-License-Identifier: Apache-2.0 */
/* Moved to the public headers: include/appc/schema.h. */
#include "appc/schema.h"
