/* SPDX-License-Identifier: Apache-2.0 */
/* Moved to the public headers: include/appc/types.h. */
#include "appc/types.h"
