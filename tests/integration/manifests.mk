# SPDX-License-Identifier: Apache-2.0
# Manifest conformance corpus (fixtures/manifests, see its README.md) and the
# differential test against the Go reference actool v0.8.11 (skipped when the
# reference is neither given in $REF_ACTOOL nor buildable with go).
TESTS += tests/integration/manifests.sh tests/integration/differential.sh
# fixtures/manifests is a directory: automake's dist copies it recursively
# (valid/, invalid/, expected.tsv, deviations.tsv, README.md).
EXTRA_DIST += tests/integration/manifests.sh tests/integration/differential.sh \
	fixtures/manifests
