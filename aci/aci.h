/* SPDX-License-Identifier: Apache-2.0 */
/* Moved to the public headers: include/appc/aci.h. */
#include "appc/aci.h"
