libappc_a_SOURCES += common/error.c common/error.h common/cleanup.h
