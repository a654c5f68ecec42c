# SPDX-License-Identifier: Apache-2.0
# Integration tests: shell scripts that drive the actool binary and print TAP.
EXTRA_DIST += tests/integration/lib.sh tests/integration/lib-net.sh tests/integration/hostile-http.py \
	tests/integration/oci-craft.py tests/integration/armor-craft.py tests/integration/lib-oci.sh tests/integration/registry-server.py \
	tests/integration/listen-fds.c tests/integration/pty-drive.py \
	tests/integration/overlay-einval.c tests/integration/no-ctnetlink.c \
	tests/integration/send-ra.c tests/integration/selfexe-interp.c
INTEGRATION_TESTS = \
	tests/integration/cli.sh \
	tests/integration/cli-conventions.sh \
	tests/integration/lazy.sh \
	tests/integration/abi.sh \
	tests/integration/install.sh \
	tests/integration/completion.sh \
	tests/integration/man.sh \
	tests/integration/build.sh \
	tests/integration/hostile.sh \
	tests/integration/refcompat.sh \
	tests/integration/store.sh \
	tests/integration/store-hostile.sh \
	tests/integration/store-crash.sh \
	tests/integration/store-signed.sh \
	tests/integration/cancel.sh \
	tests/integration/trust.sh \
	tests/integration/discover.sh \
	tests/integration/fetch-net.sh \
	tests/integration/trust-net.sh \
	tests/integration/run.sh \
	tests/integration/run-net.sh \
	tests/integration/run-devices.sh \
	tests/integration/run-users.sh \
	tests/integration/run-selfexe.sh \
	tests/integration/run-sweep.sh \
	tests/integration/run-init.sh \
	tests/integration/enter-tty.sh \
	tests/integration/run-systemd.sh \
	tests/integration/ace-validator.sh \
	tests/integration/oci.sh \
	tests/integration/oci-export.sh \
	tests/integration/bundle.sh \
	tests/integration/registry.sh \
	tests/integration/layout-run.sh \
	tests/integration/containerfile.sh \
	tests/integration/layout.sh \
	tests/integration/layout-debian.sh
TESTS += $(INTEGRATION_TESTS)
EXTRA_DIST += $(INTEGRATION_TESTS) \
	fixtures/hello/manifest \
	fixtures/web/Containerfile fixtures/web/.dockerignore fixtures/web/site/index.html \
	fixtures/debian-busybox/build \
	scripts/deps scripts/build scripts/test scripts/demo scripts/mkrootfs-busybox
# lib.sh's lock, which lets a test run alone.
CLEANFILES += .integration-tests.lock
