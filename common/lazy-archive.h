/* SPDX-License-Identifier: Apache-2.0 */
/* libarchive: reading and writing ACIs, bound at first use (see common/lazy.h). */
#ifndef APPC_COMMON_LAZY_ARCHIVE_H
#define APPC_COMMON_LAZY_ARCHIVE_H

#include <archive.h>
#include <archive_entry.h>

#include "common/lazy.h"

#define APPC_LAZY_ARCHIVE(X)                                                                       \
  X(archive_entry_atime)                                                                           \
  X(archive_entry_atime_is_set)                                                                    \
  X(archive_entry_atime_nsec)                                                                      \
  X(archive_entry_clone)                                                                           \
  X(archive_entry_copy_pathname)                                                                   \
  X(archive_entry_copy_sourcepath)                                                                 \
  X(archive_entry_filetype)                                                                        \
  X(archive_entry_free)                                                                            \
  X(archive_entry_gid)                                                                             \
  X(archive_entry_hardlink)                                                                        \
  X(archive_entry_linkify)                                                                         \
  X(archive_entry_linkresolver_free)                                                               \
  X(archive_entry_linkresolver_new)                                                                \
  X(archive_entry_linkresolver_set_strategy)                                                       \
  X(archive_entry_mtime)                                                                           \
  X(archive_entry_mtime_nsec)                                                                      \
  X(archive_entry_new)                                                                             \
  X(archive_entry_new2)                                                                            \
  X(archive_entry_pathname)                                                                        \
  X(archive_entry_perm)                                                                            \
  X(archive_entry_rdev)                                                                            \
  X(archive_entry_set_dev)                                                                         \
  X(archive_entry_set_filetype)                                                                    \
  X(archive_entry_set_gid)                                                                         \
  X(archive_entry_set_gname)                                                                       \
  X(archive_entry_set_ino)                                                                         \
  X(archive_entry_set_pathname)                                                                    \
  X(archive_entry_set_size)                                                                        \
  X(archive_entry_set_uid)                                                                         \
  X(archive_entry_set_uname)                                                                       \
  X(archive_entry_size)                                                                            \
  X(archive_entry_size_is_set)                                                                     \
  X(archive_entry_sparse_clear)                                                                    \
  X(archive_entry_symlink)                                                                         \
  X(archive_entry_uid)                                                                             \
  X(archive_entry_unset_atime)                                                                     \
  X(archive_entry_unset_birthtime)                                                                 \
  X(archive_entry_unset_ctime)                                                                     \
  X(archive_entry_xattr_add_entry)                                                                 \
  X(archive_entry_xattr_clear)                                                                     \
  X(archive_entry_xattr_count)                                                                     \
  X(archive_entry_xattr_next)                                                                      \
  X(archive_entry_xattr_reset)                                                                     \
  X(archive_errno)                                                                                 \
  X(archive_error_string)                                                                          \
  X(archive_filter_code)                                                                           \
  X(archive_read_data)                                                                             \
  X(archive_read_data_block)                                                                       \
  X(archive_read_data_skip)                                                                        \
  X(archive_read_disk_entry_from_file)                                                             \
  X(archive_read_disk_new)                                                                         \
  X(archive_read_disk_set_standard_lookup)                                                         \
  X(archive_read_free)                                                                             \
  X(archive_read_new)                                                                              \
  X(archive_read_next_header)                                                                      \
  X(archive_read_open)                                                                             \
  X(archive_read_support_filter_bzip2)                                                             \
  X(archive_read_support_filter_xz)                                                                \
  X(archive_read_support_format_raw)                                                               \
  X(archive_read_support_format_tar)                                                               \
  X(archive_set_error)                                                                             \
  X(archive_write_add_filter_bzip2)                                                                \
  X(archive_write_add_filter_xz)                                                                   \
  X(archive_write_close)                                                                           \
  X(archive_write_data)                                                                            \
  X(archive_write_free)                                                                            \
  X(archive_write_header)                                                                          \
  X(archive_write_new)                                                                             \
  X(archive_write_open)                                                                            \
  X(archive_write_set_bytes_in_last_block)                                                         \
  X(archive_write_set_bytes_per_block)                                                             \
  X(archive_write_set_format_pax_restricted)                                                       \
  X(archive_write_set_format_raw)

