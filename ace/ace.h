/* SPDX-License-Identifier: Apache-2.0 */
/* Moved to the public headers: include/appc/ace.h. */
#include "appc/ace.h"
