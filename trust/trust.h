/* SPDX-License-Identifier: Apache-2.0 */
/* Moved to the public headers: include/appc/trust.h. */
#include "appc/trust.h"