APPC_LAZY_DECLARE(archive, APPC_LAZY_ARCHIVE)

#ifndef APPC_LAZY_NO_REDIRECT
#define archive_entry_atime APPC_LAZY_CALL(archive, archive_entry_atime)
#define archive_entry_atime_is_set APPC_LAZY_CALL(archive, archive_entry_atime_is_set)
#define archive_entry_atime_nsec APPC_LAZY_CALL(archive, archive_entry_atime_nsec)
#define archive_entry_clone APPC_LAZY_CALL(archive, archive_entry_clone)
#define archive_entry_copy_pathname APPC_LAZY_CALL(archive, archive_entry_copy_pathname)
#define archive_entry_copy_sourcepath APPC_LAZY_CALL(archive, archive_entry_copy_sourcepath)
#define archive_entry_filetype APPC_LAZY_CALL(archive, archive_entry_filetype)
#define archive_entry_free APPC_LAZY_CALL(archive, archive_entry_free)
#define archive_entry_gid APPC_LAZY_CALL(archive, archive_entry_gid)
#define archive_entry_hardlink APPC_LAZY_CALL(archive, archive_entry_hardlink)
#define archive_entry_linkify APPC_LAZY_CALL(archive, archive_entry_linkify)
#define archive_entry_linkresolver_free APPC_LAZY_CALL(archive, archive_entry_linkresolver_free)
#define archive_entry_linkresolver_new APPC_LAZY_CALL(archive, archive_entry_linkresolver_new)
#define archive_entry_linkresolver_set_strategy                                                    \
  APPC_LAZY_CALL(archive, archive_entry_linkresolver_set_strategy)
#define archive_entry_mtime APPC_LAZY_CALL(archive, archive_entry_mtime)
#define archive_entry_mtime_nsec APPC_LAZY_CALL(archive, archive_entry_mtime_nsec)
#define archive_entry_new APPC_LAZY_CALL(archive, archive_entry_new)
#define archive_entry_new2 APPC_LAZY_CALL(archive, archive_entry_new2)
#define archive_entry_pathname APPC_LAZY_CALL(archive, archive_entry_pathname)
#define archive_entry_perm APPC_LAZY_CALL(archive, archive_entry_perm)
#define archive_entry_rdev APPC_LAZY_CALL(archive, archive_entry_rdev)
#define archive_entry_set_dev APPC_LAZY_CALL(archive, archive_entry_set_dev)
#define archive_entry_set_filetype APPC_LAZY_CALL(archive, archive_entry_set_filetype)
#define archive_entry_set_gid APPC_LAZY_CALL(archive, archive_entry_set_gid)
#define archive_entry_set_gname APPC_LAZY_CALL(archive, archive_entry_set_gname)
#define archive_entry_set_ino APPC_LAZY_CALL(archive, archive_entry_set_ino)
#define archive_entry_set_pathname APPC_LAZY_CALL(archive, archive_entry_set_pathname)
#define archive_entry_set_size APPC_LAZY_CALL(archive, archive_entry_set_size)
#define archive_entry_set_uid APPC_LAZY_CALL(archive, archive_entry_set_uid)
#define archive_entry_set_uname APPC_LAZY_CALL(archive, archive_entry_set_uname)
#define archive_entry_size APPC_LAZY_CALL(archive, archive_entry_size)
#define archive_entry_size_is_set APPC_LAZY_CALL(archive, archive_entry_size_is_set)
#define archive_entry_sparse_clear APPC_LAZY_CALL(archive, archive_entry_sparse_clear)
#define archive_entry_symlink APPC_LAZY_CALL(archive, archive_entry_symlink)
#define archive_entry_uid APPC_LAZY_CALL(archive, archive_entry_uid)
#define archive_entry_unset_atime APPC_LAZY_CALL(archive, archive_entry_unset_atime)
#define archive_entry_unset_birthtime APPC_LAZY_CALL(archive, archive_entry_unset_birthtime)
#define archive_entry_unset_ctime APPC_LAZY_CALL(archive, archive_entry_unset_ctime)
#define archive_entry_xattr_add_entry APPC_LAZY_CALL(archive, archive_entry_xattr_add_entry)
#define archive_entry_xattr_clear APPC_LAZY_CALL(archive, archive_entry_xattr_clear)
#define archive_entry_xattr_count APPC_LAZY_CALL(archive, archive_entry_xattr_count)
#define archive_entry_xattr_next APPC_LAZY_CALL(archive, archive_entry_xattr_next)
#define archive_entry_xattr_reset APPC_LAZY_CALL(archive, archive_entry_xattr_reset)
#define archive_errno APPC_LAZY_CALL(archive, archive_errno)
#define archive_error_string APPC_LAZY_CALL(archive, archive_error_string)
#define archive_filter_code APPC_LAZY_CALL(archive, archive_filter_code)
#define archive_read_data APPC_LAZY_CALL(archive, archive_read_data)
#define archive_read_data_block APPC_LAZY_CALL(archive, archive_read_data_block)
#define archive_read_data_skip APPC_LAZY_CALL(archive, archive_read_data_skip)
#define archive_read_disk_entry_from_file APPC_LAZY_CALL(archive, archive_read_disk_entry_from_file)
#define archive_read_disk_new APPC_LAZY_CALL(archive, archive_read_disk_new)
#define archive_read_disk_set_standard_lookup                                                      \
  APPC_LAZY_CALL(archive, archive_read_disk_set_standard_lookup)
