/* SPDX-License-Identifier: Apache-2.0 */
/* Moved to the public headers: include/appc/isolator.h. */
#include "appc/isolator.h"
