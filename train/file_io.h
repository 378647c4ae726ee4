#pragma once
// Files that survive a crash: what the checkpoint, safetensors and log writers
// share. POSIX only (open/write/fsync/rename).
//
//   FileHandle           an open file descriptor, closed by its destructor (RAII)
//   write_file_durable   write bytes to a new file and fsync it (no rename)
//   write_file_atomic    write `path`.tmp, fsync it, rename it over `path`,
//                        fsync the directory: a crash leaves the old file or
//                        the new one, never half of either
//   fsync_dir            make a directory's entries (creates, renames) durable
//   read_file_bytes      a regular file's bytes, refusing anything larger than
//                        a cap (so /dev/zero or a FIFO cannot exhaust memory)
//   RecordFile           a log that grows by whole records only (TensorBoard
//                        events, JSON lines), whatever a failed write leaves
//   DirLock              one training process per log directory (flock)
//
// Why fsync twice: rename() is atomic, but only the data and the directory
// entry being on disk make it durable. Without the file's fsync the rename can
// reach the disk before the data (an empty "new" file after a power cut);
// without the directory's fsync the rename itself can be lost.
//
// Errors are lucid::Error naming the path and the system's reason, e.g.
//   "write_file_atomic: /logs/last.tmp: cannot open (Permission denied)".

#include <cstddef>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>

namespace lucid::train {

class FileHandle {
 public:
  FileHandle() = default;
  // Opens `path` with open(2) flags and mode; raises naming `who` and the path.
  FileHandle(const std::string& path, int flags, const char* who, unsigned mode = 0644);
  ~FileHandle();
  FileHandle(FileHandle&& other) noexcept;
  FileHandle& operator=(FileHandle&& other) noexcept;
  FileHandle(const FileHandle&) = delete;
  FileHandle& operator=(const FileHandle&) = delete;

  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  // Writes every byte (retrying short writes and EINTR); raises on failure
  // (ENOSPC, EFBIG, EIO...) naming the path.
  void write_all(std::string_view bytes, const char* who);
  void fsync(const char* who);
  // Closes now and reports a failed close (NFS reports write errors there).
  void close(const char* who);

 private:
  int fd_ = -1;
  std::string path_;
};

void write_file_durable(const std::string& path, std::string_view bytes);
void write_file_atomic(const std::string& path, std::string_view bytes);
void fsync_dir(const std::string& dir);

// A file that only grows by whole records. append() writes one record and
// hands it to the OS (no fsync: a killed process loses nothing the OS has). If
// a write fails part way (ENOSPC, EFBIG, EIO), the file is cut back to its last
// whole record and the error is raised: a record cut short would hide every
// later one from readers, which stop at the first incomplete record, so a
// later append, once there is room, still lands in a readable file. If even
// the cut fails, appends are refused from then on. Thread-safe.
class RecordFile {
 public:
  RecordFile() = default;
  RecordFile(const RecordFile&) = delete;
  RecordFile& operator=(const RecordFile&) = delete;

  // Opens `path` for appending (O_WRONLY | O_CREAT | O_APPEND | extra_flags,
  // e.g. O_EXCL); records already there count as whole.
  void open(const std::string& path, int extra_flags, const char* who);
  void append(std::string_view record, const char* who);
  void flush(const char* who);  // fsync; nothing once closed
  void close(const char* who);  // flush, then close; append() afterwards raises
  const std::string& path() const { return path_; }

 private:
  std::mutex mutex_;     // guards everything below
  std::string path_;
  FileHandle file_;      // fd() < 0 once closed
  uint64_t size_ = 0;    // bytes of whole records: where a failed write is cut back to
  bool broken_ = false;  // a failed write could not be cut back: refuse more
};

// An exclusive lock on a directory, held while the object lives: flock() on
// `<dir>/.lock`, which holds the owner's pid for the message another process
// gets. The kernel releases it when the process dies, SIGKILL included, so a
// crash never leaves a stale lock behind.
class DirLock {
 public:
  // Raises "<who>: <dir> is in use by another process (pid N)" when taken.
  DirLock(const std::string& dir, const char* who);
  DirLock(const DirLock&) = delete;
  DirLock& operator=(const DirLock&) = delete;

 private:
  FileHandle file_;
};

// Default cap of read_file_bytes: 16 GiB.
inline constexpr uint64_t kMaxReadBytes = uint64_t(16) << 30;
std::string read_file_bytes(const std::string& path, const char* who, uint64_t max_bytes = kMaxReadBytes);

}  // namespace lucid::train