#define archive_read_free APPC_LAZY_CALL(archive, archive_read_free)
#define archive_read_new APPC_LAZY_CALL(archive, archive_read_new)
#define archive_read_next_header APPC_LAZY_CALL(archive, archive_read_next_header)
#define archive_read_open APPC_LAZY_CALL(archive, archive_read_open)
#define archive_read_support_filter_bzip2 APPC_LAZY_CALL(archive, archive_read_support_filter_bzip2)
#define archive_read_support_filter_xz APPC_LAZY_CALL(archive, archive_read_support_filter_xz)
#define archive_read_support_format_raw APPC_LAZY_CALL(archive, archive_read_support_format_raw)
#define archive_read_support_format_tar APPC_LAZY_CALL(archive, archive_read_support_format_tar)
#define archive_set_error APPC_LAZY_CALL(archive, archive_set_error)
#define archive_write_add_filter_bzip2 APPC_LAZY_CALL(archive, archive_write_add_filter_bzip2)
#define archive_write_add_filter_xz APPC_LAZY_CALL(archive, archive_write_add_filter_xz)
#define archive_write_close APPC_LAZY_CALL(archive, archive_write_close)
#define archive_write_data APPC_LAZY_CALL(archive, archive_write_data)
#define archive_write_free APPC_LAZY_CALL(archive, archive_write_free)
#define archive_write_header APPC_LAZY_CALL(archive, archive_write_header)
#define archive_write_new APPC_LAZY_CALL(archive, archive_write_new)
#define archive_write_open APPC_LAZY_CALL(archive, archive_write_open)
#define archive_write_set_bytes_in_last_block                                                      \
  APPC_LAZY_CALL(archive, archive_write_set_bytes_in_last_block)
#define archive_write_set_bytes_per_block APPC_LAZY_CALL(archive, archive_write_set_bytes_per_block)
#define archive_write_set_format_pax_restricted                                                    \
  APPC_LAZY_CALL(archive, archive_write_set_format_pax_restricted)
#define archive_write_set_format_raw APPC_LAZY_CALL(archive, archive_write_set_format_raw)
#endif

#endif
