/* SPDX-License-Identifier: Apache-2.0 */
/* Moved to the public headers: include/appc/error.h. */
#include "appc/error.h"
