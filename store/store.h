/* SPDX-License-Identifier: Apache-2.0 */
/* Moved to the public headers: include/appc/store.h. */
#include "appc/store.h"
