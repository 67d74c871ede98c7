# Builds minidock-init, the static PID 1 for `minidock run --init`. Run from the repo root:
#     make -f native/init.mk            ->  native/build/minidock-init
#     make -f native/init.mk clean
# Static, so that it runs in an image without a libc (Debian's libc6-dev ships libc.a).
ifeq ($(origin CC),default)
CC := gcc
endif
INIT_CFLAGS := -static -Os -Wall -Wextra -s
INIT_SRC := native/src/init.c
INIT_BIN := native/build/minidock-init

$(INIT_BIN): $(INIT_SRC) native/src/reap.h native/init.mk
	@mkdir -p $(dir $@)
	$(CC) $(INIT_CFLAGS) $(CFLAGS) -o $@.tmp $(INIT_SRC)
	mv -f $@.tmp $@

.PHONY: clean
clean:
	rm -f $(INIT_BIN) $(INIT_BIN).tmp
