/* SPDX-License-Identifier: Apache-2.0 */
/* Moved to the public headers: include/appc/discovery.h. */
#include "appc/discovery.h"
