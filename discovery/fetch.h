/* SPDX-License-Identifier: Apache-2.0 */
/* Moved to the public headers: include/appc/fetch.h. */
#include "appc/fetch.h"
